"""Pure scoring of judge verdicts against gold labels (no I/O, no model): easy to test by hand.

"Positive" means "the trace is wrong". Error verdicts are never scored: they are counted apart
(`n_judge_errors`) and left out of every rate, so a judge cannot look better or worse by failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Scored:
    gold_wrong: bool
    gold_step: int | None  # first error step (0-based), None when the trace is correct or the step is unknown
    verdict: str  # correct | incorrect | error
    pred_step: int | None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _harmonic(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def trace_metrics(rows: Sequence[Scored]) -> dict[str, Any]:
    """Confusion counts, sensitivity (recall on wrong traces), specificity, balanced accuracy."""
    scored = [r for r in rows if r.verdict in ("correct", "incorrect")]
    tp = sum(1 for r in scored if r.gold_wrong and r.verdict == "incorrect")
    fn = sum(1 for r in scored if r.gold_wrong and r.verdict == "correct")
    tn = sum(1 for r in scored if not r.gold_wrong and r.verdict == "correct")
    fp = sum(1 for r in scored if not r.gold_wrong and r.verdict == "incorrect")
    sens, spec = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    bacc = (sens + spec) / 2 if sens is not None and spec is not None else None
    return {
        "n": len(rows), "n_scored": len(scored), "n_judge_errors": len(rows) - len(scored),
        "judge_error_rate": _ratio(len(rows) - len(scored), len(rows)),
        "tp": tp, "fn": fn, "tn": tn, "fp": fp,
        "sensitivity": sens, "specificity": spec, "balanced_accuracy": bacc,
        "precision": _ratio(tp, tp + fp),
    }


def processbench_metrics(rows: Sequence[Scored]) -> dict[str, Any]:
    """ProcessBench's metric: accuracy on erroneous traces (the predicted first error step must be exactly
    the gold one), accuracy on correct traces (no error predicted), and their harmonic mean (F1).

    Wrong traces whose first error step is unknown cannot be scored at the step level and are left out.
    """
    scored = [r for r in rows if r.verdict in ("correct", "incorrect")]
    erroneous = [r for r in scored if r.gold_wrong and r.gold_step is not None]
    correct = [r for r in scored if not r.gold_wrong]
    hit_err = sum(1 for r in erroneous if r.verdict == "incorrect" and r.pred_step == r.gold_step)
    hit_ok = sum(1 for r in correct if r.verdict == "correct")
    acc_err, acc_ok = _ratio(hit_err, len(erroneous)), _ratio(hit_ok, len(correct))
    return {
        "pb_n_erroneous": len(erroneous), "pb_n_correct": len(correct),
        "pb_acc_erroneous": acc_err, "pb_acc_correct": acc_ok, "pb_f1": _harmonic(acc_err, acc_ok),
    }


def item_counts(items_per_trace: Sequence[Sequence[dict[str, Any]]], gold_wrong: Sequence[bool]) -> dict[str, dict[str, int]]:
    """Per rubric item: how often it was found present, on wrong and on correct traces (its precision signal)."""
    out: dict[str, dict[str, int]] = {}
    for items, wrong in zip(items_per_trace, gold_wrong):
        for item in items:
            if not item.get("present"):
                continue
            c = out.setdefault(str(item.get("item_id")), {"present": 0, "present_on_wrong": 0, "present_on_correct": 0})
            c["present"] += 1
            c["present_on_wrong" if wrong else "present_on_correct"] += 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["present"]))
