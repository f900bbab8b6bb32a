"""The error boundary: a response the comparison cannot handle is data (an 'error' verdict with its reason); a bug
of rubricate's own is an 'error' verdict too (nothing lost or stuck) but logged with its traceback and counted apart."""

from __future__ import annotations

import logging

import pytest

import rubricate.verify.math_verify_fallback as mvf
import rubricate.verify.rules as rules
from rubricate.errors import is_internal_error
from rubricate.verify.rules import RuleVerdict, verify_response
from rubricate.verify.stage import VerifyReport, _verify_chunk


def test_a_bug_in_rubricate_is_an_internal_error_verdict_with_its_traceback(monkeypatch, caplog):
    monkeypatch.setattr(rules, "gold_answer_text", None)  # calling None inside verify_response: a TypeError in our frame
    with caplog.at_level(logging.ERROR, logger="rubricate.verify.rules"):
        v = verify_response("5", "The answer is \\boxed{6}")
    assert v.verdict == "error" and v.reason.startswith("internal error (a rubricate bug): TypeError")
    assert v.internal_error is not None and "verify_response" in v.internal_error
    assert "rule verifier bug" in caplog.text


def test_an_answer_the_comparison_cannot_handle_stays_data(monkeypatch):
    def refuses(*args, **kwargs):
        raise ValueError("cannot compare these")

    monkeypatch.setattr(rules, "answers_equivalent", refuses)
    v = verify_response("5", "The answer is \\boxed{6}")
    assert (v.verdict, v.reason, v.internal_error) == ("error", "ValueError: cannot compare these", None)


def test_a_bug_type_raised_outside_rubricate_is_not_ours():
    def third_party():
        raise TypeError("inside a library")

    with pytest.raises(TypeError) as info:
        third_party()
    assert not is_internal_error(info.value)
    with pytest.raises(TypeError) as ours:
        rules.gold_answer_text(None)  # type: ignore[arg-type]
    assert is_internal_error(ours.value)


def test_math_verify_fallback_lets_our_own_bugs_through(monkeypatch):
    assert mvf.math_verify_equivalent("\\frac{1}{2}", "0.5", None).equal
    monkeypatch.setattr(mvf, "_differs_only_in_numbers", None)  # the guard after "equivalent" is ours
    with pytest.raises(TypeError):
        mvf.math_verify_equivalent("\\frac{1}{2}", "0.5", None)


class _Pool:
    def __init__(self, verdicts):
        self.verdicts = verdicts

    def map(self, jobs):
        return self.verdicts[: len(jobs)]


def test_the_stage_counts_internal_errors_apart(store, caplog):
    import polars as pl


    chunk = pl.DataFrame({"trace_id": ["t1", "t2"], "gold_answer": ["1", "2"], "response": ["x", "y"]})
    verdicts = [RuleVerdict(None, "error", "internal error (a rubricate bug): KeyError: 'x'", 0.1, internal_error="Traceback ..."),
                RuleVerdict(None, "error", "math-verify verify timed out after 5s", 0.1)]
    report = VerifyReport()
    with caplog.at_level(logging.ERROR, logger="rubricate.verify.stage"):
        _verify_chunk(store, _Pool(verdicts), chunk, report)
    assert (report.error, report.internal_errors) == (2, 1)
    assert report.by_reason == {"math-verify verify timed out after 5s": 1}
    assert "Traceback ..." in caplog.text
