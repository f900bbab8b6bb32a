"""Which rule rejections the LLM half may look at."""

from __future__ import annotations

from rubricate.verify.recoverable import worth_asking


def test_the_llm_half_sees_only_rejections_that_can_be_false_negatives() -> None:
    assert worth_asking("1/2", "0.5") and worth_asking("B", "51")  # a value against a letter: the problem may say
    assert not worth_asking("B", "D") and not worth_asking("(B)", "d")  # two letters differ for certain
    assert not worth_asking("5", None) and not worth_asking("5", "  ")  # no answer: nothing to compare
