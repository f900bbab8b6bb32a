"""The demo's data file, templates.yaml, and the problems drawn from its templates.

The file is validated once when first used (unknown fields, fault types and draw expressions are errors);
`Template.problem` turns a template and a problem's random generator into a `Problem`: the text with its
numbers and the solution steps to work through.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Callable, Literal, get_args

import yaml
from pydantic import PrivateAttr, model_validator

from rubricate.demo.draws import evaluate_draw, parse_draw
from rubricate.strict import Strict

ErrorType = Literal[
    "arithmetic_slip",
    "wrong_operation",
    "dropped_condition",
    "unit_conversion",
    "sign_error",
    "misread_quantity",
    "off_by_one",
    "answer_mismatch",
]
ERROR_TYPES: tuple[ErrorType, ...] = get_args(ErrorType)
# The functions a `draw:` expression may call; `person` is bound to the file's people.
DRAW_FUNCTIONS = frozenset({"randint", "choice", "min", "int", "person"})


class Person(Strict):
    name: str
    pron: Literal["she", "he"]

    def fields(self) -> dict[str, str]:
        """What a template's text and phrasings can say about the person."""
        return {"name": self.name, "pron": self.pron, "Pron": self.pron.capitalize(), "poss": "her" if self.pron == "she" else "his"}


class Step(Strict):
    """One computing step: out = a <op> b, said in one of `say` (placeholders {A} {B} {R} {OP} {M} and the drawn words)."""

    out: str | None = None
    op: Literal["+", "-", "*", "/", "pct", "addpct", "ofpct", "incl", "succ", "note"]
    a: str | float | None = None
    b: str | float | None = None
    say: tuple[str, ...]
    say_off: tuple[str, ...] = ()  # phrasings of the off-by-one version (incl, succ)
    noun: str = ""  # what the result is, for descriptions
    b_noun: str = ""  # what B is, for descriptions
    faults: frozenset[ErrorType] = frozenset()
    drop: str = ""  # the condition this step applies; dropped_condition leaves the step out
    conv: tuple[str, str, float] | None = None  # (large unit, small unit, wrong factor) for unit_conversion
    uses: tuple[str, ...] = ()  # givens a `note` step mentions


@dataclass
class Problem:
    """One drawn problem: its text, the given numbers and the steps that solve it."""

    template: str
    category: str
    text: str
    givens: dict[str, float]
    given_nouns: dict[str, str]  # misreadable givens and how to name them
    steps: tuple[Step, ...]
    answer: str  # the step output that is the answer
    kind: str = "number"  # number | money | percent
    unit: str = ""
    money: frozenset[str] = frozenset()  # values shown as dollars
    ctx: dict[str, str] = field(default_factory=dict)  # the drawn words (person, item) the phrasings use


class Template(Strict):
    """One problem template of templates.yaml (the file's header says what each field means)."""

    template: str
    category: str
    draw: dict[str, str]  # name -> expression, drawn in this order
    text: str
    givens: dict[str, str]  # given -> how a description names it
    answer: str
    kind: Literal["number", "money", "percent"] = "number"
    unit: str = ""
    money: frozenset[str] = frozenset()
    steps: tuple[Step, ...]
    _draw_trees: dict[str, ast.Expression] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _parse_draws(self) -> "Template":
        self._draw_trees = {name: parse_draw(expression, DRAW_FUNCTIONS) for name, expression in self.draw.items()}
        return self

    def problem(self, rng: random.Random, people: tuple[Person, ...]) -> Problem:
        """Draw a problem from this template with the problem's own random generator."""
        functions: dict[str, Callable[..., Any]] = {
            "randint": rng.randint, "choice": rng.choice, "min": min, "int": int, "person": lambda: rng.choice(people).fields(),
        }
        names: dict[str, Any] = {}
        for name, tree in self._draw_trees.items():
            value = evaluate_draw(tree, names, functions)
            if isinstance(value, dict):  # person(): its fields join the names
                names.update(value)
            else:
                names[name] = value
        return Problem(
            template=self.template,
            category=self.category,
            text=self.text.format(**names),
            givens={name: names[name] for name in self.givens},
            given_nouns=dict(self.givens),
            steps=self.steps,
            answer=self.answer,
            kind=self.kind,
            unit=self.unit,
            money=self.money,
            ctx={name: value for name, value in names.items() if isinstance(value, str)},
        )


class DemoData(Strict):
    """templates.yaml as a whole."""

    people: tuple[Person, ...]
    intros: tuple[str, ...]  # the first line of some solutions
    problems: tuple[Template, ...]
    descriptions: dict[str, tuple[str, ...]]  # phrasings of each error description


@cache
def demo_data() -> DemoData:
    """templates.yaml from the installed package, read and validated once."""
    text = (resources.files("rubricate.demo") / "templates.yaml").read_text(encoding="utf-8")
    return DemoData.model_validate(yaml.safe_load(text))
