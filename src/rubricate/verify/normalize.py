"""Normalisation of the written answer: a cheap textual clean-up shared by both sides (the string, not
its meaning): unicode and LaTeX spellings, delimiters, thousands separators, a box around the whole answer.
"""

from __future__ import annotations

import re
from typing import Callable

__all__ = ["normalize_answer", "repair_escapes"]

_UNICODE = str.maketrans(
    {
        "−": "-", "–": "-", "—": "-", "×": r"\times ", "÷": r"\div ", "·": r"\cdot ", "∞": r"\infty ",
        "≤": "<=", "≥": ">=", "⩽": "<=", "⩾": ">=", "≠": "!=", "π": r"\pi ", "∈": r"\in ", "∪": r"\cup ",
        "，": ",", "；": ";", "：": ":", "％": "%", "√": r"\sqrt ", "²": "^2", "³": "^3", "\u00a0": " ",
        "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "δ": r"\delta ", "ε": r"\varepsilon ", "θ": r"\theta ",
        "λ": r"\lambda ", "μ": r"\mu ", "ρ": r"\rho ", "σ": r"\sigma ", "φ": r"\varphi ", "ω": r"\omega ",
    }
)
# a replacement is a template or, for the unit vectors, a function of the match
_SUBS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?<!\\)\\\\(?=[A-Za-z{}%$])"), r"\\"),  # doubled backslashes from JSON-escaped sources
    (re.compile(r"\\[()\[\]]"), " "),  # \( \) \[ \] delimiters
    (re.compile(r"(?<!\\)\$"), " "),  # $ delimiters (an escaped \$ is currency, kept for now)
    (re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![A-Za-z])"), ""),
    (re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)\s*(?:\.|(?=[^A-Za-z]))"), ""),
    (re.compile(r"(?<=\d),\\!\s*(?=\d)"), ","),  # 11,\!111 thousands
    (re.compile(r"(?<=\d)\{\.\}(?=\d)"), "."),  # 3{.}5
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
    # "5 \text{ (or 3)}", "5 (or 3)": an alternative in parentheses is a second answer, not a unit
    (re.compile(r"(?:\\text\s*\{\s*)?\(\s*(or|and)\s+([^(){}]*)\)(?:\s*\})?", re.IGNORECASE), r" \1 \2"),
    (re.compile(r"(?:\\text\s*\{\s*)?\beither\s+(?:\}\s*)?", re.IGNORECASE), ""),
    (re.compile(r"\\(?:text|mathrm|textrm)\s*\{\s*(?:%|\\%|percent|pct)\s*\}"), "%"),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\^\s*\{\s*\\(?:circ|textcirc)\s*\}|\^\s*\\(?:circ|textcirc)(?![A-Za-z])|\\degree(?![A-Za-z])|°|\\circ(?![A-Za-z])"), " DEG "),
    (re.compile(r"\\(?:mathrm|text|mathit|rm)\s*\{\s*e\s*\}"), "e"),
    # unit vectors before bold markup goes: 3\mathbf{i} + 4\mathbf{j} is the vector (3, 4), not 3i + 4j
    (re.compile(r"\\(?:mathbf|boldsymbol|bm|hat|vec)\s*\{\s*([ijk])\s*\}|\\(?:hat|vec)\s+([ijk])(?![A-Za-z])"), lambda m: f" UNIT{m.group(1) or m.group(2)} "),
    (re.compile(r"\\(?:mathbf|boldsymbol|bm|mathbb)\s*\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\\langle(?![A-Za-z])"), "("),
    (re.compile(r"\\rangle(?![A-Za-z])"), ")"),
]
# 7,425,000 but not (12,102) (a pair) nor 0,111 (a decimal comma)
_THOUSANDS = re.compile(r"(?<![\d.,(\[{])([1-9]\d{0,2}(?:,\d{3})+)(?![\d,)\]}]|\.\d*,)")
_SPACE_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?: \d{3})+)(?![\d.]| ?,\d)")
# "x = k\\pi, k \\in \\mathbb{Z}", "\\{k\\pi \\mid k \\in \\mathbb{Z}\\}", "(n \\in Z)": the integer parameter's range is
# the convention, not part of the answer (\\mathbb is already stripped here).
_INTEGER_QUALIFIER = re.compile(
    r"(?<=\S)\s*(?:[,;]|\\mid|\|)?\s*(?:\\text\s*\{\s*(?:for|where|with)(?:\s+(?:all|any|some))?\s*\}\s*|\(\s*)?"
    r"[jklmn]\s*\\in\s*(?:Z|\{Z\})(?:\s*\))?"
)
_TRAILING_PUNCT = re.compile(r"(?:\s|[.;,:]|\\\.)+$")
_BOX = re.compile(r"^\\(?:boxed|fbox)\s*\{(.*)\}$", re.DOTALL)


# Logical connectives between numbers are list separators: "3 \lor 5" and "x = 3 \vee x = 5" give two
# answers (two solutions when gold lists them, a hedge when gold is one value). Between letters only
# ("p \wedge q") they are logic, left as written.
_CONNECTIVE = re.compile(r"\\(?:lor|vee)(?![A-Za-z])|\\(?:land|wedge)(?![A-Za-z])|∨|∧")


def _connective(m: re.Match[str]) -> str:
    return " or " if m.group(0) in ("\\lor", "\\vee", "∨") else " and "


# Escape damage in dataset golds: a JSON or Python string read "\\text" as a tab + "ext", "\\frac" as a form
# feed + "rac". Repaired only where the letters after the control character spell a LaTeX command.
_CONTROL_DAMAGE = re.compile(
    "(?<!\\\\)(?:\t(?=ext|imes|heta|an(?![a-z])|frac|ilde|riangle|au(?![a-z])|extbf|op(?![a-z]))"
    "|\f(?=rac(?![a-z]))|\x08(?=oxed|eta|inom|ar(?![a-z]))|\r(?=ight|ho(?![a-z])|angle|m(?![a-z]))"
    "|\x07(?=lpha|pprox)|\x0b(?=ec(?![a-z])|arepsilon|arphi))"
)


_CONTROL_LETTER = {"\t": "t", "\f": "f", "\x08": "b", "\r": "r", "\x07": "a", "\x0b": "v"}


def repair_escapes(text: str) -> str:
    """Undo unambiguous escape damage: a control character where a backslash and a letter were."""
    return _CONTROL_DAMAGE.sub(lambda m: "\\" + _CONTROL_LETTER[m.group(0)], text)


def normalize_answer(text: str) -> str:
    """Cheap textual normalisation shared by both sides (the string, not its meaning)."""
    s = repair_escapes(text).translate(_UNICODE).strip()
    if _CONNECTIVE.search(s) and re.search(r"\d", s):
        s = _CONNECTIVE.sub(_connective, s)
    for pattern, repl in _SUBS:
        s = pattern.sub(repl, s)
    s = " ".join(s.split())
    while True:  # a box around the whole answer
        m = _BOX.match(s)
        if not m or not _balanced_whole(m.group(1)):
            break
        s = m.group(1).strip()
    s = _INTEGER_QUALIFIER.sub("", s)
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
