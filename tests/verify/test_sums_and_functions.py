"""Sums, products, indexed sequences and function letters in the rules' identity test (arithmetic.py).

A sum with integer bounds is evaluated term by term; a sequence (a_{n-1}, a_k under a sum over k) or a
function letter applied to an argument (f(2x)) stands for a fixed pseudo-random function, the same in
both answers. Every pair here is decided by the rules, never by the math-verify fallback.
"""

from __future__ import annotations

import pytest

from rubricate.verify.arithmetic import NotNumeric, bound_indices, evaluate, tokens, variables
from rubricate.verify.rules import verify_response

EQUIVALENT = [
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-1} F_{n-k-1} F_k", "factors of the summand swapped"),
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{j=0}^{n-1} F_j F_{n-j-1}", "summation index renamed"),
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{j=1}^{n} F_{j-1} F_{n-j}", "index shifted with its bounds"),
    (r"\sum_{k=1}^{n} k", r"\frac{n(n+1)}{2}", "closed form of the sum"),
    (r"\sum_{k=1}^{n} k^2", r"\frac{n(n+1)(2n+1)}{6}", "sum of squares, closed form"),
    (r"\sum_{i=1}^{n} a_i", r"\sum_{k=1}^{n} a_k", "index renamed, sequence unknown"),
    (r"\sum_{k=0}^{n} \binom{n}{k}", r"2^n", "binomial sum"),
    (r"\prod_{k=1}^{n} k", r"n!", "product is the factorial"),
    (r"\sum\limits_{k=1}^{n} (2k-1)", r"n^2", "\\limits and odd numbers"),
    (r"f(2x)", r"f(x + x)", "the same argument written twice"),
    (r"2f(x)", r"f(x) + f(x)", "a function value doubled"),
    (r"f(x) = x^2", r"f(t) = t^2", "a function's variable renamed"),
]

NEAR_MISSES = [
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-2} F_k F_{n-k-2}", "upper bound and index shifted"),
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=1}^{n-1} F_k F_{n-k-1}", "one term dropped"),
    (r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}", r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k}", "index off by one in a factor"),
    (r"\sum_{k=1}^{n} k", r"\frac{n(n-1)}{2}", "closed form of the sum to n-1"),
    (r"\sum_{i=1}^{n} a_i", r"\sum_{k=0}^{n} a_k", "one more term"),
    (r"\sum_{k=0}^{n} \binom{n}{k}", r"2^{n+1}", "twice the sum"),
    (r"\prod_{k=1}^{n} k", r"(n+1)!", "one factor more"),
    (r"f(x)", r"f(y)", "another variable"),
    (r"f(x)", r"g(x)", "another function"),
    (r"f(2x)", r"2f(x)", "the factor outside the function"),
    (r"f(x) = x^2", r"f(t) = t^3", "another rule"),
]


@pytest.mark.parametrize(("gold", "answer", "why"), EQUIVALENT, ids=[c[2] for c in EQUIVALENT])
def test_equivalent_sums_and_functions_are_accepted_by_the_rules(gold: str, answer: str, why: str) -> None:
    v = verify_response(gold, f"The answer is $\\boxed{{{answer}}}$.")
    assert v.verdict == "correct", f"{why}: {v.verdict}: {v.reason}"
    assert "math-verify" not in v.reason, f"{why}: decided by the fallback: {v.reason}"


@pytest.mark.parametrize(("gold", "answer", "why"), NEAR_MISSES, ids=[c[2] for c in NEAR_MISSES])
def test_near_misses_are_rejected_by_the_rules(gold: str, answer: str, why: str) -> None:
    v = verify_response(gold, f"The answer is $\\boxed{{{answer}}}$.")
    assert v.verdict == "incorrect", f"{why}: {v.verdict}: {v.reason}"
    assert "math-verify" not in v.reason, f"{why}: decided by the fallback: {v.reason}"


def test_closed_sums_and_products_evaluate_exactly() -> None:
    assert evaluate(r"\sum_{k=1}^{10} k") == 55
    assert evaluate(r"\prod_{k=1}^{5} k") == 120
    assert evaluate(r"\sum_{k=1}^{3} k^2 + 1") == 15  # the summand ends at +
    assert evaluate(r"\sum_{k=1}^{3} \sum_{j=1}^{k} j") == 10  # nested, the inner bound uses the outer index


def test_free_variables_leave_out_indices_and_names_of_sequences_and_functions() -> None:
    toks = tokens(r"F_n - \sum_{k=0}^{n-1} F_k F_{n-k-1} + f(x)")
    assert bound_indices(toks) == {"k"}
    assert variables(toks) == {"F_n", "n", "x"}


@pytest.mark.parametrize(
    "text",
    [r"\sum_{k=1}^{10^9} k", r"\sum_{k=1}^{x} k", r"\sum_{k=5}^{1} k", "a = b", r"\sum_{k=1.5}^{3} k"],
    ids=["too many terms", "bound not an integer", "empty range", "equals outside a sum", "fractional bound"],
)
def test_sums_it_cannot_evaluate_are_left_to_math_verify(text: str) -> None:
    assert evaluate(text) is None
    if "=" in text and r"\sum" not in text:
        with pytest.raises(NotNumeric):
            tokens(text)
