"""templates.yaml and its `draw:` expressions: checked when loaded, evaluated in order, nothing else evaluated."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from rubricate.demo.draws import DrawError, evaluate_draw, parse_draw
from rubricate.demo.templates import DRAW_FUNCTIONS, Template, demo_data


def draw(text: str, names: dict | None = None, rng: random.Random | None = None):
    rng = rng or random.Random(0)
    functions = {"randint": rng.randint, "choice": rng.choice, "min": min, "int": int}
    return evaluate_draw(parse_draw(text, DRAW_FUNCTIONS), names or {}, functions)


def test_expressions_evaluate_like_python_in_the_same_order():
    names = {"a": 7, "pron": "she"}
    assert draw("min(20, a * 3 - 1) + a // 2 - 10 / 4", names) == min(20, 7 * 3 - 1) + 7 // 2 - 10 / 4
    assert draw("'brother' if pron == 'she' else 'sister'", names) == "brother"
    rng = random.Random(5)
    expected = (lambda r: r.randint(1, 9) + r.choice([10, 20, 30]))(random.Random(5))
    assert draw("randint(1, 9) + choice([10, 20, 30])", rng=rng) == expected  # left operand drawn first


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",  # a call of anything but the template functions
    "a.real",  # attribute access
    "randint(a=1, b=2)",  # keyword arguments
    "1 < 2",  # comparisons other than ==
    "[x for x in [1]]",  # comprehensions
    "randint(1,",  # not an expression
])
def test_anything_else_is_refused_when_parsed(text):
    with pytest.raises(DrawError):
        parse_draw(text, DRAW_FUNCTIONS)


def test_a_name_is_usable_only_after_it_is_drawn():
    with pytest.raises(DrawError, match="before it is drawn"):
        draw("later + 1")


def test_every_template_draws_a_complete_problem():
    data = demo_data()
    assert len(data.problems) == 12 and len({t.template for t in data.problems}) == 12
    for template in data.problems:
        for seed in range(20):
            problem = template.problem(random.Random(seed), data.people)
            assert "{" not in problem.text and set(problem.givens) == set(template.givens)
            known = set(problem.givens)
            for step in problem.steps:  # each step reads givens, earlier results or numbers
                assert {x for x in (step.a, step.b, *step.uses) if isinstance(x, str)} <= known, (template.template, step)
                known.add(step.out or "")
            assert problem.answer in known


def test_unknown_fields_and_fault_types_are_errors():
    good = demo_data().problems[0].model_dump()
    with pytest.raises(ValidationError, match="sayy"):
        Template.model_validate(good | {"steps": [good["steps"][0] | {"sayy": ["x"]}]})
    with pytest.raises(ValidationError, match="faults"):
        Template.model_validate(good | {"steps": [good["steps"][0] | {"faults": ["arithmetic_slipp"]}]})
    with pytest.raises(DrawError):
        Template.model_validate(good | {"draw": {"boxes": "open('x')"}})
