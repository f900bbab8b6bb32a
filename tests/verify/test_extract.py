"""Final-answer extraction: a table of real response shapes."""

from __future__ import annotations

import pytest

from rubricate.verify.extract import Extraction, extract_final_answer, find_boxed
from tests.verify.hang_guard import call_with_hang_guard

CASES: list[tuple[str, str | None, str]] = [
    # boxed: last one, nested braces, \fbox, boxes joined by connectors
    ("First \\boxed{3}, then fixed: \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}", "boxed"),
    ("So $x = \\boxed{\\frac{\\sqrt{3}}{2}}$", "\\frac{\\sqrt{3}}{2}", "boxed"),
    ("The result is \\fbox{42}", "42", "boxed"),
    ("Roots: \\boxed{1} and \\boxed{-2}.", "1, -2", "boxed"),
    ("\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}", "(3, 3), (1, 1)", "boxed"),
    ("We get \\boxed{5}. Later, y = \\boxed{7}.", "7", "boxed"),
    ("Set: $\\boxed{\\{1, 2\\}}$", "\\{1, 2\\}", "boxed"),
    ("\\boxed 5", "5", "boxed"),
    # a box, then a later answer phrase with its own answer (it corrects the box) ...
    ("Interest: \\boxed{255}. So she has $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.", "10,455", "answer_phrase"),
    # ... but a later phrase with no answer in it does not override the box
    ("Hence \\boxed{12}. So the answer is consistent with the check.", "12", "boxed"),
    # answer phrases: last occurrence, shortened to the answer
    ("The answer is 4. Wait, recheck. The answer is 5.", "5", "answer_phrase"),
    ("Final Answer: The final answer is $14{,}916$. I hope it is correct.", "14{,}916", "answer_phrase"),
    ("Answer: 3/4", "3/4", "answer_phrase"),
    ("**Final Answer:** 17", "17", "answer_phrase"),
    ("Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct.", "120", "answer_phrase"),
    ("Final Answer: Jane started growing Sphere 3 hours ago.", "3", "answer_phrase"),
    ("the final answer is \\\"$12 $ and $13 $\\\".", "12 and 13", "answer_phrase"),
    # choice letters
    ("The correct answer is (B).", "B", "choice"),
    ("Answer: C) 12 apples", "C", "choice"),
    ("Comparing all options, Option D fits best", "D", "choice"),
    ("After checking each one:\n(A)", "A", "choice"),
    # reasoning blocks and chat-template tokens
    ("<think>The answer is 5? no...</think>The answer is 6.", "6", "answer_phrase"),
    ("<think>long reasoning, answer is \\boxed{7}</think>", "7", "boxed"),
    ("<think>truncated reasoning that never ends, maybe 3", "3", "short_response"),
    ("We tried 3, then 4, and then the count went on: 5, 6, 7, 8\n\nno more", "8", "last_number"),
    ("Thus the probability is 2/3. <|im_start|>user\nWhat is 1+1? The answer is 2", "2/3", "short_response"),
    # last sentence, short responses, last number
    ("So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$.", "(7, 6)", "last_sentence"),
    ("Therefore, there are 12 distinct sequences. I hope it is correct.", "12 distinct sequences", "short_response"),
    ("Adding everything up step by step, we find that the total number of marbles in the jar is 45.", "45", "last_sentence"),
    ("$\\frac13$", "\\frac13", "bare_answer"),
    ("28 percent", "28 percent", "bare_answer"),
    ("Evelyn", "Evelyn", "bare_answer"),
    ("so 5", "5", "short_response"),
    # a bare answer is the whole answer, not its last number
    ("(-\\sqrt{11}, -2) \\cup (\\sqrt{11}, 9)", "(-\\sqrt{11}, -2) \\cup (\\sqrt{11}, 9)", "bare_answer"),
    ("\\dfrac{41}{12} \\text{ km}", "\\dfrac{41}{12} \\text{ km}", "bare_answer"),
    ("$\\dfrac{41}{12}$ km", "\\dfrac{41}{12}", "short_response"),  # the unit outside the math: dropped, as usual
    ("7 goats and 4 helicopters", "7 goats and 4 helicopters", "bare_answer"),
    ("x = 3, y = -2", "x = 3, y = -2", "bare_answer"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "bare_answer"),
    ("\\left\\{ x \\mid -1 < x < 1 \\right\\} \\cup \\left[ 2, \\frac{7}{3} \\right] \\cup \\left\\{ 5 \\right\\} \\cup \\left( 10, \\infty \\right)", "\\left\\{ x \\mid -1 < x < 1 \\right\\} \\cup \\left[ 2, \\frac{7}{3} \\right] \\cup \\left\\{ 5 \\right\\} \\cup \\left( 10, \\infty \\right)", "bare_answer"),  # noqa: E501 (a test case reads best on one line)
    ("So the solution set is $(-\\sqrt{11}, -2) \\cup (\\sqrt{11}, 9)$.", "(-\\sqrt{11}, -2) \\cup (\\sqrt{11}, 9)", "last_sentence"),
    ("So the solution set is (-\\sqrt{11}, -2) \\cup (\\sqrt{11}, 9).", "(-\\sqrt{11}, -2) \\cup (\\sqrt{11}, 9)", "short_response"),
    ("We add 3 and 4.\n\nThat makes 7 in total, since nothing else remains to be counted at all here", "7", "last_sentence"),
    # nothing to find
    ("I do not know.", None, "none"),
    ("", None, "none"),
    ("   ", None, "none"),
]


@pytest.mark.parametrize(("response", "answer", "method"), CASES, ids=[f"{i}:{c[2]}" for i, c in enumerate(CASES)])
def test_extracts(response: str, answer: str | None, method: str) -> None:
    found = extract_final_answer(response)
    assert (found.answer, found.method) == (answer, method)


@pytest.mark.parametrize(
    ("response", "alternatives"),
    [
        ("First \\boxed{3}, then fixed: \\boxed{\\frac{1}{2}}.", ("3",)),
        ("That gives $\\boxed{4}$. Hmm, maybe it is $\\boxed{5}$.", ("4",)),
        ("It is $\\boxed{5}$ (or 3).", ("3",)),
        ("So \\boxed{5}, or maybe 3", ("3",)),
        ("We get $\\boxed{5}$, and again $\\boxed{ 5 }$.", ()),  # the same answer, other spacing
        ("Roots: \\boxed{1} and \\boxed{-2}.", ()),  # joined into one list answer
        ("So \\boxed{5}. Or we could check it differently, which I skip.", ()),
    ],
)
def test_other_answers_offered_beside_the_final_box_are_kept(response: str, alternatives: tuple[str, ...]) -> None:
    assert extract_final_answer(response).alternatives == alternatives


def test_unbalanced_box_is_skipped() -> None:
    assert find_boxed("\\boxed{3} and later \\boxed{4") == "3"
    assert find_boxed("no box here") is None


def test_large_response_is_fast() -> None:
    """1 MB of reasoning with many formulas (a quadratic scan would take minutes here)."""
    body = ("We compute $a_{k} = k^2$. Then $b = 3$. So it is 7. " * 20000) + "The answer is \\boxed{99}."
    assert extract_final_answer(body) == Extraction("99", "boxed")
    no_box = body.replace("\\boxed{99}", "99")
    assert extract_final_answer(no_box).answer == "99"


# Adversarial shapes that made extraction quadratic (20,000 unclosed boxes did not finish in 120 s).
ADVERSARIAL = {
    "unclosed boxes": "\\boxed{" * 20_000,
    "boxes without braces": "\\boxed " * 20_000,
    "boxes joined by commas": "\\boxed{1}, " * 20_000,
    "a long run of spaces": "So 5" + " " * 200_000 + "x",
    "a long run of newlines": "So 5" + "\n" * 200_000 + "x",
    "answer phrases with nothing after them": "Answer: **\n" * 20_000,
}


@pytest.mark.parametrize("ending", ["boxed", "plain"])
@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_responses_extract_promptly(name: str, ending: str) -> None:
    last = " The answer is \\boxed{7}." if ending == "boxed" else " So it is 7"
    result = call_with_hang_guard("rubricate.verify.extract:extract_final_answer", "Let me think. " + ADVERSARIAL[name] + last)
    if ending == "boxed" and name != "boxes joined by commas":  # there the last box is one of a long list
        assert result["answer"] == "7", result


def test_unclosed_boxes_before_a_closed_one_keep_the_closed_one() -> None:
    response = "\\boxed{" * 20_000 + "so \\boxed{12}"
    assert call_with_hang_guard("rubricate.verify.extract:find_boxed", response) == "12"


@pytest.mark.parametrize(
    ("response", "answer", "method"),
    [
        # Seen in `make demo-llm`: the last number (51) was taken over the response's own answer line (D), and the
        # LLM verifier then accepted 51 against the gold choice B.
        ("With 6 pencils returned, Omar has 45 + 6 = 51 pencils.\n\n#### D", "D", "choice"),
        ("so she has 72 left.\n#### 72", "72", "final_mark"),
        ("x = 3\n\n####  1,234  \n", "1,234", "final_mark"),
        # A Markdown heading is not an answer line unless it ends the response.
        ("#### Step 1: add\n3 + 4 = 7\n\nThe answer is 7.", "7", "answer_phrase"),
    ],
)
def test_gsm8k_answer_line_ends_the_response(response: str, answer: str, method: str) -> None:
    got = extract_final_answer(response)
    assert (got.answer, got.method) == (answer, method)


def test_a_box_that_disagrees_with_the_answer_line_is_kept_as_a_second_answer() -> None:
    assert extract_final_answer("so \\boxed{5}\n#### 3").alternatives == ("5",)
    assert extract_final_answer("so \\boxed{5}\n#### 5").alternatives == ()
