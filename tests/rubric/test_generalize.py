"""Dataset error text made domain-general: what is masked, what is kept."""

from __future__ import annotations

import pytest

from rubricate.rubric.descriptions import first_sentences
from rubricate.rubric.generalize import generalize

PROBLEM = "Ignatius owns 4 bicycles. His friend's cycles have three times as many tires. How many bicycles does the friend own?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Student mix bicycles and tires.", "Student mix something."),
        ("Ignatius forgot the 12 tires of the friend", "something forgot the a number something of the something"),
        ("Instead of $2^4 = 16$, it was made to equal $8$.", "Instead of an expression, it was made to equal an expression."),
        ("Steps 4, 5, and 6 assume the result.", "steps assume the result."),
        ("In step 11 the sign flips.", "In a step the sign flips."),
        ("It calls this 'a valid check' and moves on.", "It calls this a quote and moves on."),
        ("Solved for x instead of y.", "Solved for a variable instead of a variable."),
        ("Forgot to convert minutes to hours.", "Forgot to convert minutes to hours."),
        ("Added 25% twice.", "Added a number twice."),
    ],
)
def test_generalize_masks_problem_content_and_keeps_error_words(text: str, expected: str):
    assert generalize(text, PROBLEM) == expected


def test_words_of_the_problem_that_describe_mistakes_are_kept():
    problem = "Each box holds 6 eggs. What is the total number of eggs in 3 boxes, per hour?"
    assert generalize("Multiplied the total per box instead of each egg", problem) == "Multiplied the total per something instead of each something"


def test_without_a_problem_only_numbers_formulas_and_references_are_masked():
    assert generalize("Heidi added 3 apples in step 2") == "Heidi added a number apples in a step"


def test_first_sentences_keeps_whole_sentences_up_to_the_word_limit():
    text = "One two three. Four five six seven. Eight nine."
    assert first_sentences(text, 7) == "One two three. Four five six seven."
    assert first_sentences(text, 2) == "One two"  # a first sentence longer than the limit is cut
    assert first_sentences("  spaced   out  ", 10) == "spaced out"
