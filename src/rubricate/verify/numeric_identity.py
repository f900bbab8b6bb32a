"""Expressions with variables compared by a randomised identity test: both are evaluated at the same
random points (fixed seed; integer values for n, m, k; exact arithmetic where possible).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from rubricate.verify.answer_nodes import Decision, Rel
from rubricate.verify.arithmetic import Domain, Eval, NotNumeric, Tok, Value, tokens, variables

__all__ = ["identity", "proportional", "same_curve"]

_IDENTITY_POINTS = 4
_INTEGER_NAMES = {"n", "m", "k", "N"}  # usually integers: (-1)^n, n! need integer values
_PARAMETER_NAMES = {"n", "m", "k", "j", "l"}  # integer parameters of solution families (x = k pi)


def _sample_env(names: list[str], rng: random.Random) -> dict[str, Value]:
    env: dict[str, Value] = {}
    for n in names:
        if n in _INTEGER_NAMES or n.split("_")[0] in _INTEGER_NAMES:
            env[n] = Fraction(rng.randint(6, 20))
        else:
            env[n] = rng.choice((-1.0, 1.0)) * rng.uniform(0.4, 2.4)
    return env


def identity(g_text: str, p_text: str) -> Decision:
    """Randomised identity test: evaluate both expressions at the same random points.

    Two different rational/elementary expressions agree at random points with probability ~0, so
    agreement at every point is taken as equality; one clear disagreement settles inequality. Points
    take both signs (sqrt(x^2) is not x); points outside an expression's domain are skipped. The
    seed is fixed: the verdict is deterministic.
    """
    try:
        tg, tp = tokens(g_text), tokens(p_text)
    except NotNumeric:
        return None, "expression"
    vg, vp = variables(tg), variables(tp)
    if not vg and not vp:
        return None, "expression"
    rng = random.Random(20240611)
    renamed = ""
    if vg != vp:
        mapping = _renaming(vg, vp)
        if mapping:
            tp = tuple((k, mapping.get(t, t)) if k == "var" else (k, t) for k, t in tp)
            vp = variables(tp)
            renamed = " (" + ", ".join(f"{b} read as {a}" for b, a in sorted(mapping.items())) + ")"
    if vg != vp:
        if _evaluates(tg, sorted(vg), rng) and _evaluates(tp, sorted(vp), rng):  # both real expressions
            return False, f"different variables: {', '.join(sorted(vg))} vs {', '.join(sorted(vp))}"
        return None, "expression"
    eq, why = _agree(tg, tp, sorted(vg), rng)
    return eq, why + renamed if eq else why


def _renaming(vg: frozenset[str], vp: frozenset[str]) -> dict[str, str] | None:
    """answer variable -> gold variable, when the two differ only in names that carry no meaning of their
    own: integer parameters (k pi vs n pi) or the case of a letter (a constant c vs C). Never a free
    variable for another (x^2 vs t^2 stays different: the problem named its variable)."""
    only_g, only_p = sorted(vg - vp), sorted(vp - vg)
    if len(only_g) != len(only_p) or len(only_g) > 2:
        return None
    if all(v in _PARAMETER_NAMES for v in only_g + only_p):
        if len(only_g) == 1:
            return {only_p[0]: only_g[0]}
        return None  # two parameters renamed at once: which is which is a guess
    by_case = {v.lower(): v for v in only_g}
    if len(by_case) == len(only_g) and all(v.lower() in by_case for v in only_p):
        return {v: by_case[v.lower()] for v in only_p}
    return None


def _agree(tg: tuple[Tok, ...], tp: tuple[Tok, ...], names: list[str], rng: random.Random) -> Decision:
    agree = nonzero = gold_only = 0
    for _ in range(4 * _IDENTITY_POINTS):
        env = _sample_env(names, rng)
        try:
            a = Eval(tg, env).parse()
        except (NotNumeric, OverflowError, ValueError, RecursionError):
            continue
        try:
            b = Eval(tp, env).parse()
        except Domain:
            gold_only += 1  # gold is defined here, the answer is not (a zero denominator, ...)
            continue
        except (NotNumeric, OverflowError, ValueError, RecursionError):
            return None, "expression"
        same = _close(a, b)
        if same is True:
            agree += 1
            nonzero += a != 0
            if agree >= _IDENTITY_POINTS and nonzero >= 2:
                return True, f"same value at {agree} random points"
        elif same is False:
            return False, "different values at a random point"
        else:
            return None, "nearly equal values"
    if gold_only >= _IDENTITY_POINTS and agree == 0:
        return False, "the answer is undefined where the gold answer is defined"
    return None, "expression"


def _close(a: Value, b: Value) -> bool | None:
    """Equal / different / too close to call, for two values of the identity test."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b  # integer-valued variables keep arithmetic exact: 2*3^39 - 1 is not 2*3^39 - 2
    try:
        fa, fb = float(a), float(b)
    except OverflowError:
        return None
    if not (math.isfinite(fa) and math.isfinite(fb)):
        return None
    diff, scale = abs(fa - fb), max(abs(fa), abs(fb))
    if diff <= 1e-9 * scale or diff <= 1e-15:
        return True
    if diff > 1e-6 * scale and diff > 1e-12:
        return False
    return None


def _evaluates(toks: tuple[Tok, ...], names: list[str], rng: random.Random) -> bool:
    for _ in range(8):
        try:
            Eval(toks, _sample_env(names, rng)).parse()
            return True
        except Domain:
            continue
        except (NotNumeric, OverflowError, ValueError, RecursionError):
            return False
    return False


def proportional(g: Rel, p: Rel) -> bool:
    """Equations L1 = R1 and L2 = R2 with L1 - R1 = c (L2 - R2), c a nonzero constant, have the same
    solutions (2x + 4y - 3 = 0 and x + 2y = 3/2)."""
    fg, fp = f"({g.sides[0]})-({g.sides[1]})", f"({p.sides[0]})-({p.sides[1]})"
    try:
        tg, tp = tokens(fg), tokens(fp)
    except NotNumeric:
        return False
    names = sorted(variables(tg) | variables(tp))
    if not names:
        return False
    rng = random.Random(20240612)
    ratios: list[float] = []
    for _ in range(16):
        env = _sample_env(names, rng)
        try:
            a, b = float(Eval(tg, env).parse()), float(Eval(tp, env).parse())
        except (NotNumeric, ZeroDivisionError, OverflowError, ValueError, RecursionError):
            continue
        if not (math.isfinite(a) and math.isfinite(b)) or abs(b) < 1e-9 or abs(a) < 1e-9:
            continue
        ratios.append(a / b)
        if len(ratios) >= _IDENTITY_POINTS:
            break
    if len(ratios) < _IDENTITY_POINTS:
        return False
    r0 = ratios[0]
    return all(abs(r - r0) <= 1e-9 * max(1.0, abs(r0)) for r in ratios)


_CURVE_XS = 16  # x values tried at most; a curve needs _IDENTITY_POINTS points (most find them in 4)
# y values where the sign of L - R is read (a root between two is bisected): geometric on both sides of 0,
# from 0.01 to about 800, so that small roots (e^{-4}) and large ones (e^{5}) are both seen.
_Y_GRID = sorted({0.0} | {sign * 0.01 * 1.12**k for k in range(100) for sign in (-1.0, 1.0)})
_BISECTIONS = 45


def _residual(toks: tuple[Tok, ...], x_name: str, y_name: str, x: float, y: float) -> float | None:
    try:
        v = float(Eval(toks, {x_name: x, y_name: y}).parse())
    except (NotNumeric, OverflowError, ValueError, ZeroDivisionError, RecursionError):
        return None
    return v if math.isfinite(v) else None


def _points_on(toks: tuple[Tok, ...], x_name: str, y_name: str, rng: random.Random) -> list[tuple[float, float]]:
    """Points (x, y) with L - R = 0: for random x, the sign changes of y -> L - R on a grid, bisected."""
    points: list[tuple[float, float]] = []
    for _ in range(_CURVE_XS):
        x = rng.choice((-1.0, 1.0)) * rng.uniform(0.4, 2.4)
        prev: tuple[float, float] | None = None
        for y in _Y_GRID:
            r = _residual(toks, x_name, y_name, x, y)
            if r is None:
                prev = None
                continue
            if r == 0:
                points.append((x, y))
            elif prev is not None and (prev[1] < 0) != (r < 0):
                lo, hi, flo = prev[0], y, prev[1]
                for _ in range(_BISECTIONS):
                    mid = (lo + hi) / 2
                    fm = _residual(toks, x_name, y_name, x, mid)
                    if fm is None:
                        break
                    if (fm < 0) == (flo < 0):
                        lo, flo = mid, fm
                    else:
                        hi = mid
                else:
                    points.append((x, (lo + hi) / 2))
            prev = (y, r)
        if len(points) >= _IDENTITY_POINTS:
            break
    return points


def _on_curve(toks: tuple[Tok, ...], x_name: str, y_name: str, points: list[tuple[float, float]]) -> bool | None:
    """Whether every point satisfies L - R = 0 (to within the scale of the terms); None when unknown."""
    for x, y in points:
        r = _residual(toks, x_name, y_name, x, y)
        if r is None:
            return None
        scale = max(1.0, abs(x), abs(y))
        if abs(r) > 1e-6 * scale:
            # a jump across a pole looks like a root to the scan: only a point where both sides are tame counts
            return False if abs(r) > 1e-3 * scale else None
    return True


def same_curve(g: Rel, p: Rel) -> Decision:
    """Two equations in the same two variables with the same solution set, sampled: points of each curve
    (found numerically) lie on the other. xy = 6 and y = 6/x; x = 2y and y = x/2; y = e^{2x} and ln y = 2x."""
    fg, fp = f"({g.sides[0]})-({g.sides[1]})", f"({p.sides[0]})-({p.sides[1]})"
    try:
        tg, tp = tokens(fg), tokens(fp)
    except NotNumeric:
        return None, "relations differ in form"
    names = sorted(variables(tg) | variables(tp))
    if len(names) != 2 or variables(tg) != variables(tp):
        return None, "relations differ in form"
    rng = random.Random(20240613)
    x_name, y_name = names
    pts_p = _points_on(tp, x_name, y_name, rng)
    if len(pts_p) < _IDENTITY_POINTS:
        return None, "relations differ in form"
    if _on_curve(tg, x_name, y_name, pts_p) is False:  # the common case, settled before the second scan
        return False, "a point of the answer's solution set is not a solution of the gold equation"
    pts_g = _points_on(tg, x_name, y_name, rng)
    if len(pts_g) < _IDENTITY_POINTS:
        return None, "relations differ in form"
    on_g, on_p = _on_curve(tg, x_name, y_name, pts_p), _on_curve(tp, x_name, y_name, pts_g)
    if on_g is True and on_p is True:
        return True, f"same solution set (sampled at {len(pts_p) + len(pts_g)} points of both curves)"
    if on_g is False or on_p is False:
        return False, "a point of one equation's solution set is not a solution of the other"
    return None, "relations differ in form"
