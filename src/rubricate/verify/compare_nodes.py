"""Comparing structures: whether two parsed answers (gold first) are equal, different, or undecided
(None, left to math-verify), each with the reason.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from rubricate.verify.answer_nodes import Assign, Choice, Decision, Expr, Node, Num, Rel, Seq, Text
from rubricate.verify.arithmetic import NotNumeric, Value, evaluate, tokens, variables
from rubricate.verify.numeric_identity import identity, proportional, same_curve
from rubricate.verify.parse_answer import canon, is_exact, parse

__all__ = ["REL_TOL", "cmp"]

REL_TOL = 1e-6


def _unwrap(n: Node) -> Node:
    while True:
        if isinstance(n, Assign):
            n = n.node
        elif isinstance(n, Seq) and n.kind in ("list", "set") and len(n.items) == 1:
            n = n.items[0]
        else:
            return n


def _values_equal(a: Value, b: Value, both_exact: bool) -> bool:
    r"""Exact values (3^13 - 3, 1/3) must match exactly; anything written or computed approximately
    (0.333333, \sqrt{2}, \pi) matches within a relative REL_TOL."""
    if isinstance(a, float) and math.isinf(a) or isinstance(b, float) and math.isinf(b):
        return a == b
    if a == b:
        return True
    if both_exact:
        return False
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return abs(a - b) <= Fraction(REL_TOL) * max(abs(a), abs(b))
    try:
        fa, fb = float(a), float(b)
    except OverflowError:  # a huge exact value next to a float: they cannot be within tolerance
        return False
    return abs(fa - fb) <= REL_TOL * max(abs(fa), abs(fb)) or abs(fa - fb) <= 1e-12


def _fmt(v: Value) -> str:
    if isinstance(v, Fraction):
        if len(str(v)) <= 24:
            return str(v)
        try:
            return f"{float(v):.6g}"
        except OverflowError:
            return f"~10^{len(str(abs(v.numerator))) - len(str(v.denominator))}"
    return f"{v:.6g}"


def _cmp_num(g: Num, p: Num) -> Decision:
    if g.unit and p.unit and g.unit != p.unit:
        if {g.unit, p.unit} != {"$", ""}:
            return False, f"different units: {g.unit} vs {p.unit}"
    ints = g.exact and p.exact
    unit_note = ""
    if p.unit and not g.unit:
        unit_note = " (answer's unit dropped)"
    elif g.unit and not p.unit:
        unit_note = " (unit left out)"
    if g.unit == "deg" and p.unit is None and not p.percent:
        if _values_equal(g.value, p.value, ints):
            return True, "numbers equal (degree sign left out)"
        if _values_equal(float(g.value) * math.pi / 180, p.value, False):
            return True, "degrees equal to radians"
        return False, f"numbers differ: {_fmt(g.value)} vs {_fmt(p.value)}"
    if g.unit is None and p.unit == "deg" and not g.percent:  # gold in radians, answer in degrees
        if _values_equal(g.value, p.value, ints):
            return True, "numbers equal (degree sign added)"
        if _values_equal(g.value, float(p.value) * math.pi / 180, False):
            return True, "radians equal to degrees"
        return False, f"numbers differ: {_fmt(g.value)} vs {_fmt(p.value)} degrees"
    if g.percent == p.percent:
        if _values_equal(g.value, p.value, ints):
            return True, ("percentages equal" if g.percent else "numbers equal") + unit_note
        rounded = _rounded_match(g, p)
        if rounded:
            return True, rounded + unit_note
        return False, f"numbers differ: {_fmt(g.value)} vs {_fmt(p.value)}"
    if g.percent:  # gold 28%: accept 28 (sign left out) and 0.28 (the fraction)
        if _values_equal(g.value, p.value, ints):
            return True, "percent sign left out"
        if _values_equal(g.value / 100, p.value, g.exact and p.exact):
            return True, "percent written as a fraction"
        return False, f"numbers differ: {_fmt(g.value)}% vs {_fmt(p.value)}"
    # answer has the percent sign, gold does not
    if _values_equal(g.value, p.value / 100, g.exact and p.exact):
        return True, "fraction written as a percent"
    if abs(float(g.value)) > 1 and _values_equal(g.value, p.value, ints):
        return True, "percent sign added"
    return False, f"numbers differ: {_fmt(g.value)} vs {_fmt(p.value)}%"


_MIN_SIGNIFICANT = 3  # 0.33 for 1/3 is too coarse to tell from 0.33; 85.71 for 600/7 is not


def _terminates(v: Value) -> bool:
    """Whether the exact value has a finite decimal expansion (then an exact gold is written exactly)."""
    if not isinstance(v, Fraction):
        return False
    d = v.denominator
    for f in (2, 5):
        while d % f == 0:
            d //= f
    return d == 1


def _within_half_unit(a: Value, b: Value, decimals: int) -> bool:
    try:
        return abs(float(a) - float(b)) <= 0.5 * 10.0 ** (-decimals) * (1 + 1e-9)
    except OverflowError:
        return False


def _rounded_match(g: Num, p: Num) -> str | None:
    """A number given approximately at the precision it states (issue 11): the answer 85.71 is 600/7
    rounded at its own 2 decimals; the gold 3.14 is pi rounded. Only when the exact side does not
    terminate (else it would be written exactly), with at least 3 significant digits, and rounded, not
    truncated (85.7142 is not 600/7 at 4 decimals)."""
    if p.decimals and (p.significant or 0) >= _MIN_SIGNIFICANT and g.decimals is None and not _terminates(g.value):
        if _within_half_unit(g.value, p.value, p.decimals):
            return f"the exact value rounded at the answer's {p.decimals} decimals"
    if g.decimals and (g.significant or 0) >= _MIN_SIGNIFICANT and p.decimals is None and not _terminates(p.value):
        if _within_half_unit(g.value, p.value, g.decimals):
            return f"the answer's exact value rounded at the gold's {g.decimals} decimals"
    return None


def _cmp_items_ordered(g: tuple[Node, ...], p: tuple[Node, ...]) -> Decision:
    if len(g) != len(p):
        return False, f"{len(g)} items vs {len(p)}"
    undecided = False
    for a, b in zip(g, p):
        eq, why = cmp(a, b)
        if eq is False:
            return False, why
        if eq is None:
            undecided = True
    return (None, "item undecided") if undecided else (True, "all items equal in order")


def _cmp_items_unordered(g: tuple[Node, ...], p: tuple[Node, ...]) -> Decision:
    if len(g) * len(p) > 2500:
        return None, "lists too long to match item by item"
    table = [[cmp(a, b)[0] for b in p] for a in g]
    g_ok = all(any(x is True for x in row) for row in table)
    p_ok = all(any(table[i][j] is True for i in range(len(g))) for j in range(len(p)))
    if g_ok and p_ok:
        return True, "same items (order ignored)"
    # a side item with no possible partner (every comparison decided False) settles it
    if any(all(x is False for x in row) for row in table) or any(
        all(table[i][j] is False for i in range(len(g))) for j in range(len(p))
    ):
        return False, "items differ"
    if len(g) != len(p) and all(x is not None for row in table for x in row):
        return False, f"{len(g)} items vs {len(p)}"
    return None, "items undecided"


def _cmp_seq(g: Seq, p: Seq) -> Decision:
    if g.kind == "matrix" or p.kind == "matrix":
        if g.kind != p.kind:
            return None, "matrix vs non-matrix"
        if len(g.items) != len(p.items):
            return False, "matrix shapes differ"
        return _cmp_items_ordered(g.items, p.items)
    if g.kind in ("interval", "tuple") and p.kind in ("interval", "tuple") and (g.kind == "interval" or p.kind == "interval"):
        if (g.open or "(") != (p.open or "(") or (g.close or ")") != (p.close or ")"):
            if len(g.items) == len(p.items) == 2:
                return False, f"interval brackets differ: {g.open}{g.close} vs {p.open}{p.close}"
        return _cmp_items_ordered(g.items, p.items)
    if g.kind == "interval" or p.kind == "interval":  # interval vs set/list
        other = p if g.kind == "interval" else g
        if all(isinstance(_unwrap(i), Num) for i in other.items):
            return False, "interval vs list of values"
        ug, up = _interval_union(g), _interval_union(p)
        if ug is not None and up is not None:
            return (True, "same union of intervals") if ug == up else (False, "different sets of numbers")
        return None, "interval vs list"
    ordered = g.kind == "tuple" or p.kind == "tuple"
    if not ordered and (any(isinstance(i, Text) for i in g.items) or any(isinstance(i, Text) for i in p.items)):
        ordered = True  # a list of names is usually an order (a ranking), not a set
    if not ordered and g.kind == "list" and p.kind == "list":
        named = _as_named(g), _as_named(p)
        if named[0] is not None and named[1] is not None:
            return _cmp_named(named[0], named[1])
    return _cmp_items_ordered(g.items, p.items) if ordered else _cmp_items_unordered(g.items, p.items)


def _interval_union(s: Seq) -> list[tuple[float, bool, float, bool]] | None:
    """A union of intervals with numeric ends as sorted, merged (lo, lo_closed, hi, hi_closed); None
    when any item is not such an interval."""
    items = [s] if s.kind == "interval" else list(s.items)
    spans = []
    for it in items:
        it = _unwrap(it)
        if not (isinstance(it, Seq) and it.kind in ("interval", "tuple") and len(it.items) == 2):
            return None
        lo_end, hi_end = (_unwrap(x) for x in it.items)
        if not (isinstance(lo_end, Num) and isinstance(hi_end, Num)):
            return None
        try:
            spans.append((float(lo_end.value), it.open == "[", float(hi_end.value), it.close == "]"))
        except OverflowError:
            return None
    spans.sort(key=lambda t: (t[0], not t[1]))
    merged: list[tuple[float, bool, float, bool]] = []
    for lo, lc, hi, hc in spans:
        if merged:
            plo, plc, phi, phc = merged[-1]
            if lo < phi or (lo == phi and (lc or phc)):
                if hi > phi or (hi == phi and hc):
                    merged[-1] = (plo, plc, hi, hc)
                continue
        merged.append((lo, lc, hi, hc))
    return merged


def _as_named(s: Seq) -> dict[str, Node] | None:
    assigns = [i for i in s.items if isinstance(i, Assign)]
    if len(assigns) != len(s.items):
        return None
    names = [a.name for a in assigns]
    if len(set(names)) != len(names):
        return None  # x = 1, x = 2: a list of solutions, compared as a list
    return {a.name: a.node for a in assigns}


def _cmp_named(g: dict[str, Node], p: dict[str, Node]) -> Decision:
    if set(g) != set(p):
        return None, "different names"
    undecided = False
    for k, v in g.items():
        eq, why = cmp(v, p[k])
        if eq is False:
            return False, f"{k}: {why}"
        undecided = undecided or eq is None
    return (None, "undecided") if undecided else (True, "same values by name")


def _same_value(a: str, b: str) -> bool | None:
    """Whether two sides (numbers or expressions) are the same function; None when unknown."""
    va, vb = evaluate(a), evaluate(b)
    if va is not None and vb is not None:
        return _values_equal(va, vb, is_exact(a, va) and is_exact(b, vb))
    if canon(a) == canon(b):
        return True
    return identity(a, b)[0]


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _cmp_rel(g: Rel, p: Rel) -> Decision:
    if g.canon == p.canon:
        return True, "same relation"
    p_sides, p_ops = p.sides, p.ops
    if g.ops != p.ops and tuple(_FLIP[o] for o in reversed(p.ops)) == g.ops:
        p_sides, p_ops = tuple(reversed(p.sides)), g.ops  # 5 >= x is x <= 5
    if g.ops != p_ops or len(g.sides) != len(p_sides):
        return None, "different relations"
    same = [_same_value(a, b) for a, b in zip(g.sides, p_sides)]
    if all(x is True for x in same):
        return True, "same sides"
    if g.ops == ("=",) and proportional(g, Rel(p_ops, p_sides, p.canon)):
        return True, "equations proportional (same solutions)"
    if g.ops == p_ops == ("=",):
        eq, why = same_curve(g, Rel(p_ops, p_sides, p.canon))
        if eq is not None:
            return eq, why
    if same.count(False) == 1 and all(x is True for x in same if x is not False):
        return False, "same relation except one side"
    return None, "relations differ in form"


def _equation_side(name: str) -> bool:
    """A left-hand side that is itself an expression in the variables: y, xy, \\ln y (not f(x) or a_n)."""
    if re.fullmatch(r"[A-Za-z]{1,3}", name):
        return True
    try:
        toks = tokens(name)
    except NotNumeric:
        return False
    return any(k == "func" for k, _ in toks) and bool(variables(toks))


def _as_rel(n: Node) -> Node:
    """y = 2x + 1 (an assignment to a plain variable, a product like xy, or \\ln y) as the equation it also is."""
    if isinstance(n, Assign) and _equation_side(n.written or n.name) and isinstance(n.node, (Expr, Num)):
        rhs = n.node.text if isinstance(n.node, Expr) else str(n.node.value)
        lhs = n.written or n.name
        if rhs:
            return Rel(("=",), (lhs, rhs), f"{n.name}={canon(rhs)}")
    return n


_BOUND_LABEL = re.compile(r"^(\\?[A-Za-z]+)(?:\(([A-Za-z])\)|_([A-Za-z]))$")


def _rename_bound(g: Node, p: Node) -> Node:
    """f(z) = z read as f(x) = x, a_k = 2k + 1 as a_n = 2n + 1: the argument of a function (or the index of
    a sequence) is bound, so its name is the answer's own choice."""
    if not (isinstance(g, Assign) and isinstance(p, Assign) and g.name != p.name):
        return p
    mg, mp = _BOUND_LABEL.match(g.name), _BOUND_LABEL.match(p.name)
    if not (mg and mp and mg.group(1) == mp.group(1)):
        return p
    old, new = mp.group(2) or mp.group(3), mg.group(2) or mg.group(3)
    if not isinstance(p.node, Expr) or not p.node.text:
        return Assign(g.name, p.node)
    text = re.sub(rf"(?<![A-Za-z\\]){old}(?![A-Za-z])", new, p.node.text)
    return Assign(g.name, parse(text, 1))


def _has_variables(n: Node) -> bool:
    return isinstance(n, Expr) and bool(re.search(r"[A-Za-z]", n.text))


def _equations_in_two_names(g: Node, p: Node) -> bool:
    return (
        isinstance(g, Assign) and isinstance(p, Assign) and g.name != p.name
        and _equation_side(g.written or g.name) and _equation_side(p.written or p.name)
        and (_has_variables(g.node) or _has_variables(p.node))
    )


def cmp(g: Node, p: Node) -> Decision:
    p = _rename_bound(g, p)
    if _equations_in_two_names(g, p):  # xy = 6 vs y = 6/x: equations, not two values under names
        g, p = _as_rel(g), _as_rel(p)
    if isinstance(g, Rel) != isinstance(p, Rel):  # 2x + 4y = 3 vs y = 3/4 - x/2
        g, p = _as_rel(g), _as_rel(p)
    g, p = _unwrap(g), _unwrap(p)
    if isinstance(g, Rel) or isinstance(p, Rel):
        if isinstance(g, Rel) and isinstance(p, Rel):
            return _cmp_rel(g, p)
        return None, "relation vs value"
    if isinstance(g, Expr) or isinstance(p, Expr):
        if isinstance(g, Expr) and isinstance(p, Expr):
            if g.canon == p.canon and g.canon:
                return True, "same expression"
            return identity(g.text, p.text)
        if isinstance(g, Expr):
            expr, other = g, p
        else:
            assert isinstance(p, Expr)  # one side is an Expr, by the test above
            expr, other = p, g
        if isinstance(other, Num) and not other.percent and other.unit is None:
            eq, why = identity(expr.text, "0")  # an expression with variables is not a number
            if eq is False and why.startswith("different variables"):
                return False, "a number vs an expression in " + why.split(": ")[1].split(" vs")[0].strip()
        return None, "expression"
    if isinstance(g, Num) and isinstance(p, Num):
        return _cmp_num(g, p)
    if isinstance(g, Choice) or isinstance(p, Choice):
        if isinstance(g, Choice) and isinstance(p, Choice):
            if g.letter != p.letter:
                return False, f"choice {p.letter} vs {g.letter}"
            if g.content and p.content and g.content != p.content:
                eq, _ = cmp(parse(g.content, 1), parse(p.content, 1))
                if eq is False:  # "C: 5" vs "C: 6": the answer quotes the option wrongly
                    return False, f"same letter {g.letter}, different option text"
                if eq is None:
                    return None, "same letter, option texts differ"
            return True, "same choice"
        if isinstance(g, Choice):
            return False, f"gold is choice {g.letter}; the answer is not a choice letter"
        return None, "choice vs value"
    if isinstance(g, Text) and isinstance(p, Text):
        if g.words == p.words:
            return True, "same text"
        if " " not in g.words and " " not in p.words and max(len(g.words), len(p.words)) <= 3:
            return None, "short tokens"  # 'ab' vs 'ba' may be a product of symbols
        return False, "different text"
    if isinstance(g, Seq) and isinstance(p, Seq):
        if g.loose_commas or p.loose_commas:
            eq, why = _cmp_seq(g, p)
            return (eq, why) if eq else (None, "decimal comma or list")
        return _cmp_seq(g, p)
    if isinstance(g, Seq) or isinstance(p, Seq):
        if isinstance(g, Seq):
            seq, other = g, p
        else:
            assert isinstance(p, Seq)  # one side is a Seq, by the test above
            seq, other = p, g
        if seq.loose_commas and isinstance(other, Num):
            # "1,22" against a single number: equal only when read with a decimal comma
            a, b = (_unwrap(i) for i in seq.items)
            if isinstance(a, Num) and isinstance(b, Num):
                digits = re.sub(r"\D", "", str(b.value))
                dec = Fraction(f"{abs(a.value)}.{digits}") * (-1 if a.value < 0 else 1)
                if _values_equal(dec, other.value, False) and not other.percent:
                    return True, "numbers equal (decimal comma)"
                return False, "neither the decimal-comma number nor the list matches"
        if seq.loose_commas:
            return None, "decimal comma or list"
        if seq.kind in ("list", "set") and isinstance(other, Num) and all(isinstance(_unwrap(i), Num) for i in seq.items):
            return False, f"{len(seq.items)} values vs one" + (" (several answers offered: a hedge or a list, not one answer)" if seq is p else "")
        if seq.kind in ("tuple", "interval", "matrix") and isinstance(other, Num):
            return False, f"{seq.kind} vs a number"
        return None, "list vs single value"
    if isinstance(g, Num) and isinstance(p, Text) or isinstance(g, Text) and isinstance(p, Num):
        return False, "number vs text"
    return None, "undecided"
