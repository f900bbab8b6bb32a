"""Judge stored traces with one judge and store its verdicts in `judge_verdicts`.

Idempotent: traces that already have a usable verdict from this judge (same judge_id) are skipped; error
rows are judged again. Through the response cache that is free and deterministic: an answer that did not
parse replays (still an error), a call that failed (timeout, 5xx) is made again; raising
`judge.max_parse_retries` asks only the missing new samples. Traces go through in rounds of `batch_size` and each round is stored before the next, so a
run killed half way resumes where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import polars as pl

from rubricate.judge.records import Judge, JudgeVerdict, TraceToJudge
from rubricate.llm.base import TokenSpend
from rubricate.progress import Progress
from rubricate.store.db import utcnow

if TYPE_CHECKING:
    from rubricate.store import Store

VERDICT_SCHEMA: dict[str, Any] = {
    "trace_id": pl.Utf8, "judge_id": pl.Utf8, "judge_kind": pl.Utf8, "rubric_version": pl.Utf8, "model": pl.Utf8,
    "prompt_id": pl.Utf8, "verdict": pl.Utf8, "first_error_step": pl.Int32, "items": pl.Utf8, "selected": pl.Utf8,
    "explanation": pl.Utf8, "score": pl.Float64, "error": pl.Utf8, "error_stage": pl.Utf8, "attempts": pl.Int32,
    "prompt_tokens": pl.Int64, "completion_tokens": pl.Int64, "cost_usd": pl.Float64,
}


def query_with_ids(store: "Store", name: str, trace_ids: Sequence[str], params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run a named query that joins the view `incoming` (one column: trace_id)."""
    ids = pl.DataFrame({"trace_id": list(trace_ids)}, schema={"trace_id": pl.Utf8})
    return store.frame(name, params, incoming=ids)


def to_judge(frame: pl.DataFrame) -> list[TraceToJudge]:
    return [
        TraceToJudge(
            trace_id=r["trace_id"], problem=r["problem"], steps=tuple(r["steps"] or ()),
            label_correct=r["label_correct"], label_first_error_step=r["label_first_error_step"],
        )
        for r in frame.iter_rows(named=True)
    ]


def load_traces(store: "Store", trace_ids: Sequence[str]) -> list[TraceToJudge]:
    """The traces with these ids (and their gold labels), ordered by id."""
    return to_judge(query_with_ids(store, "judge/select_traces_by_ids", trace_ids))


def labelled_trace_ids(store: "Store", datasets: Sequence[str] | None = None, limit: int | None = None) -> pl.DataFrame:
    """trace_id, dataset, label_correct, label_first_error_step of the traces with a gold label."""
    return store.frame("judge/select_labelled_trace_ids", {"datasets": list(datasets) if datasets else None, "limit": limit})


def store_verdicts(store: "Store", judge: Judge, verdicts: Sequence[JudgeVerdict]) -> int:
    if not verdicts:
        return 0
    frame = pl.DataFrame([v.row(judge) for v in verdicts], schema=VERDICT_SCHEMA)
    store.insert_frame("judge/upsert_judge_verdicts", frame, {"created_at": utcnow()})
    return frame.height


@dataclass
class JudgeReport(TokenSpend):
    judge_id: str
    judge_kind: str
    model: str | None
    rubric_version: str | None
    prompt_id: str | None
    n_requested: int = 0
    n_already_judged: int = 0
    n_judged: int = 0
    n_incorrect: int = 0
    n_correct: int = 0
    n_error: int = 0
    errors_by_stage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def progress(self) -> Progress:
        return Progress(self.n_judged, self.n_requested - self.n_already_judged, "traces judged")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge_traces(
    store: "Store",
    judge: Judge,
    trace_ids: Sequence[str],
    *,
    batch_size: int = 2000,
    progress: Callable[[JudgeReport], None] | None = None,
) -> JudgeReport:
    """Judge the given traces that lack a usable verdict from `judge`; store every verdict (errors included)."""
    t0 = time.perf_counter()
    report = JudgeReport(judge.judge_id, judge.kind, judge.model, judge.rubric_version, judge.prompt_id, n_requested=len(set(trace_ids)))
    todo = to_judge(query_with_ids(store, "judge/select_traces_to_judge", list(dict.fromkeys(trace_ids)), {"judge_id": judge.judge_id}))
    report.n_already_judged = report.n_requested - len(todo)
    for start in range(0, len(todo), batch_size):
        verdicts = judge.judge(todo[start : start + batch_size])
        store_verdicts(store, judge, verdicts)
        for v in verdicts:
            report.n_judged += 1
            if v.verdict == "error":
                report.n_error += 1
                report.errors_by_stage[v.error_stage or "judge"] = report.errors_by_stage.get(v.error_stage or "judge", 0) + 1
            elif v.verdict == "incorrect":
                report.n_incorrect += 1
            else:
                report.n_correct += 1
            report.add_spend(v)
        if progress:
            progress(report)
    report.seconds = round(time.perf_counter() - t0, 3)
    return report
