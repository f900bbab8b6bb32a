"""A small evaluator for LaTeX / plain arithmetic: exact (Fraction) for closed forms built from
integers, decimals, + - * / ^ and perfect roots; floats once \\pi, e, roots or functions enter.
With variables bound to numbers it also serves the randomised identity test (numeric_identity.py).

Sums and products with integer bounds (\\sum_{k=0}^{n-1} ...) are evaluated term by term. Sequences with
an index (a_{n-1}, or a_k under a sum over k) and function letters applied to an argument (f(2x)) have no
rule of their own: each stands for a fixed pseudo-random function of its index or argument, the same in
both answers. So f(x + x) and f(2x), or a sum whose index was renamed, agree at every point, and a
shifted index or bound does not.
"""

from __future__ import annotations

import math
import random
import re
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Union

__all__ = ["Domain", "Eval", "NotNumeric", "Tok", "Value", "bound_indices", "evaluate", "tokens", "too_large_to_compute", "variables"]

Value = Union[Fraction, float]

_GREEK = (
    "alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|rho|"
    "sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|Phi|Psi|Omega"
)
_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d{1,3}(?![\d.]))?|\.\d+)"
    rf"|(?P<var>(?:\\(?:{_GREEK})(?![A-Za-z])|[A-Za-z])(?:_(?:\{{[A-Za-z0-9]{{1,6}}\}}|[A-Za-z0-9]))?'*)"
    r"|(?P<cmd>\\[A-Za-z]+)"
    r"|(?P<op>\*\*|[-+*/^(){}\[\]|!_=])"
    r"|(?P<ws>\s+)"
    r"|(?P<bad>.)"
)
_FUNCS: dict[str, Callable[[float], float]] = {
    r"\sin": math.sin, r"\cos": math.cos, r"\tan": math.tan,
    r"\cot": lambda x: 1 / math.tan(x), r"\sec": lambda x: 1 / math.cos(x), r"\csc": lambda x: 1 / math.sin(x),
    r"\arcsin": math.asin, r"\arccos": math.acos, r"\arctan": math.atan,
    r"\sinh": math.sinh, r"\cosh": math.cosh, r"\tanh": math.tanh,
    r"\ln": math.log, r"\log": math.log, r"\exp": math.exp,
}
_INVERSE = {r"\sin": math.asin, r"\cos": math.acos, r"\tan": math.atan}
_FUNCTION_LETTERS = set("fghFGH")  # f(x) is an application, not f times x
_MAX_BITS = 4096
_BIG_OPERATORS = {r"\sum": "sum", r"\prod": "prod"}
_MAX_TERMS = 2_000  # terms of all sums and products in one evaluation; bounds above go to math-verify

Tok = tuple[str, str]


class NotNumeric(Exception):
    pass


class Domain(NotNumeric):
    """A valid expression evaluated outside its domain (division by zero, sqrt of a negative)."""


@lru_cache(maxsize=16384)
def tokens(s: str) -> tuple[Tok, ...]:
    out: list[Tok] = []
    for m in _TOKEN.finditer(s):
        kind, tok = m.lastgroup or "bad", m.group(0)
        if kind == "ws":
            continue
        if kind == "bad":
            raise NotNumeric(tok)
        if kind == "cmd":
            if tok in (r"\cdot", r"\times", r"\ast"):
                kind, tok = "op", "*"
            elif tok == r"\div":
                kind, tok = "op", "/"
            elif tok in _FUNCS:
                kind = "func"
            elif tok in (r"\binom", r"\dbinom", r"\tbinom"):
                tok = r"\binom"
            elif tok in _BIG_OPERATORS:
                kind = "big"
            elif tok == r"\limits":
                continue
            elif tok not in (r"\frac", r"\sqrt", r"\pi", r"\infty"):
                raise NotNumeric(tok)
        elif kind == "var" and tok == "e":
            kind = "const"
        elif kind == "var" and "_{" in tok:
            tok = tok.replace("_{", "_").replace("}", "")  # a_{1} is a_1
        elif tok == "**":
            tok = "^"
        out.append((kind, tok))
    for i, (_, tok) in enumerate(out):  # '=' only binds a sum's index: \sum_{k=0}
        if tok == "=" and (i < 4 or out[i - 4][0] != "big" or out[i - 1][0] != "var"):
            raise NotNumeric("=")
    return tuple(out)


def bound_indices(toks: tuple[Tok, ...]) -> frozenset[str]:
    """The index variables of the sums and products in toks (k of \\sum_{k=0})."""
    return frozenset(toks[i + 3][1] for i, (kind, _) in enumerate(toks) if kind == "big" and i + 4 < len(toks) and toks[i + 4][1] == "=")


def variables(toks: tuple[Tok, ...]) -> frozenset[str]:
    """The free variables: not a sum's index, not a sequence's or function's name, not a_k for an index k."""
    bound = bound_indices(toks)
    out = set()
    for i, (kind, tok) in enumerate(toks):
        if kind != "var" or tok in bound:
            continue
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if nxt == "_" or (nxt == "(" and tok in _FUNCTION_LETTERS):
            continue  # a_{n-1}, f(x): the name of a sequence or function
        head, _, index = tok.partition("_")
        if index and index in bound:
            continue
        out.add(tok)
    return frozenset(out)


def _pseudo_random(name: str, index: Value) -> float:
    """The value of sequence or function `name` at `index`: fixed, unrelated between indices, nonzero."""
    key = str(index) if isinstance(index, Fraction) else repr(round(float(index), 9))
    rng = random.Random(f"{name}|{key}")
    return rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 2.5)


class Eval:
    """expr := term (+|- term)*; term := unary ((*|/|implicit) unary)*; unary := -unary | power;
    power := atom (^ unary)?; atom := number | var | (expr) | {expr} | |expr| | \\frac g g | \\sqrt[n] g
    | \\pi | e | func[^p] arg. `env` binds variables; without it a variable is not numeric."""

    def __init__(self, toks: tuple[Tok, ...], env: dict[str, Value] | None = None) -> None:
        self.t = toks
        self.i = 0
        self.env = env
        self.bound: list[str] = []  # indices of the sums being evaluated, innermost last
        self.terms = 0

    def peek(self) -> Tok | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, tok: str | None = None) -> Tok:
        cur = self.peek()
        if cur is None or (tok is not None and cur[1] != tok):
            raise NotNumeric(f"expected {tok}")
        self.i += 1
        return cur

    def parse(self) -> Value:
        v = self.expr()
        if self.i != len(self.t):
            raise NotNumeric("trailing tokens")
        return v

    def expr(self) -> Value:
        v = self.term()
        while (p := self.peek()) is not None and p[1] in ("+", "-"):
            self.take()
            v = _arith(v, self.term(), p[1])
        return v

    def _starts_factor(self, p: Tok) -> bool:
        return p[0] in ("num", "var", "const", "func") or p[1] in ("(", "{", "[", r"\frac", r"\sqrt", r"\pi", r"\binom")

    def term(self) -> Value:
        v = self.unary()
        while (p := self.peek()) is not None:
            if p[1] in ("*", "/"):
                self.take()
                v = _arith(v, self.unary(), p[1])
            elif self._starts_factor(p):
                v = _arith(v, self.power(), "*")  # implicit product: 2\sqrt{3}, \frac{9}{4}\pi, 2xy
            else:
                break
        return v

    def unary(self) -> Value:
        p = self.peek()
        if p is not None and p[1] in ("-", "+"):
            self.take()
            v = self.unary()
            return -v if p[1] == "-" else v
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        while (p := self.peek()) is not None and p[1] == "!":
            self.take()
            base = _factorial(base)
        if (p := self.peek()) is not None and p[1] == "^":
            self.take()
            return _pow(base, self.exponent())
        return base

    def exponent(self) -> Value:
        p = self.peek()
        if p is not None and p[1] == "{":
            return self.group()
        if p is not None and p[1] in ("-", "+"):
            self.take()
            v = self.exponent()
            return -v if p[1] == "-" else v
        return self.atom()

    def group(self) -> Value:
        p = self.peek()
        if p is not None and p[1] == "{":
            self.take()
            v = self.expr()
            self.take("}")
            return v
        if p is not None and p[0] == "num" and len(p[1]) == 1:
            self.take()
            return Fraction(p[1])
        if p is not None and p[0] in ("var", "const"):
            return self.atom()
        raise NotNumeric("group")

    def func_arg(self) -> Value:
        """\\sin(x), \\sin{x}, \\sin x, \\sin 2x (a run of implicit factors)."""
        p = self.peek()
        if p is not None and p[1] in ("(", "{"):
            return self.atom()
        v = self.power()
        while (q := self.peek()) is not None and q[0] in ("num", "var", "const") or (q is not None and q[1] in (r"\pi", r"\sqrt", r"\frac")):
            v = _arith(v, self.power(), "*")
        return v

    def atom(self) -> Value:
        kind, tok = self.take()
        if kind == "num":
            return _number(tok)
        if kind == "var":
            nxt = self.peek()
            if nxt is not None and nxt[1] == "_":  # a_{n-1}
                self.take()
                return _pseudo_random(tok, self.group())
            if nxt is not None and nxt[1] == "(" and tok in _FUNCTION_LETTERS:  # f(2x)
                self.take()
                arg = self.expr()
                self.take(")")
                return _pseudo_random(tok + "()", arg)
            head, _, sub = tok.partition("_")
            if sub and sub in self.bound and self.env is not None:  # a_k under a sum over k
                return _pseudo_random(head, self.env[sub])
            if self.env is None or tok not in self.env:
                raise NotNumeric(f"variable {tok}")
            return self.env[tok]
        if kind == "big":
            return self.big_operator(_BIG_OPERATORS[tok])
        if kind == "const":
            return math.e
        if kind == "func":
            power: Value | None = None
            if (p := self.peek()) is not None and p[1] == "^":
                self.take()
                power = self.exponent()
            arg = float(self.func_arg())
            fn = _FUNCS[tok]
            if power is not None and power == -1 and tok in _INVERSE:
                fn, power = _INVERSE[tok], None
            try:
                v: Value = fn(arg)
            except (ValueError, OverflowError, ZeroDivisionError) as exc:
                raise Domain(str(exc)) from None
            return _check(v) if power is None else _pow(v, power)
        if tok == "(":
            v = self.expr()
            self.take(")")
            return v
        if tok == "{":
            v = self.expr()
            self.take("}")
            return v
        if tok == "|":
            v = self.expr()
            self.take("|")
            # abs() of a Fraction | float infers their join (object): take it per type
            return abs(v) if isinstance(v, Fraction) else abs(v)
        if tok == "[":
            v = self.expr()
            self.take("]")
            return v
        if tok == r"\binom":
            top = self.group()
            bottom = self.group()
            return _binom(top, bottom)
        if tok == r"\frac":
            num = self.group()
            den = self.group()
            return _arith(num, den, "/")
        if tok == r"\sqrt":
            index: Value = Fraction(2)
            if (q := self.peek()) is not None and q[1] == "[":
                self.take()
                index = self.expr()
                self.take("]")
            return _root(self.group(), index)
        if tok == r"\pi":
            return math.pi
        if tok == r"\infty":
            return math.inf
        raise NotNumeric(tok)

    def big_operator(self, op: str) -> Value:
        """\\sum_{k=lo}^{hi} body: body is the term after the bounds (products bind it, + and - end it), read
        again for each k. Bounds must be integers."""
        self.take("_")
        self.take("{")
        kind, index = self.take()
        if kind != "var":
            raise NotNumeric("sum index")
        self.take("=")
        lo = self.expr()
        self.take("}")
        self.take("^")
        hi = self.exponent()
        if not all(isinstance(v, Fraction) and v.denominator == 1 for v in (lo, hi)):
            raise NotNumeric("sum bounds are not integers")
        count = max(0, int(hi) - int(lo) + 1)
        self.terms += count
        if self.terms > _MAX_TERMS:
            raise NotNumeric("too many terms")
        if count == 0:
            raise NotNumeric("empty sum")  # its body is never read, so where it ends is unknown
        env = self.env = {} if self.env is None else self.env
        saved, start = env.get(index), self.i
        self.bound.append(index)
        acc: Value = Fraction(0 if op == "sum" else 1)
        try:
            for k in range(int(lo), int(hi) + 1):
                env[index] = Fraction(k)
                self.i = start
                acc = _arith(acc, self.term(), "+" if op == "sum" else "*")
        finally:
            self.bound.pop()
            if saved is None:
                env.pop(index, None)
            else:
                env[index] = saved
        return acc


def _factorial(v: Value) -> Value:
    if isinstance(v, Fraction) and v.denominator == 1 and 0 <= v <= 300:
        return Fraction(math.factorial(int(v)))
    x = float(v)
    if x < 0 and x == int(x) or x > 170:
        raise NotNumeric("factorial")
    return _check(math.gamma(x + 1))


def _binom(a: Value, b: Value) -> Value:
    if all(isinstance(v, Fraction) and v.denominator == 1 for v in (a, b)) and 0 <= b and a <= 10_000:
        return Fraction(math.comb(int(a), int(b))) if a >= 0 else _check(float(_binom_real(float(a), float(b))))
    return _check(_binom_real(float(a), float(b)))


def _binom_real(a: float, b: float) -> float:
    try:
        return math.gamma(a + 1) / (math.gamma(b + 1) * math.gamma(a - b + 1))
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise NotNumeric(str(exc)) from None


def _number(tok: str) -> Value:
    if len(tok) > 400:
        raise NotNumeric("too long")
    return Fraction(tok)


def _check(v: Value) -> Value:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        raise Domain("not finite")
    if isinstance(v, Fraction) and max(v.numerator.bit_length(), v.denominator.bit_length()) > _MAX_BITS:
        raise NotNumeric("too large")
    return v


def _arith(a: Value, b: Value, op: str) -> Value:
    try:
        if op == "+":
            return _check(a + b)
        if op == "-":
            return _check(a - b)
        if op == "*":
            return _check(a * b)
        if b == 0:
            raise Domain("division by zero")
        return _check(a / b)
    except (OverflowError, ZeroDivisionError) as exc:
        raise Domain(str(exc)) from None


def _pow(base: Value, exp: Value) -> Value:
    try:
        if isinstance(base, Fraction) and isinstance(exp, Fraction) and exp.denominator == 1:
            bits = max(base.numerator.bit_length(), base.denominator.bit_length())
            if abs(exp.numerator) * max(bits, 1) > _MAX_BITS:  # 9^{9^9} and friends never get computed
                raise NotNumeric("power too large")
            if base == 0 and exp < 0:
                raise Domain("division by zero")
            return _check(base**exp.numerator)
        if abs(float(exp)) > 1e4:
            raise NotNumeric("power too large")
        fb = float(base)
        if fb < 0 and float(exp) != int(float(exp)):
            raise Domain("complex power")
        return _check(fb ** float(exp))
    except (OverflowError, ZeroDivisionError) as exc:
        raise NotNumeric(str(exc)) from None


def _root(x: Value, index: Value) -> Value:
    if not (isinstance(index, Fraction) and index.denominator == 1 and 2 <= index <= 64):
        raise NotNumeric("root index")
    n = int(index)
    if isinstance(x, Fraction):
        if x < 0 and n % 2 == 0:
            raise Domain("negative root")
        sign = -1 if x < 0 else 1
        a = abs(x)
        rn = _int_root(a.numerator, n)
        rd = _int_root(a.denominator, n)
        if rn is not None and rd is not None:
            return sign * Fraction(rn, rd)
        return _check(sign * float(a) ** (1.0 / n))
    if x < 0:
        if n % 2 == 0:
            raise Domain("negative root")
        return -((-x) ** (1.0 / n))
    return _check(x ** (1.0 / n))


def _int_root(v: int, n: int) -> int | None:
    if v.bit_length() > _MAX_BITS:
        return None
    r = round(v ** (1.0 / n)) if v.bit_length() < 1000 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**n == v:
            return c
    return None


_MIXED = re.compile(r"^(-?)\s*(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}$")
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}


def evaluate(s: str) -> Value | None:
    """The numeric value of a closed arithmetic expression, or None when it is not one."""
    s = s.strip()
    if not s:
        return None
    m = _MIXED.match(s)
    if m:  # 2\frac{1}{2} is the mixed number 5/2, not 2 * 1/2
        whole, num, den = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if den and num < den:
            v = whole + Fraction(num, den)
            return -v if m.group(1) else v
    low = s.lower()
    if low in _NUMBER_WORDS:
        return Fraction(_NUMBER_WORDS[low])
    if s in (r"\infty", r"+\infty", "+ \\infty", "inf"):
        return math.inf
    if s in (r"-\infty", "- \\infty", "-inf"):
        return -math.inf
    try:
        toks = tokens(s)
        if not toks:
            return None
        return Eval(toks).parse()
    except (NotNumeric, ValueError, RecursionError, IndexError):
        return None


# -- values too large to compute -------------------------------------------------------------------

# sympy (under math-verify) computes integer powers and factorials exactly, at parse time: 9^{9^{9}} or
# (10!)! never return, and no signal can stop it off the main thread. Above these bounds an answer is
# never handed to it.
_HUGE_EXPONENT = 100_000
_HUGE_FACTORIAL = 5_000
_MAX_OPERATORS_CHECKED = 200
_MAX_POWER_DEPTH = 3  # x^{x^{x^{x}}} still goes to math-verify; taller towers take sympy seconds to forever
_POWER_TOKEN = re.compile(r"\^\s*\{|\^|[{}]")
_POWER_CHAIN = re.compile(r"(?:\^\s*(?:-?\w+|\\[A-Za-z]+)\s*){2,}")


def _power_depth(s: str) -> int:
    """How deeply exponents nest: 2 for 2^{2^{n}} and for e^{x^2}; a chain without braces (x^x^x, read
    as x^(x^x)) counts each link."""
    deepest = 0
    stack: list[bool] = []  # per open brace: whether it opened an exponent
    for m in _POWER_TOKEN.finditer(s):
        tok = m.group(0)
        if tok == "}":
            if stack:
                stack.pop()
        elif tok == "{":
            stack.append(False)
        else:
            deepest = max(deepest, sum(stack) + 1)
            if tok != "^":
                stack.append(True)
    links = max((c.group(0).count("^") for c in _POWER_CHAIN.finditer(s)), default=0)
    return max(deepest, links)
_LETTERS = re.compile(r"(?<!\\)[A-Za-z]")
_LATEX_WORDS = re.compile(r"\\[A-Za-z]+")


def _group_after(s: str, i: int) -> tuple[str, int] | None:
    """The '{...}' group starting at s[i] (content, index after it), or None when unbalanced."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
    return None


def _group_before(s: str, i: int) -> str | None:
    """The bracketed group ending at s[i] (')' or '}'), without its brackets, or None when unbalanced."""
    close = s[i]
    opening = {")": "(", "}": "{", "]": "["}[close]
    depth = 0
    for j in range(i, -1, -1):
        if s[j] == close:
            depth += 1
        elif s[j] == opening:
            depth -= 1
            if depth == 0:
                return s[j + 1 : i]
    return None


def _magnitude_unknown(text: str, limit: int) -> bool:
    """True when `text` is a closed numeric expression (no variables) whose value exceeds `limit` or
    cannot be computed within the evaluator's bounds (itself a huge value)."""
    value = evaluate(text)
    if value is not None:
        try:
            return abs(float(value)) > limit
        except OverflowError:
            return True
    has_variables = _LETTERS.search(_LATEX_WORDS.sub("", text)) is not None
    return not has_variables and bool(re.search(r"[\^!]", text))


def too_large_to_compute(s: str) -> str | None:
    """Why `s` holds a power or factorial too large to compute exactly (2^{2^{40}}, 9^{9^{9}}, ((10!)!)!),
    or None."""
    if s.count("^") + s.count("!") > _MAX_OPERATORS_CHECKED:  # each check scans a group: keep it bounded
        return f"more than {_MAX_OPERATORS_CHECKED} powers and factorials"
    depth = _power_depth(s)
    if depth > _MAX_POWER_DEPTH:
        return f"a tower of {depth} nested powers, too large to compute symbolically"
    n = len(s)
    for i, c in enumerate(s):
        if c == "^":
            j = i + 1
            while j < n and s[j] == " ":
                j += 1
            if j < n and s[j] == "{":
                group = _group_after(s, j)
                exponent = group[0] if group else s[j + 1 :]
            else:
                m = re.match(r"-?\d+(?:\.\d+)?", s[j:])
                exponent = m.group(0) if m else ""
                rest = s[j + len(exponent) :].lstrip()
                if exponent and rest.startswith("^"):  # 9^9^9: a tower without braces
                    exponent = s[j:]
            if exponent and _magnitude_unknown(exponent, _HUGE_EXPONENT):
                return f"a power too large to compute (exponent {exponent[:40]})"
        elif c == "!" and i > 0 and s[i - 1] != "\\" and not s.startswith("!=", i):
            prev = s[:i].rstrip()
            if not prev:
                continue
            if prev[-1] in ")}]":
                operand = _group_before(prev, len(prev) - 1)
            else:
                m = re.search(r"\d+$", prev)
                operand = m.group(0) if m else None
            if operand and _magnitude_unknown(operand, _HUGE_FACTORIAL):
                return f"a factorial too large to compute (the factorial of {operand[:40]})"
    return None
