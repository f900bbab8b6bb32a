"""A response that commits to several different final answers is not correct, whichever one matches
(issue 10 item 5; "Known traps" in VERIFIER_FALSE_NEGATIVES.md). Repeating one answer, or a gold that is
itself a list, is not a hedge."""

from __future__ import annotations

import pytest

from rubricate.verify.rules import verify_response

# (gold, response, why it is a hedge)
HEDGES: list[tuple[str, str, str]] = [
    ("5", "So $\\boxed{3 \\lor 5}$.", "logical or between two values"),
    ("5", "So $\\boxed{3 \\vee 5}$.", "\\vee spelling of or"),
    ("5", "So $\\boxed{3 \\wedge 5}$.", "and between two values for a one-value gold"),
    ("5", "Hence $\\boxed{x = 3 \\lor x = 5}$.", "two solutions offered for one"),
    ("5", "The answer is $\\boxed{5 \\text{ (or 3)}}$.", "an alternative in parentheses"),
    ("5", "It is $\\boxed{5}$ (or 3).", "an alternative in parentheses right after the box"),
    ("5", "That gives $\\boxed{4}$. Hmm, maybe it is $\\boxed{5}$.", "two boxes, different answers"),
    ("5", "$\\boxed{5}$. Wait, or perhaps $\\boxed{6}$? No: $\\boxed{5}$.", "a third box repeats, but 6 was boxed too"),
    ("5", "Either $\\boxed{3}$ or $\\boxed{5}$.", "boxes joined by 'or'"),
    ("5", "The answer is \\boxed{\\text{either } 3 \\text{ or } 5}.", "either ... or ..."),
    ("\\frac{1}{2}", "First \\boxed{\\frac{1}{3}}; on reflection \\boxed{0.5}.", "a different value boxed before"),
    ("x + 1", "\\boxed{x + 2}. Or rather \\boxed{1 + x}.", "different expressions boxed"),
]

# (gold, response, why it is not a hedge)
NOT_HEDGES: list[tuple[str, str, str]] = [
    ("5", "We get $\\boxed{5}$, and checking again, $\\boxed{5}$.", "the same answer boxed twice"),
    ("\\frac{1}{2}", "So $\\boxed{\\frac{1}{2}}$, that is $\\boxed{0.5}$.", "one value in two forms"),
    ("3, 5", "So $\\boxed{3 \\lor 5}$.", "gold lists both solutions"),
    ("3, 5", "Hence $\\boxed{x = 3 \\lor x = 5}$.", "gold lists both solutions"),
    ("x = 3 \\text{ or } x = 5", "Hence $\\boxed{x = 3 \\vee x = 5}$.", "gold is the same disjunction"),
    ("3, 5", "Part (a): $\\boxed{3}$. For part (b) we then find $\\boxed{5}$.", "one box per part of a list gold"),
    ("1, -2", "Roots: \\boxed{1} and \\boxed{-2}.", "boxes joined by 'and' for a list gold"),
    ("(3, 4)", "The point is $\\boxed{(3, 4)}$, i.e. $\\boxed{(3,4)}$.", "same tuple, other spacing"),
]


@pytest.mark.parametrize(("gold", "response", "why"), HEDGES, ids=[c[2] for c in HEDGES])
def test_hedged_answers_are_not_correct(gold: str, response: str, why: str) -> None:
    v = verify_response(gold, response)
    assert v.verdict == "incorrect", f"{why}: {response!r} -> {v.verdict} ({v.reason})"


@pytest.mark.parametrize(("gold", "response", "why"), NOT_HEDGES, ids=[c[2] for c in NOT_HEDGES])
def test_repeated_answers_and_list_golds_are_not_hedges(gold: str, response: str, why: str) -> None:
    v = verify_response(gold, response)
    assert v.verdict == "correct", f"{why}: {response!r} -> {v.verdict} ({v.reason})"


def test_the_reason_says_it_was_a_hedge() -> None:
    v = verify_response("5", "That gives $\\boxed{4}$. Hmm, maybe it is $\\boxed{5}$.")
    assert v.verdict == "incorrect" and "hedged" in v.reason and "4" in v.reason
    v = verify_response("5", "So $\\boxed{3 \\lor 5}$.")
    assert v.verdict == "incorrect" and "2 values vs one" in v.reason and "hedge" in v.reason


def test_a_hedge_keeps_every_offered_answer_for_the_llm_half() -> None:
    """The LLM half sees only the problem, the gold and the extracted answer: it must see the hedge."""
    v = verify_response("5", "That gives $\\boxed{4}$. Hmm, maybe it is $\\boxed{5}$.")
    assert v.extracted_answer == "4 or 5"
    v = verify_response("5", "So $\\boxed{3 \\lor 5}$.")
    assert v.extracted_answer == "3 \\lor 5"
    # a rule rejection that is not a hedge reaches the LLM half with the answer as written
    v = verify_response("\\frac{1}{2}", "So $\\boxed{\\frac{2}{4} \\text{ of the cake}}$.")
    assert v.extracted_answer == "\\frac{2}{4} \\text{ of the cake}"
