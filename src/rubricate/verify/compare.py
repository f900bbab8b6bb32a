"""Is a predicted final answer equivalent to the gold answer? Cheap rules first, math-verify last.

The cheap path turns each side into a small structure (number, choice letter, text, tuple / interval /
set / list, matrix, relation, or an expression) and decides when it safely can:

* Numbers are read exactly (``Fraction``) from integers, decimals, fractions, ``\\frac``, mixed numbers
  (``2\\frac{1}{2}`` = 5/2), scientific notation, ``\\binom``, ``n!`` and closed forms (``\\sqrt``,
  ``\\pi``, ``e``, ``\\sin``, ``\\ln``, ...). Two exact values (no decimal point, no float involved) must be
  equal exactly (``3^{13} - 3`` is not ``3^{13} - 4``); otherwise within a relative 1e-6 (1/3 == 0.3333333).
* Thousands separators (``7,425,000``, ``1 000``, ``14{,}916``, ``11,\\!111``) are removed; a comma with
  a space after it separates list items; ``1,22`` against a single number is read as a decimal comma.
* Units are stripped when both sides share them, when gold has none, or when the answer leaves out
  the gold's unit (problems state the unit; "15" for "15 cm^2" is the usual answer format). Different
  units on both sides ("2 m" vs "200 cm") are *not* converted: that is "incorrect" here, for the LLM
  verifier to look at. Degrees given without a unit may also match as radians (``90^\\circ`` == ``\\pi/2``).
* Percent: gold ``28%`` accepts ``28%``, ``28`` (the sign left out) and ``0.28`` (the same quantity as a
  fraction). Gold ``0.28`` accepts ``28%``. Gold ``28`` accepts ``28%`` only when the number is above 1:
  for gold ``0.5`` the answer ``0.5%`` is a different quantity if gold was a probability, so it is rejected.
* Text answers compare case-, article- and punctuation-insensitively (``\\text{Evelyn}`` == ``evelyn``).
* Choice letters compare by letter (``(B)``, ``\\text{(B)}``, ``B) 12``, ``Option B``); when both sides
  also quote the option's text and the texts differ ("C: 5" vs "C: 6"), they are not equal.
* Tuples and intervals are ordered (and brackets matter for intervals); sets, bare lists of solutions
  and unions of intervals are order-insensitive. ``x = 3``, ``(p, q) = (3, 2)`` and ``x \\in [0, 1)`` compare
  by their right-hand side; inequalities like ``-2 <= x < 7`` compare as intervals; ``\\pm`` expands.
* Expressions with variables are compared by a randomised identity test: both are evaluated at the same
  random points (fixed seed; integer values for n, m, k; exact arithmetic where possible). Equal at
  every point: equal; clearly different at one: different. Equations also match when one is a constant
  multiple of the other; relations with all sides but one equal are different.

Whatever the cheap path cannot decide goes to math-verify (``verify(gold, pred)``, gold first: it is not
symmetric), with a guard: math-verify can compare a fragment it parsed ("20 workers, 40 workers" vs
"20 workers, 41 workers"), so an "equivalent" for two answers written alike except for different
numbers is overruled. Parsed gold answers are cached (many traces share one gold). math-verify's own
timeouts use SIGALRM, which only works on a main thread: elsewhere it runs without them, and the
caller (the worker pool) enforces the hard limit.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Literal, Union

__all__ = ["Comparison", "MathVerifyTimeout", "answers_equivalent", "normalize_answer"]

REL_TOL = 1e-6
DEFAULT_MV_TIMEOUT_S = 5


@dataclass(frozen=True, slots=True)
class Comparison:
    equal: bool
    reason: str
    decided_by: Literal["rules", "math-verify"] = "rules"


class MathVerifyTimeout(Exception):
    """math-verify hit its own time limit: the verdict is an error, not 'incorrect'."""


# ================================================================================================
# Normalisation of the written answer
# ================================================================================================

_UNICODE = str.maketrans(
    {
        "−": "-", "–": "-", "—": "-", "×": r"\times ", "÷": r"\div ", "·": r"\cdot ", "∞": r"\infty ",
        "≤": "<=", "≥": ">=", "⩽": "<=", "⩾": ">=", "≠": "!=", "π": r"\pi ", "∈": r"\in ", "∪": r"\cup ",
        "，": ",", "；": ";", "：": ":", "％": "%", "√": r"\sqrt ", "²": "^2", "³": "^3", "\u00a0": " ",
        "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "δ": r"\delta ", "ε": r"\varepsilon ", "θ": r"\theta ",
        "λ": r"\lambda ", "μ": r"\mu ", "ρ": r"\rho ", "σ": r"\sigma ", "φ": r"\varphi ", "ω": r"\omega ",
    }
)
_SUBS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<!\\)\\\\(?=[A-Za-z{}%$])"), r"\\"),  # doubled backslashes from JSON-escaped sources
    (re.compile(r"\\[()\[\]]"), " "),  # \( \) \[ \] delimiters
    (re.compile(r"(?<!\\)\$"), " "),  # $ delimiters (an escaped \$ is currency, kept for now)
    (re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![A-Za-z])"), ""),
    (re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)\s*(?:\.|(?=[^A-Za-z]))"), ""),
    (re.compile(r"(?<=\d),\\!\s*(?=\d)"), ","),  # 11,\!111 thousands
    (re.compile(r"\s*\{\s*,\s*\}\s*"), ","),  # 14{,}916 thousands
    (re.compile(r"(?<!\\)\\(?:!|,|;|:|>|quad|qquad|enspace|thinspace)|(?<!\\)\\ |~"), " "),
    (re.compile(r"\\[dtc]frac(?![A-Za-z])"), r"\\frac"),
    (re.compile(r"\\frac\s*([0-9A-Za-z])\s*([0-9A-Za-z])"), r"\\frac{\1}{\2}"),
    (re.compile(r"\\frac\s*([0-9A-Za-z])\s*(?=\{)"), r"\\frac{\1}"),
    (re.compile(r"\\frac\s*(\{[^{}]*\})\s*([0-9A-Za-z])"), r"\\frac\1{\2}"),
    (re.compile(r"\\sqrt\s*([0-9A-Za-z])"), r"\\sqrt{\1}"),
    (re.compile(r"\\(?:geqslant|geq|ge)(?![A-Za-z])"), ">="),
    (re.compile(r"\\(?:leqslant|leq|le)(?![A-Za-z])"), "<="),
    (re.compile(r"\\(?:neq|ne)(?![A-Za-z])"), "!="),
    (re.compile(r"\\gt(?![A-Za-z])"), ">"),
    (re.compile(r"\\lt(?![A-Za-z])"), "<"),
    (re.compile(r"=>"), ">="),
    (re.compile(r"=<"), "<="),
    (re.compile(r"\\text\s*\{\s*(and|or)\s*\}", re.IGNORECASE), r" \1 "),
    (re.compile(r"\\(?:text|mathrm|textrm)\s*\{\s*(?:%|\\%|percent|pct)\s*\}"), "%"),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\^\s*\{\s*\\(?:circ|textcirc)\s*\}|\^\s*\\(?:circ|textcirc)(?![A-Za-z])|\\degree(?![A-Za-z])|°|\\circ(?![A-Za-z])"), " DEG "),
    (re.compile(r"\\(?:mathrm|text|mathit|rm)\s*\{\s*e\s*\}"), "e"),
    (re.compile(r"\\(?:mathbf|boldsymbol|bm|mathbb)\s*\{([^{}]*)\}"), r"\1"),
]
# 7,425,000 but not (12,102) (a pair) nor 0,111 (a decimal comma)
_THOUSANDS = re.compile(r"(?<![\d.,(\[{])([1-9]\d{0,2}(?:,\d{3})+)(?![\d,)\]}]|\.\d*,)")
_SPACE_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?: \d{3})+)(?![\d.]| ?,\d)")
_TRAILING_PUNCT = re.compile(r"(?:\s|[.;,:]|\\\.)+$")
_BOX = re.compile(r"^\\(?:boxed|fbox)\s*\{(.*)\}$", re.DOTALL)


def normalize_answer(text: str) -> str:
    """Cheap textual normalisation shared by both sides (the string, not its meaning)."""
    s = text.translate(_UNICODE).strip()
    for pattern, repl in _SUBS:
        s = pattern.sub(repl, s)
    s = " ".join(s.split())
    while True:  # a box around the whole answer
        m = _BOX.match(s)
        if not m or not _balanced_whole(m.group(1)):
            break
        s = m.group(1).strip()
    s = _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), s)
    s = _SPACE_THOUSANDS.sub(lambda m: m.group(1).replace(" ", ""), s)
    while s.endswith("}") and s.count("}") > s.count("{"):  # a stray closing brace ("[0, 1]}")
        s = s[:-1].rstrip()
    if 0 < s.count("{") - s.count("}") <= 3:  # an unclosed "\text{..." in a gold answer
        s += "}" * (s.count("{") - s.count("}"))
    s = _TRAILING_PUNCT.sub("", s)
    s = re.sub(r"\s*[.;,]\s*\}$", "}", s)  # "\text{ holds true.}"
    return s.strip()


def _balanced_whole(s: str) -> bool:
    depth = 0
    for c in s:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# ================================================================================================
# Structures
# ================================================================================================

Value = Union[Fraction, float]


@dataclass(frozen=True, slots=True)
class Num:
    value: Value
    exact: bool  # an exact value (no decimal point, no float): two exact values must be equal exactly
    percent: bool = False
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    letter: str
    content: str = ""  # the option's text when given with the letter ("C: 5", "(B) 12")


@dataclass(frozen=True, slots=True)
class Text:
    words: str


@dataclass(frozen=True, slots=True)
class Seq:
    kind: Literal["tuple", "interval", "set", "list", "matrix"]
    items: tuple["Node", ...]
    open: str = ""
    close: str = ""
    loose_commas: bool = False  # "1,22": maybe a decimal comma rather than a list


@dataclass(frozen=True, slots=True)
class Assign:
    name: str
    node: "Node"


@dataclass(frozen=True, slots=True)
class Rel:
    """An equation or inequality that is not an assignment or an interval: '2x + 4y = 3', 'x < 1 - a'."""

    ops: tuple[str, ...]
    sides: tuple[str, ...]
    canon: str


@dataclass(frozen=True, slots=True)
class Expr:
    canon: str
    text: str = ""  # the normalised answer, for the numeric identity test


Node = Union[Num, Choice, Text, Seq, Assign, Rel, Expr]

# ================================================================================================
# A small evaluator for LaTeX / plain arithmetic: exact (Fraction) for closed forms built from
# integers, decimals, + - * / ^ and perfect roots; floats once \pi, e, roots or functions enter.
# With variables bound to numbers it also serves the randomised identity test (_identity).
# ================================================================================================

_GREEK = (
    "alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|rho|"
    "sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|Phi|Psi|Omega"
)
_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d{1,3}(?![\d.]))?|\.\d+)"
    rf"|(?P<var>(?:\\(?:{_GREEK})(?![A-Za-z])|[A-Za-z])(?:_(?:\{{[A-Za-z0-9]{{1,6}}\}}|[A-Za-z0-9]))?'*)"
    r"|(?P<cmd>\\[A-Za-z]+)"
    r"|(?P<op>\*\*|[-+*/^(){}\[\]|!])"
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

Tok = tuple[str, str]


class _NotNumeric(Exception):
    pass


class _Domain(_NotNumeric):
    """A valid expression evaluated outside its domain (division by zero, sqrt of a negative)."""


@lru_cache(maxsize=16384)
def _tokens(s: str) -> tuple[Tok, ...]:
    out: list[Tok] = []
    for m in _TOKEN.finditer(s):
        kind, tok = m.lastgroup or "bad", m.group(0)
        if kind == "ws":
            continue
        if kind == "bad":
            raise _NotNumeric(tok)
        if kind == "cmd":
            if tok in (r"\cdot", r"\times", r"\ast"):
                kind, tok = "op", "*"
            elif tok == r"\div":
                kind, tok = "op", "/"
            elif tok in _FUNCS:
                kind = "func"
            elif tok in (r"\binom", r"\dbinom", r"\tbinom"):
                tok = r"\binom"
            elif tok not in (r"\frac", r"\sqrt", r"\pi", r"\infty"):
                raise _NotNumeric(tok)
        elif kind == "var" and tok == "e":
            kind = "const"
        elif kind == "var" and "_{" in tok:
            tok = tok.replace("_{", "_").replace("}", "")  # a_{1} is a_1
        elif tok == "**":
            tok = "^"
        out.append((kind, tok))
    return tuple(out)


def _variables(toks: tuple[Tok, ...]) -> frozenset[str]:
    return frozenset(t for k, t in toks if k == "var")


class _Eval:
    """expr := term (+|- term)*; term := unary ((*|/|implicit) unary)*; unary := -unary | power;
    power := atom (^ unary)?; atom := number | var | (expr) | {expr} | |expr| | \\frac g g | \\sqrt[n] g
    | \\pi | e | func[^p] arg. `env` binds variables; without it a variable is not numeric."""

    def __init__(self, toks: tuple[Tok, ...], env: dict[str, Value] | None = None) -> None:
        self.t = toks
        self.i = 0
        self.env = env

    def peek(self) -> Tok | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, tok: str | None = None) -> Tok:
        cur = self.peek()
        if cur is None or (tok is not None and cur[1] != tok):
            raise _NotNumeric(f"expected {tok}")
        self.i += 1
        return cur

    def parse(self) -> Value:
        v = self.expr()
        if self.i != len(self.t):
            raise _NotNumeric("trailing tokens")
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
        raise _NotNumeric("group")

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
            if self.env is None or tok not in self.env:
                raise _NotNumeric(f"variable {tok}")
            nxt = self.peek()
            if nxt is not None and nxt[1] == "(" and tok in _FUNCTION_LETTERS:
                raise _NotNumeric("function application")
            return self.env[tok]
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
                raise _Domain(str(exc)) from None
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
            return abs(v)
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
        raise _NotNumeric(tok)


def _factorial(v: Value) -> Value:
    if isinstance(v, Fraction) and v.denominator == 1 and 0 <= v <= 300:
        return Fraction(math.factorial(int(v)))
    x = float(v)
    if x < 0 and x == int(x) or x > 170:
        raise _NotNumeric("factorial")
    return _check(math.gamma(x + 1))


def _binom(a: Value, b: Value) -> Value:
    if all(isinstance(v, Fraction) and v.denominator == 1 for v in (a, b)) and 0 <= b and a <= 10_000:
        return Fraction(math.comb(int(a), int(b))) if a >= 0 else _check(float(_binom_real(float(a), float(b))))
    return _check(_binom_real(float(a), float(b)))


def _binom_real(a: float, b: float) -> float:
    try:
        return math.gamma(a + 1) / (math.gamma(b + 1) * math.gamma(a - b + 1))
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise _NotNumeric(str(exc)) from None


def _number(tok: str) -> Value:
    if len(tok) > 400:
        raise _NotNumeric("too long")
    return Fraction(tok)


def _check(v: Value) -> Value:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        raise _Domain("not finite")
    if isinstance(v, Fraction) and max(v.numerator.bit_length(), v.denominator.bit_length()) > _MAX_BITS:
        raise _NotNumeric("too large")
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
            raise _Domain("division by zero")
        return _check(a / b)
    except (OverflowError, ZeroDivisionError) as exc:
        raise _Domain(str(exc)) from None


def _pow(base: Value, exp: Value) -> Value:
    try:
        if isinstance(base, Fraction) and isinstance(exp, Fraction) and exp.denominator == 1:
            bits = max(base.numerator.bit_length(), base.denominator.bit_length())
            if abs(exp.numerator) * max(bits, 1) > _MAX_BITS:  # 9^{9^9} and friends never get computed
                raise _NotNumeric("power too large")
            if base == 0 and exp < 0:
                raise _Domain("division by zero")
            return _check(base**exp.numerator)
        if abs(float(exp)) > 1e4:
            raise _NotNumeric("power too large")
        fb = float(base)
        if fb < 0 and float(exp) != int(float(exp)):
            raise _Domain("complex power")
        return _check(fb ** float(exp))
    except (OverflowError, ZeroDivisionError) as exc:
        raise _NotNumeric(str(exc)) from None


def _root(x: Value, index: Value) -> Value:
    if not (isinstance(index, Fraction) and index.denominator == 1 and 2 <= index <= 64):
        raise _NotNumeric("root index")
    n = int(index)
    if isinstance(x, Fraction):
        if x < 0 and n % 2 == 0:
            raise _Domain("negative root")
        sign = -1 if x < 0 else 1
        a = abs(x)
        rn = _int_root(a.numerator, n)
        rd = _int_root(a.denominator, n)
        if rn is not None and rd is not None:
            return sign * Fraction(rn, rd)
        return _check(sign * float(a) ** (1.0 / n))
    if x < 0:
        if n % 2 == 0:
            raise _Domain("negative root")
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
        toks = _tokens(s)
        if not toks:
            return None
        return _Eval(toks).parse()
    except (_NotNumeric, ValueError, RecursionError, IndexError):
        return None


# ================================================================================================
# Parsing an answer into a structure
# ================================================================================================

_OPEN = {"(": ")", "[": "]", "{": "}"}
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
_LABEL_STRIP = re.compile(r"_\{(?:[^{}]|\{[^{}]*\})*\}|_\w|\\(?:angle|triangle|overline|overrightarrow|vec|frac|text|mathrm|operatorname|min|max|mid|left|right)(?![A-Za-z])|[{}\s']")
_LABEL_OK = re.compile(r"^[A-Za-z\\(),:|]+$")
_REL_OPS = re.compile(r"(<=|>=|!=|<|>)")
_SET_BUILDER = re.compile(r"^\s*[A-Za-z]\s*(?:\||\\mid)\s*(.+)$", re.DOTALL)
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
        return Num(value, _is_exact(s, value))
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
        return Num(value, _is_exact(core, value), pct, unit or None)
    text = _TEXT_WRAP.sub(r"\1", s).strip()
    if _TEXT_LIKE.match(text):
        words = [w for w in re.findall(r"[^\W\d_]+", text.lower())]
        if any(len(w) >= 2 for w in words) and not any(w in _MATH_WORDS for w in words):
            norm = " ".join(_ARTICLES.sub(" ", " ".join(words)).split())
            return Text(norm or " ".join(words))
    return _expr(s)


def _is_exact(s: str, v: Value) -> bool:
    """Exact when computed without floats from numbers written without a decimal point."""
    return isinstance(v, Fraction) and not re.search(r"\d\.|\.\d|\d[eE][-+]?\d", s)


def _expr(s: str) -> Expr:
    return Expr(_canon(s), s)


def _canon(s: str) -> str:
    c = _TEXT_WRAP.sub(r"\1", s)
    c = re.sub(r"\\(?:cdot|times|ast)(?![A-Za-z])|\*\*?", "*", c)
    c = re.sub(r"\s+", "", c)
    c = re.sub(r"([\^_])\{(\w)\}", r"\1\2", c)
    return c


def _relation_interval(s: str) -> Seq | None:
    """'-2 <= x < 7' -> [-2, 7); 'x > 5' -> (5, inf); '5 >= x' -> (-inf, 5]."""
    parts = _REL_OPS.split(s)
    if len(parts) not in (3, 5) or "!=" in parts:
        return None
    vals = [p.strip() for p in parts[0::2]]
    ops = parts[1::2]
    if len(vals) == 3:
        lo, var, hi = vals
        if not _is_label(var) or "|" in var:  # 1 <= |z| <= 2 is not an interval for z
            return None
        a, b = evaluate(lo), evaluate(hi)
        if a is None or b is None:
            return None
        if all(o in ("<", "<=") for o in ops):
            return Seq("interval", (Num(a, _is_exact(lo, a)), Num(b, _is_exact(hi, b))), "[" if ops[0] == "<=" else "(", "]" if ops[1] == "<=" else ")")
        if all(o in (">", ">=") for o in ops):
            return Seq("interval", (Num(b, _is_exact(hi, b)), Num(a, _is_exact(lo, a))), "[" if ops[1] == ">=" else "(", "]" if ops[0] == ">=" else ")")
        return None
    left, right = vals
    op = ops[0]
    if "|" in left or "|" in right:
        return None
    if _is_label(left) and (v := evaluate(right)) is not None:
        exact = _is_exact(right, v)
    elif _is_label(right) and (v := evaluate(left)) is not None:
        op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
        exact = _is_exact(left, v)
    else:
        return None
    inf = Num(math.inf, False)
    ninf = Num(-math.inf, False)
    if op in (">", ">="):
        return Seq("interval", (Num(v, exact), inf), "[" if op == ">=" else "(", ")")
    return Seq("interval", (ninf, Num(v, exact)), "(", "]" if op == "<=" else ")")


def _parse(s: str, depth: int = 0) -> Node:
    s = s.strip()
    if depth > 12:
        return _expr(s)
    # lists: ';' separates when present, else ',' and "and"/"or"/\cup
    if ";" in s:
        parts = _split_top(s, None, ";")
    else:
        parts = _split_top(s, _SPLIT_WORDS, ",")
    parts = [p for p in parts if p]
    if len(parts) > 1:
        nodes = [_parse(p, depth + 1) for p in parts]
        if ";" in s:  # "p=5,q=2; p=7,q=2": each group of assignments is one tuple of values
            nodes = [
                Seq("tuple", tuple(i.node for i in n.items)) if isinstance(n, Seq) and n.items and all(isinstance(i, Assign) for i in n.items) else n  # type: ignore[union-attr]
                for n in nodes
            ]
        items = _flatten(nodes)
        loose = bool(re.fullmatch(r"-?\d+,\d+", s))
        return Seq("list", tuple(items), loose_commas=loose)
    if not parts:
        return Expr("")
    s = parts[0]
    # x \in S
    m = _IN_SET.match(s)
    if m:
        return _parse(m.group(1), depth + 1)
    # assignments and computation chains: take the right-hand side
    eq = [p for p in _split_top(s, None, "=")]
    if len(eq) >= 2 and all(eq) and not re.search(r"[<>!]$", eq[0]):
        if _is_label(eq[0]):
            return Assign(_canon(eq[0]), _parse(_approx(eq[-1]), depth + 1))
        if len(eq) >= 3 or (evaluate(eq[0]) is not None and evaluate(_approx(eq[1])) is not None):
            return _parse(_approx(eq[-1]), depth + 1)  # a computation: (8*10-8)/3 = 24 states 24
        return _relation(s)
    if r"\approx" in s:
        return _parse(_approx(s), depth + 1)
    if _REL_OPS.search(s):
        interval = _relation_interval(s)
        return interval if interval is not None else _relation(s)
    # \pm expands to two solutions
    pm = _PM.findall(s)
    if len(pm) == 1:
        plus, minus = _PM.sub("+", s), _PM.sub("-", s)
        a, b = _parse(plus, depth + 1), _parse(minus, depth + 1)
        if isinstance(a, Num) and isinstance(b, Num):
            return Seq("list", (a, b))
        return _expr(s)
    m = _MATRIX.match(s)
    if m:
        rows = [r for r in re.split(r"\\\\", m.group(1)) if r.strip()]
        cells = tuple(Seq("tuple", tuple(_parse(c, depth + 1) for c in r.split("&"))) for r in rows)
        return Seq("matrix", cells)
    w = _wrapped(s)
    if w is not None:
        o, inner, c = w
        inner_parts = _split_top(inner, None, ";" if ";" in inner else ",")
        if len(inner_parts) == 1 and o in "([" and c in ")]" and o + c in ("()", "[]"):
            return _parse(inner, depth + 1)  # a bracketed single value
        if o == "{" and c == "}":
            m = _SET_BUILDER.match(inner)
            if m:  # {x | x < 1 or x > 2}: the condition says it
                cond = _parse(m.group(1), depth + 1)
                return cond if isinstance(cond, Seq) and cond.kind in ("interval", "list") else _expr(s)
            if "|" in inner or r"\mid" in inner:
                return _expr(s)
            items = _flatten([_parse(p, depth + 1) for p in inner_parts if p])
            return Seq("set", tuple(items), "{", "}")
        items = tuple(_parse(p, depth + 1) for p in inner_parts)
        has_inf = any(isinstance(i, Num) and isinstance(i.value, float) and math.isinf(i.value) for i in items)
        kind = "interval" if len(items) == 2 and (o == "[" or c == "]" or has_inf) else "tuple"
        return Seq(kind, items, o, c)  # type: ignore[arg-type]
    return _scalar(s)


_REL_SPLIT = re.compile(r"(<=|>=|!=|<|>|=)")


def _relation(s: str) -> Node:
    parts = _REL_SPLIT.split(s)
    sides = tuple(p.strip() for p in parts[0::2])
    ops = tuple(parts[1::2])
    if len(sides) < 2 or not all(sides) or any("," in x for x in sides):
        return _expr(s)
    return Rel(ops, sides, _canon(s))


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
    return _parse(normalize_answer(text))


# ================================================================================================
# Comparing structures
# ================================================================================================

Decision = tuple[Union[bool, None], str]


def _unwrap(n: Node) -> Node:
    while True:
        if isinstance(n, Assign):
            n = n.node
        elif isinstance(n, Seq) and n.kind in ("list", "set") and len(n.items) == 1:
            n = n.items[0]
        else:
            return n


def _values_equal(a: Value, b: Value, both_exact: bool) -> bool:
    """Exact values (3^13 - 3, 1/3) must match exactly; anything written or computed approximately
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
    if g.percent == p.percent:
        if _values_equal(g.value, p.value, ints):
            return True, ("percentages equal" if g.percent else "numbers equal") + unit_note
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


def _cmp_items_ordered(g: tuple[Node, ...], p: tuple[Node, ...]) -> Decision:
    if len(g) != len(p):
        return False, f"{len(g)} items vs {len(p)}"
    undecided = False
    for a, b in zip(g, p):
        eq, why = _cmp(a, b)
        if eq is False:
            return False, why
        if eq is None:
            undecided = True
    return (None, "item undecided") if undecided else (True, "all items equal in order")


def _cmp_items_unordered(g: tuple[Node, ...], p: tuple[Node, ...]) -> Decision:
    if len(g) * len(p) > 2500:
        return None, "lists too long to match item by item"
    table = [[_cmp(a, b)[0] for b in p] for a in g]
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
        lo, hi = (_unwrap(x) for x in it.items)
        if not (isinstance(lo, Num) and isinstance(hi, Num)):
            return None
        try:
            spans.append((float(lo.value), it.open == "[", float(hi.value), it.close == "]"))
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
    if not all(isinstance(i, Assign) for i in s.items):
        return None
    names = [i.name for i in s.items]  # type: ignore[union-attr]
    if len(set(names)) != len(names):
        return None  # x = 1, x = 2: a list of solutions, compared as a list
    return {i.name: i.node for i in s.items}  # type: ignore[union-attr]


def _cmp_named(g: dict[str, Node], p: dict[str, Node]) -> Decision:
    if set(g) != set(p):
        return None, "different names"
    undecided = False
    for k, v in g.items():
        eq, why = _cmp(v, p[k])
        if eq is False:
            return False, f"{k}: {why}"
        undecided = undecided or eq is None
    return (None, "undecided") if undecided else (True, "same values by name")


_IDENTITY_POINTS = 4
_INTEGER_NAMES = {"n", "m", "k", "N"}  # usually integers: (-1)^n, n! need integer values


def _sample_env(names: list[str], rng: random.Random) -> dict[str, Value]:
    env: dict[str, Value] = {}
    for n in names:
        if n in _INTEGER_NAMES or n.split("_")[0] in _INTEGER_NAMES:
            env[n] = Fraction(rng.randint(6, 20))
        else:
            env[n] = rng.choice((-1.0, 1.0)) * rng.uniform(0.4, 2.4)
    return env


def _identity(g_text: str, p_text: str) -> Decision:
    """Randomised identity test: evaluate both expressions at the same random points.

    Two different rational/elementary expressions agree at random points with probability ~0, so
    agreement at every point is taken as equality; one clear disagreement settles inequality. Points
    take both signs (sqrt(x^2) is not x); points outside an expression's domain are skipped. The
    seed is fixed: the verdict is deterministic.
    """
    try:
        tg, tp = _tokens(g_text), _tokens(p_text)
    except _NotNumeric:
        return None, "expression"
    vg, vp = _variables(tg), _variables(tp)
    if not vg and not vp:
        return None, "expression"
    rng = random.Random(20240611)
    if vg != vp:
        if _evaluates(tg, sorted(vg), rng) and _evaluates(tp, sorted(vp), rng):  # both real expressions
            return False, f"different variables: {', '.join(sorted(vg))} vs {', '.join(sorted(vp))}"
        return None, "expression"
    names = sorted(vg)
    agree = nonzero = gold_only = 0
    for _ in range(4 * _IDENTITY_POINTS):
        env = _sample_env(names, rng)
        try:
            a = _Eval(tg, env).parse()
        except (_NotNumeric, OverflowError, ValueError, RecursionError):
            continue
        try:
            b = _Eval(tp, env).parse()
        except _Domain:
            gold_only += 1  # gold is defined here, the answer is not (a zero denominator, ...)
            continue
        except (_NotNumeric, OverflowError, ValueError, RecursionError):
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
            _Eval(toks, _sample_env(names, rng)).parse()
            return True
        except _Domain:
            continue
        except (_NotNumeric, OverflowError, ValueError, RecursionError):
            return False
    return False


def _same_value(a: str, b: str) -> bool | None:
    """Whether two sides (numbers or expressions) are the same function; None when unknown."""
    va, vb = evaluate(a), evaluate(b)
    if va is not None and vb is not None:
        return _values_equal(va, vb, _is_exact(a, va) and _is_exact(b, vb))
    if _canon(a) == _canon(b):
        return True
    return _identity(a, b)[0]


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _proportional(g: Rel, p: Rel) -> bool:
    """Equations L1 = R1 and L2 = R2 with L1 - R1 = c (L2 - R2), c a nonzero constant, have the same
    solutions (2x + 4y - 3 = 0 and x + 2y = 3/2)."""
    fg, fp = f"({g.sides[0]})-({g.sides[1]})", f"({p.sides[0]})-({p.sides[1]})"
    try:
        tg, tp = _tokens(fg), _tokens(fp)
    except _NotNumeric:
        return False
    names = sorted(_variables(tg) | _variables(tp))
    if not names:
        return False
    rng = random.Random(20240612)
    ratios: list[float] = []
    for _ in range(16):
        env = _sample_env(names, rng)
        try:
            a, b = float(_Eval(tg, env).parse()), float(_Eval(tp, env).parse())
        except (_NotNumeric, ZeroDivisionError, OverflowError, ValueError, RecursionError):
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
    if g.ops == ("=",) and _proportional(g, Rel(p_ops, p_sides, p.canon)):
        return True, "equations proportional (same solutions)"
    if same.count(False) == 1 and all(x is True for x in same if x is not False):
        return False, "same relation except one side"
    return None, "relations differ in form"


def _as_rel(n: Node) -> Node:
    """y = 2x + 1 (an assignment to a plain variable) as the equation it also is."""
    if isinstance(n, Assign) and re.fullmatch(r"[A-Za-z]", n.name) and isinstance(n.node, (Expr, Num)):
        rhs = n.node.text if isinstance(n.node, Expr) else str(n.node.value)
        if rhs:
            return Rel(("=",), (n.name, rhs), f"{n.name}={_canon(rhs)}")
    return n


def _cmp(g: Node, p: Node) -> Decision:
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
            return _identity(g.text, p.text)
        expr = g if isinstance(g, Expr) else p
        other = p if expr is g else g
        if isinstance(other, Num) and not other.percent and other.unit is None:
            eq, why = _identity(expr.text, "0")  # an expression with variables is not a number
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
                eq, _ = _cmp(_parse(g.content, 1), _parse(p.content, 1))
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
        seq = g if isinstance(g, Seq) else p
        other = p if seq is g else g
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
            return False, f"{len(seq.items)} values vs one"
        if seq.kind in ("tuple", "interval", "matrix") and isinstance(other, Num):
            return False, f"{seq.kind} vs a number"
        return None, "list vs single value"
    if isinstance(g, Num) and isinstance(p, Text) or isinstance(g, Text) and isinstance(p, Num):
        return False, "number vs text"
    return None, "undecided"


# ================================================================================================
# math-verify, the slow path
# ================================================================================================


def _mv_timeout(requested: int | None | str) -> int | None:
    if threading.current_thread() is not threading.main_thread():
        return None  # SIGALRM only works on the main thread; the pool enforces the hard limit
    if requested == "auto":
        return DEFAULT_MV_TIMEOUT_S
    return None if requested is None else max(1, math.ceil(float(requested)))


def _mv_text(s: str) -> str:
    s = re.sub(r"(?<!\\)\\\\(?=[A-Za-z])", r"\\", s.strip())
    if "$" in s or "\\(" in s or "\\[" in s or "\\boxed" in s:
        return s
    return f"${s}$"


@lru_cache(maxsize=8192)
def _mv_parse_gold(text: str, timeout: int | None) -> tuple:
    return tuple(_mv_parse(text, timeout))


class _QuietTimeoutWarning(logging.Filter):
    """math-verify warns once per process that its timeout is off; here that is by design (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout is disabled")


@lru_cache(maxsize=1)
def _quiet_math_verify() -> None:
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(_QuietTimeoutWarning())


def _mv_parse(text: str, timeout: int | None) -> list:
    from math_verify import parse

    _quiet_math_verify()
    from math_verify.errors import TimeoutException

    try:
        return parse(text, parsing_timeout=timeout, raise_on_error=True)  # type: ignore[arg-type]
    except TimeoutException:
        raise MathVerifyTimeout(f"math-verify parse timed out after {timeout}s") from None
    except Exception:
        return []


_NUMBER_IN_TEXT = re.compile(r"\d+(?:\.\d+)?")


def _differs_only_in_numbers(gold: str, pred: str) -> str | None:
    """A guard on math-verify's "equivalent": it can compare a fragment of an answer it only partly
    parsed ("20 workers for tabletops, 40 for legs" vs "..., 41 for legs"). When both answers are
    written the same way except for their numbers, and the numbers differ (not just their order), the
    answers differ."""
    g, p = normalize_answer(gold), normalize_answer(pred)
    if _NUMBER_IN_TEXT.sub("#", g) != _NUMBER_IN_TEXT.sub("#", p):
        return None
    ng, np_ = _NUMBER_IN_TEXT.findall(g), _NUMBER_IN_TEXT.findall(p)
    if sorted(Fraction(x) for x in ng) == sorted(Fraction(x) for x in np_):
        return None
    diff = [(a, b) for a, b in zip(ng, np_) if Fraction(a) != Fraction(b)]
    return f"the answers differ only in numbers ({diff[0][0]} vs {diff[0][1]})" if diff else None


def _math_verify(gold: str, pred: str, timeout: int | None) -> Comparison:
    from math_verify import verify
    from math_verify.errors import TimeoutException

    g = _mv_parse_gold(_mv_text(gold), timeout)
    p = _mv_parse(_mv_text(pred), timeout)
    if not g or not p:
        return Comparison(False, "math-verify could not parse " + ("the gold answer" if not g else "the answer"), "math-verify")
    for gi in g:
        for pi in p:
            try:
                if verify(gi, pi, timeout_seconds=timeout, raise_on_error=True):  # type: ignore[arg-type]
                    suspicious = _differs_only_in_numbers(gold, pred)
                    if suspicious:
                        return Comparison(False, f"math-verify said equivalent, but {suspicious}", "math-verify")
                    return Comparison(True, "math-verify: equivalent", "math-verify")
            except TimeoutException:
                raise MathVerifyTimeout(f"math-verify verify timed out after {timeout}s") from None
            except Exception:
                continue
    return Comparison(False, "math-verify: not equivalent", "math-verify")


# ================================================================================================
# Public entry point
# ================================================================================================


def answers_equivalent(gold: str, pred: str, *, mv_timeout_s: int | None | str = "auto", use_math_verify: bool = True) -> Comparison:
    """Whether `pred` states the same answer as `gold`.

    mv_timeout_s: math-verify's own (SIGALRM) limit in seconds; "auto" = 5 s on the main thread.
    Off the main thread it is always None. Raises MathVerifyTimeout when math-verify hits that limit.
    """
    if gold.strip() == pred.strip() and gold.strip():
        return Comparison(True, "identical")
    ng, np_ = normalize_answer(gold), normalize_answer(pred)
    if ng == np_ and ng:
        return Comparison(True, "identical after normalisation")
    if not np_:
        return Comparison(False, "empty answer")
    eq, why = _cmp(parse_answer(gold), parse_answer(pred))
    if eq is not None:
        return Comparison(eq, why)
    if not use_math_verify:
        return Comparison(False, f"undecided by rules ({why})")
    return _math_verify(gold, pred, _mv_timeout(mv_timeout_s))
