"""What a parsed answer is: the node types (number, choice letter, text, tuple / interval / set / list /
matrix, assignment, relation, expression) and the verdicts of comparing two answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from rubricate.verify.arithmetic import Value

__all__ = ["Assign", "Choice", "Comparison", "Decision", "Expr", "Node", "Num", "Rel", "Seq", "Text"]


@dataclass(frozen=True, slots=True)
class Comparison:
    equal: bool
    reason: str
    decided_by: Literal["rules", "math-verify"] = "rules"


# (equal, reason) while comparing structures; None = undecided (left to math-verify)
Decision = tuple[Union[bool, None], str]


@dataclass(frozen=True, slots=True)
class Num:
    value: Value
    exact: bool  # an exact value (no decimal point, no float): two exact values must be equal exactly
    percent: bool = False
    unit: str | None = None
    # Written as a plain decimal ("85.71"): its decimals and significant digits, the precision it states.
    decimals: int | None = None
    significant: int | None = None


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
    name: str  # canonical (spaces removed): names compare by it
    node: "Node"
    written: str = ""  # the left-hand side as written, to read it back as an equation (\ln y = 2x)


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
