"""Parsing an answer into a structure (answer_nodes.py): number (with percent / unit), choice letter,
text, tuple / interval / set / list, matrix, assignment, relation, or an expression.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Literal, TypedDict

from rubricate.verify.answer_nodes import Assign, Choice, Expr, Node, Num, Rel, Seq, Text
from rubricate.verify.arithmetic import Value, evaluate
from rubricate.verify.normalize import normalize_answer

__all__ = ["canon", "is_exact", "parse", "parse_answer"]

_SPLIT_WORDS = re.compile(r"\s+(?:and|or)\s+|\\cup(?![A-Za-z])|\\text\s*\{\s*(?:and|or|,)\s*\}", re.IGNORECASE)
_CHOICE = re.compile(
    r"^(?:\\text(?:bf)?\s*\{\s*)?(?:\(\s*([A-J])\s*\)|([A-J]))(?:\s*\})?$"
    r"|^(?:\(([A-J])\)|([A-J])[.):])\s+(?P<content>\S.*)$"
    r"|^(?:option|choice)\s*\(?([A-J])\)?$",
    re.IGNORECASE | re.DOTALL,
)
_TEXT_WRAP = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mbox|operatorname|emph)\s*\{([^{}]*)\}")
_TEXT_LIKE = re.compile(r"^[^\W\d_][^\W\d_\s'’.,!?-]*(?:[\s'’.,!?-]+[^\W\d_]+)*[.!?]?$")
_MATH_WORDS = {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "sqrt", "frac", "pi", "infty",
               "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "lim", "max", "min", "mod", "gcd", "lcm"}
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PCT_WORDS = re.compile(r"\s*(?:%|\bper\s*cent\b|\bpercentage\b|\bpercent\b|\bpct\b)\s*$", re.IGNORECASE)
_CURRENCY = re.compile(r"^(?:\\\$|\$|€|£|¥|Rs\.?|USD|EUR|INR)\s*|\s*(?:\\\$|\$|€|£|¥|USD|EUR|dollars?|cents?)$")
_UNIT_TEXT = re.compile(
    r"^(?P<core>.*?)\s*(?P<unit>(?:\\(?:text|textnormal|mbox|mathrm|textrm|textit|textbf|operatorname)\s*"
    r"\{[^{}]*\}(?:\s*\^\s*\{?-?\d\}?)?\s*)+)$"
)
_UNIT_WORD = re.compile(
    r"^(?P<core>.*?[\d})\].])(?P<sep>\s*)(?P<unit>[^\W\d_][^\W\d_]*(?:\s*(?:/|per)\s*[^\W\d_]+)?"
    r"(?:\s*\^\s*\{?-?[123]\}?)?(?:\s+[^\W\d_]+){0,2})$"
)
_KNOWN_UNITS = {
    "m", "cm", "mm", "km", "nm", "g", "kg", "mg", "s", "ms", "h", "hr", "hrs", "min", "mins", "sec", "l", "ml",
    "ft", "in", "yd", "mi", "lb", "lbs", "oz", "mph", "kph", "kmh", "k", "j", "kj", "n", "w", "kw", "v", "pa",
    "kpa", "atm", "mol", "hz", "cal", "kcal", "deg", "m/s", "km/h", "m/s^2", "cm^2", "cm^3", "m^2", "m^3",
    "km^2", "mm^2", "ft^2", "in^2",
}
_UNIT_SYNONYMS = {
    "meter": "m", "metre": "m", "centimeter": "cm", "centimetre": "cm", "millimeter": "mm", "kilometer": "km",
    "kilometre": "km", "second": "s", "sec": "s", "minute": "min", "hour": "h", "hr": "h", "gram": "g",
    "kilogram": "kg", "liter": "l", "litre": "l", "milliliter": "ml", "foot": "ft", "feet": "ft", "inch": "in",
    "inche": "in", "mile": "mi", "yard": "yd", "pound": "lb", "degree": "deg", "dollar": "$", "unit": "",
    "squareunit": "", "sqm": "m^2", "squaremeter": "m^2", "squarecentimeter": "cm^2",
}
# f(x), S(n), \varphi(p^a q^b): a function's name applied to anything (not x(x+1), a product)
_LABEL_APPLY = re.compile(r"^(?:\\[A-Za-z]+|[fghpquvwFGHPQSTVW])\s*\(.*\)$")
_LABEL_STRIP = re.compile(
    r"_\{(?:[^{}]|\{[^{}]*\})*\}|_\w"
    r"|\\(?:angle|triangle|overline|overrightarrow|vec|frac|text|mathrm|operatorname|min|max|mid|left|right)(?![A-Za-z])"
    r"|[{}\s']"
)
_LABEL_OK = re.compile(r"^[A-Za-z\\(),:|]+$")
_REL_OPS = re.compile(r"(<=|>=|!=|<|>)")
_SET_BUILDER = re.compile(r"^\s*[A-Za-z]\s*(?:\||\\mid|:)\s*(.+)$", re.DOTALL)
_IN_SET = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s*(.+)$", re.DOTALL)
_PM = re.compile(r"\\(?:pm|mp)(?![A-Za-z])")
_MATRIX = re.compile(
    r"^\\begin\{(?:[pbvBV]?matrix|array)\}(?:\{[^{}]*\})?((?:(?!\\begin|\\end).)*)\\end\{(?:[pbvBV]?matrix|array)\}$", re.DOTALL
)


def _split_top(s: str, seps: re.Pattern[str] | None, chars: str) -> list[str]:
    """Split at separators that are outside every bracket pair."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in "{}":
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            if c in chars:
                parts.append(s[start:i])
                start = i + 1
            elif seps is not None and c in " \\":
                m = seps.match(s, i)
                if m and m.end() > i:
                    parts.append(s[start:i])
                    start = m.end()
                    i = m.end()
                    continue
        i += 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


def _wrapped(s: str) -> tuple[str, str, str] | None:
    """(open, inner, close) when one bracket pair encloses the whole string."""
    if len(s) < 2:
        return None
    if s.startswith("\\{") and s.endswith("\\}"):
        inner, o, c = s[2:-2], "{", "}"
    elif s[0] in "([{" and s[-1] in ")]}":
        inner, o, c = s[1:-1], s[0], s[-1]
        if (o == "{") != (c == "}"):
            return None
    else:
        return None
    depth = 0
    for ch in inner:  # the opening bracket must stay open until the end
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return None
    return (o, inner, c) if depth == 0 else None


def _is_label(s: str) -> bool:
    s = s.strip()
    if not s or evaluate(s) is not None:
        return False
    if _LABEL_APPLY.match(s) and s.count("(") == 1 and s.count(")") == 1:
        return True
    return bool(_LABEL_OK.match(_LABEL_STRIP.sub("", s)))


def _norm_unit(u: str) -> str:
    u = _TEXT_WRAP.sub(r"\1", u)
    u = re.sub(r"[\s{}]", "", u).lower().replace("^", "")
    u = u.replace("²", "2").replace("³", "3")
    if len(u) > 3 and u.endswith("s") and not u.endswith("ss"):
        u = u[:-1]
    if u.endswith("es") and u[:-2] in _UNIT_SYNONYMS:
        u = u[:-2]
    return _UNIT_SYNONYMS.get(u, u)


def _split_unit(s: str) -> tuple[str, str | None]:
    m = _UNIT_TEXT.match(s)
    if m and m.group("core").strip():
        unit = _TEXT_WRAP.sub(r"\1", m.group("unit"))
        if re.search(r"[^\W\d_]", unit):
            return m.group("core").strip(), _norm_unit(unit)
    m = _UNIT_WORD.match(s)
    if m:
        unit = m.group("unit")
        low = unit.lower().replace(" ", "")
        first = re.match(r"[^\W\d_]+", unit)
        word = first.group(0).lower() if first else ""
        known = low in _KNOWN_UNITS or _norm_unit(unit) in _KNOWN_UNITS
        if word in _MATH_WORDS or word == "e":
            return s, None
        if known or (m.group("sep") and len(word) >= 3):
            return m.group("core").strip(), _norm_unit(unit)
    return s, None


def _scalar(s: str) -> Node:
    """A single answer that is not a list: number (with percent/unit), choice, text or expression."""
    value = evaluate(s)
    if value is not None:
        return Num(value, is_exact(s, value), **_precision(s))
    m = _CHOICE.match(s)
    if m:
        letter = next(g for g in m.groups()[:5] if g).upper()
        content = (m.group("content") or "").strip()
        return Choice(letter, content)
    core, pct = s, False
    m = _PCT_WORDS.search(core)
    if m:
        core, pct = core[: m.start()].strip(), True
    deg = False
    if "DEG" in core:
        core, deg = core.replace("DEG", " ").strip(), True
    core = _CURRENCY.sub("", core).strip()
    unit: str | None = "deg" if deg else None
    value = evaluate(core)
    if value is None and not deg:
        core2, unit = _split_unit(core)
        if unit is not None:
            core2 = _CURRENCY.sub("", core2).strip()
            m = _PCT_WORDS.search(core2)
            if m:
                core2, pct = core2[: m.start()].strip(), True
            value = evaluate(core2)
            core = core2
    if value is not None:
        return Num(value, is_exact(core, value), pct, unit or None, **_precision(core))
    text = _TEXT_WRAP.sub(r"\1", s).strip()
    if _TEXT_LIKE.match(text):
        words = [w for w in re.findall(r"[^\W\d_]+", text.lower())]
        if any(len(w) >= 2 for w in words) and not any(w in _MATH_WORDS for w in words):
            norm = " ".join(_ARTICLES.sub(" ", " ".join(words)).split())
            return Text(norm or " ".join(words))
    return _expr(s)


_DECIMAL = re.compile(r"^[-+]?(\d*)\.(\d+)$")


class _Precision(TypedDict, total=False):
    """Num's optional decimals / significant, passed on as keywords."""

    decimals: int
    significant: int


def _precision(s: str) -> _Precision:
    """decimals and significant digits of a number written as a plain decimal; nothing otherwise."""
    m = _DECIMAL.match(s.replace(" ", ""))
    if not m:
        return {}
    digits = (m.group(1) + m.group(2)).lstrip("0")
    return {"decimals": len(m.group(2)), "significant": len(digits)}


def is_exact(s: str, v: Value) -> bool:
    """Exact when computed without floats from numbers written without a decimal point."""
    return isinstance(v, Fraction) and not re.search(r"\d\.|\.\d|\d[eE][-+]?\d", s)


def _expr(s: str) -> Expr:
    return Expr(canon(s), s)


def canon(s: str) -> str:
    c = _TEXT_WRAP.sub(r"\1", s)
    c = re.sub(r"\\(?:cdot|times|ast)(?![A-Za-z])|\*\*?", "*", c)
    c = re.sub(r"\s+", "", c)
    c = re.sub(r"([\^_])\{(\w)\}", r"\1\2", c)
    return c


_ABS_VAR = re.compile(r"^\|\s*[A-Za-z]\s*\|$")


def _relation_interval(s: str) -> Seq | None:
    """'-2 <= x < 7' -> [-2, 7); 'x > 5' -> (5, inf); '5 >= x' -> (-inf, 5]."""
    parts = _REL_OPS.split(s)
    if len(parts) not in (3, 5) or "!=" in parts:
        return None
    vals = [p.strip() for p in parts[0::2]]
    ops = parts[1::2]
    if len(vals) == 3:
        lo, var, hi = vals
        if _ABS_VAR.match(var) and all(o in ("<", "<=") for o in ops):  # 1 <= |z| <= 2: two intervals
            a, b = evaluate(lo), evaluate(hi)
            if a is None or b is None or not 0 < a < b:
                return None
            # abs() of a Fraction | float infers their join (object): take it per type
            na, nb, pa, pb = (Num(x, is_exact(t, abs(x) if isinstance(x, Fraction) else abs(x)))
                              for x, t in ((-b, hi), (-a, lo), (a, lo), (b, hi)))
            lo_open, hi_open = ("[" if ops[0] == "<=" else "("), ("]" if ops[1] == "<=" else ")")
            return Seq("list", (Seq("interval", (na, nb), "[" if hi_open == "]" else "(", "]" if lo_open == "[" else ")"),
                                Seq("interval", (pa, pb), lo_open, hi_open)))
        if not _is_label(var) or "|" in var:  # |z| < 2 < 3 and the like: not an interval for z
            return None
        a, b = evaluate(lo), evaluate(hi)
        if a is None or b is None:
            return None
        if all(o in ("<", "<=") for o in ops):
            return Seq("interval", (Num(a, is_exact(lo, a)), Num(b, is_exact(hi, b))), "[" if ops[0] == "<=" else "(", "]" if ops[1] == "<=" else ")")
        if all(o in (">", ">=") for o in ops):
            return Seq("interval", (Num(b, is_exact(hi, b)), Num(a, is_exact(lo, a))), "[" if ops[1] == ">=" else "(", "]" if ops[0] == ">=" else ")")
        return None
    left, right = vals
    op = ops[0]
    absolute = _ABS_VAR.match(left)
    if absolute and (v := evaluate(right)) is not None and v > 0:  # |x| <= 3 is [-3, 3]; |x| > 3 two half lines
        neg, pos = Num(-v, is_exact(right, v)), Num(v, is_exact(right, v))
        inf, ninf = Num(math.inf, False), Num(-math.inf, False)
        if op in ("<", "<="):
            return Seq("interval", (neg, pos), "[" if op == "<=" else "(", "]" if op == "<=" else ")")
        return Seq("list", (Seq("interval", (ninf, neg), "(", "]" if op == ">=" else ")"), Seq("interval", (pos, inf), "[" if op == ">=" else "(", ")")))
    if "|" in left or "|" in right:
        return None
    if _is_label(left) and (v := evaluate(right)) is not None:
        exact = is_exact(right, v)
    elif _is_label(right) and (v := evaluate(left)) is not None:
        op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
        exact = is_exact(left, v)
    else:
        return None
    inf = Num(math.inf, False)
    ninf = Num(-math.inf, False)
    if op in (">", ">="):
        return Seq("interval", (Num(v, exact), inf), "[" if op == ">=" else "(", ")")
    return Seq("interval", (ninf, Num(v, exact)), "(", "]" if op == "<=" else ")")


def parse(s: str, depth: int = 0) -> Node:
    s = s.strip()
    if depth > 12:
        return _expr(s)
    labelled = _labelled_values(s) if depth == 0 and _ratio(s) is None else None
    if labelled is not None:
        return labelled
    # lists: ';' separates when present, else ',' and "and"/"or"/\cup
    # ';' separates when it stands between items; '(0;0;0),(0;-2;0)' has it only inside: ',' separates there
    by_semicolon = _split_top(s, None, ";") if ";" in s else [s]
    semicolons = len(by_semicolon) > 1
    parts = by_semicolon if semicolons else _split_top(s, _SPLIT_WORDS, ",")
    parts = [p for p in parts if p]
    if len(parts) > 1:
        nodes = [parse(p, depth + 1) for p in parts]
        if semicolons:  # "p=5,q=2; p=7,q=2": each group of assignments is one tuple of values
            nodes = [
                # the isinstance in the generator only narrows: every item is an Assign by then
                Seq("tuple", tuple(i.node for i in n.items if isinstance(i, Assign)))
                if isinstance(n, Seq) and n.items and all(isinstance(i, Assign) for i in n.items) else n
                for n in nodes
            ]
        items = _flatten(nodes)
        loose = bool(re.fullmatch(r"-?\d+,\d+", s))
        return Seq("list", tuple(items), loose_commas=loose)
    if not parts:
        return Expr("")
    s = parts[0]
    builder = _set_builder(s, depth)
    if builder is not None:
        return builder
    # x \in S
    m = _IN_SET.match(s)
    if m:
        return parse(m.group(1), depth + 1)
    # assignments and computation chains: take the right-hand side
    eq = [p for p in _split_top(s, None, "=")]
    if len(eq) >= 2 and all(eq) and not re.search(r"[<>!]$", eq[0]):
        if _is_label(eq[0]):
            return Assign(canon(eq[0]), parse(_approx(eq[-1]), depth + 1), eq[0])
        if len(eq) >= 3 or (evaluate(eq[0]) is not None and evaluate(_approx(eq[1])) is not None):
            return parse(_approx(eq[-1]), depth + 1)  # a computation: (8*10-8)/3 = 24 states 24
        return _relation(s)
    if r"\approx" in s:
        return parse(_approx(s), depth + 1)
    if _REL_OPS.search(s):
        interval = _relation_interval(s)
        return interval if interval is not None else _relation(s)
    # \pm expands to two solutions
    pm = _PM.findall(s)
    if len(pm) == 1:
        plus, minus = _PM.sub("+", s), _PM.sub("-", s)
        a, b = parse(plus, depth + 1), parse(minus, depth + 1)
        if isinstance(a, Num) and isinstance(b, Num):
            return Seq("list", (a, b))
        return _expr(s)
    ratio = _ratio(s)
    if ratio is not None:
        return ratio
    m = _MATRIX.match(s)
    if m:
        return _matrix(m.group(1), depth)
    unit = _unit_vector(s, depth)
    if unit is not None:
        return unit
    w = _wrapped(s)
    if w is not None:
        o, inner, c = w
        inner_parts = _split_top(inner, None, ";" if ";" in inner else ",")
        if len(inner_parts) == 1 and o in "([" and c in ")]" and o + c in ("()", "[]"):
            return parse(inner, depth + 1)  # a bracketed single value
        if o == "{" and c == "}":
            if "|" in inner or r"\mid" in inner:
                return _expr(s)
            items = _flatten([parse(p, depth + 1) for p in inner_parts if p])
            return Seq("set", tuple(items), "{", "}")
        elements = tuple(parse(p, depth + 1) for p in inner_parts)
        has_inf = any(isinstance(i, Num) and isinstance(i.value, float) and math.isinf(i.value) for i in elements)
        kind: Literal["interval", "tuple"] = "interval" if len(elements) == 2 and (o == "[" or c == "]" or has_inf) else "tuple"
        return Seq(kind, elements, o, c)
    return _scalar(s)


_REL_SPLIT = re.compile(r"(<=|>=|!=|<|>|=)")


_RATIO = re.compile(r"^([^:]+?)\s*(?::|\\colon(?![A-Za-z])|\\text\s*\{\s*to\s*\})\s*([^:]+)$")


def _ratio(s: str) -> Num | None:
    """'6:8', '2 \\colon 3', '3 \\text{ to } 1': a ratio of two numbers is the number a/b (2:1 is 2)."""
    m = _RATIO.match(s)
    if not m:
        return None
    a, b = evaluate(m.group(1)), evaluate(m.group(2))
    if a is None or b is None or b == 0:
        return None
    try:
        value = a / b
    except (OverflowError, ZeroDivisionError):
        return None
    return Num(value, is_exact(m.group(1), a) and is_exact(m.group(2), b))


_LABEL_WORDS = re.compile(r"\\text\s*\{([^{}]*)\}|[^\W\d_]{2,}")
_SEPARATORS = re.compile(r"[\s,;:()]+")


def _labelled_values(s: str) -> Seq | None:
    """'7 goats and 4 helicopters', '\\text{Minimum: } 1, \\text{ Maximum: } 3': numbers with words around
    them (labels, counted objects) are the tuple of the numbers, in order (the labels give the order)."""
    if not re.search(r"[^\W\d_]{2,}", s) or re.search(r"[=<>^_|]|\\(?!text\b)[A-Za-z]", s):
        return None
    words: list[str] = []

    def drop(m: re.Match[str]) -> str:
        words.extend(w.lower() for w in re.findall(r"[^\W\d_]+", m.group(1) if m.group(1) is not None else m.group(0)))
        return " , "

    rest = _LABEL_WORDS.sub(drop, s)
    if not words or all(w in ("and", "or") for w in words) or any(w in _MATH_WORDS for w in words):
        return None
    if re.search(r"(?<![\d.])[A-Za-z](?![A-Za-z])", rest):  # a variable left: not just labelled numbers
        return None
    items = [t for t in _SEPARATORS.split(rest) if t]
    values = [v for t in items if (v := evaluate(t)) is not None]
    if len(items) < 2 or len(values) != len(items):  # a part that is no number
        return None
    return Seq("tuple", tuple(Num(v, is_exact(t, v), **_precision(t)) for t, v in zip(items, values)))


def _set_builder(s: str, depth: int) -> Node | None:
    """{x | -1 < x < 1}, {x : x > 2}: the condition says it (an interval or a union); else an expression."""
    w = _wrapped(s)
    if w is None or w[0] != "{":
        return None
    m = _SET_BUILDER.match(w[1])
    if not m:
        return None
    cond = parse(m.group(1), depth + 1)
    return cond if isinstance(cond, Seq) and cond.kind in ("interval", "list") else _expr(s)


_MATRIX_CELLS = re.compile(r"\\\\")


def _matrix(body: str, depth: int) -> Seq:
    """A matrix; one row or one column is a vector, compared as the tuple of its entries."""
    rows = [r for r in _MATRIX_CELLS.split(body) if r.strip()]
    cells = [[parse(c, depth + 1) for c in r.split("&")] for r in rows]
    if len(cells) == 1 or all(len(r) == 1 for r in cells):
        return Seq("tuple", tuple(c for r in cells for c in r), "(", ")")
    return Seq("matrix", tuple(Seq("tuple", tuple(r)) for r in cells))


_UNIT_TERM = re.compile(r"\s*([+-]?[^+\-]*?)\s*UNIT([ijk])\s*")


def _unit_vector(s: str, depth: int) -> Seq | None:
    """3\\mathbf{i} + 4\\mathbf{j} (unit vectors marked by normalisation) as the tuple (3, 4)."""
    if "UNIT" not in s:
        return None
    coef: dict[str, Node] = {}
    pos = 0
    for m in _UNIT_TERM.finditer(s):
        if m.start() != pos or m.group(2) in coef:
            return None
        text = m.group(1).replace(" ", "")
        text = {"": "1", "+": "1", "-": "-1"}.get(text, text)
        coef[m.group(2)] = parse(text, depth + 1)
        pos = m.end()
    if pos != len(s) or not coef:
        return None
    axes = "ijk" if "k" in coef else "ij"
    return Seq("tuple", tuple(coef.get(a, Num(Fraction(0), True)) for a in axes), "(", ")")


def _relation(s: str) -> Node:
    parts = _REL_SPLIT.split(s)
    sides = tuple(p.strip() for p in parts[0::2])
    ops = tuple(parts[1::2])
    if len(sides) < 2 or not all(sides) or any("," in x for x in sides):
        return _expr(s)
    return Rel(ops, sides, canon(s))


def _approx(s: str) -> str:
    """'1/3 \\approx 0.33' -> '1/3' (the exact value); 'x \\approx 11' -> '11'."""
    parts = [p.strip() for p in s.split(r"\approx")]
    if len(parts) == 1:
        return s
    if _is_label(parts[0]) or not parts[0]:
        return parts[-1]
    if evaluate(parts[0]) is not None:
        return parts[0]  # the exact value
    return s  # not a value and its approximation: keep the whole statement


def _flatten(items: list[Node]) -> list[Node]:
    out: list[Node] = []
    for it in items:
        if isinstance(it, Seq) and it.kind == "list":
            out.extend(it.items)
        else:
            out.append(it)
    return out


@lru_cache(maxsize=16384)
def parse_answer(text: str) -> Node:
    """The structure of one written answer (cached: gold answers repeat, and so do short predictions)."""
    return parse(normalize_answer(text))
