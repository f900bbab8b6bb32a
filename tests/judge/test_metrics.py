"""Scoring functions against hand-computed numbers."""

from __future__ import annotations

import pytest

from rubricate.judge.metrics import Scored, item_counts, processbench_metrics, trace_metrics

ROWS = [
    Scored(True, 2, "incorrect", 2),  # TP, exact step
    Scored(True, 1, "incorrect", 3),  # TP, wrong step
    Scored(True, 0, "correct", None),  # FN
    Scored(True, None, "incorrect", 1),  # TP, step unknown: not in the step metric
    Scored(False, None, "correct", None),  # TN
    Scored(False, None, "correct", None),  # TN
    Scored(False, None, "incorrect", 0),  # FP
    Scored(False, None, "error", None),  # judge error: not scored
]


def test_trace_metrics():
    m = trace_metrics(ROWS)
    assert (m["tp"], m["fn"], m["tn"], m["fp"]) == (3, 1, 2, 1)
    assert m["sensitivity"] == pytest.approx(3 / 4) and m["specificity"] == pytest.approx(2 / 3)
    assert m["balanced_accuracy"] == pytest.approx((3 / 4 + 2 / 3) / 2)
    assert m["n_judge_errors"] == 1 and m["n_scored"] == 7


def test_processbench_metric():
    m = processbench_metrics(ROWS)
    assert m["pb_n_erroneous"] == 3 and m["pb_n_correct"] == 3
    assert m["pb_acc_erroneous"] == pytest.approx(1 / 3) and m["pb_acc_correct"] == pytest.approx(2 / 3)
    assert m["pb_f1"] == pytest.approx(2 * (1 / 3) * (2 / 3) / (1 / 3 + 2 / 3))


def test_empty_classes_give_none_not_a_crash():
    m = trace_metrics([Scored(True, 1, "incorrect", 1)])
    assert m["specificity"] is None and m["balanced_accuracy"] is None
    assert processbench_metrics([])["pb_f1"] is None


def test_item_counts():
    items = [[{"item_id": "a", "present": True}, {"item_id": "b", "present": False}], [{"item_id": "a", "present": True}]]
    assert item_counts(items, [True, False]) == {"a": {"present": 2, "present_on_wrong": 1, "present_on_correct": 1}}
