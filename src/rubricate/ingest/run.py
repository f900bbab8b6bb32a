"""Ingest one configured source into the store.

Every input row ends up counted exactly once: accepted (new trace), rejected (bad row, stored in
``rejected_rows`` with the reason) or duplicate (same content id as a row seen earlier in this input
or already stored). ``n_in == n_accepted + n_rejected + n_duplicates`` always holds.
Re-running the same ingest inserts nothing: ids are content hashes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any, Callable

import polars as pl

from rubricate.config import SourceConfig
from rubricate.ids import content_hash, text_hash
from rubricate.ingest.readers import get_reader
from rubricate.ingest.records import Rejection, TraceDraft, excerpt, join_steps, split_steps
from rubricate.store.db import Store, load_sql, utcnow

log = logging.getLogger(__name__)

BATCH_ROWS = 5_000

TRACE_SCHEMA: dict[str, Any] = {
    "trace_id": pl.Utf8,
    "problem_id": pl.Utf8,
    "dataset": pl.Utf8,
    "split": pl.Utf8,
    "domain": pl.Utf8,
    "source_path": pl.Utf8,
    "source_line": pl.Int32,
    "source_id": pl.Utf8,
    "problem": pl.Utf8,
    "response": pl.Utf8,
    "steps": pl.List(pl.Utf8),
    "gold_answer": pl.Utf8,
    "model": pl.Utf8,
    "label_correct": pl.Boolean,
    "label_final_answer_correct": pl.Boolean,
    "label_first_error_step": pl.Int32,
    "label_error_type": pl.Utf8,
    "label_error_description": pl.Utf8,
    "extra": pl.Utf8,
    "ingest_run_id": pl.Utf8,
    "ingested_at": pl.Datetime("us"),
}

REJECT_SCHEMA: dict[str, Any] = {
    "source_path": pl.Utf8,
    "source_line": pl.Int32,
    "reason": pl.Utf8,
    "detail": pl.Utf8,
    "raw_excerpt": pl.Utf8,
    "ingest_run_id": pl.Utf8,
    "rejected_at": pl.Datetime("us"),
}


@dataclass
class IngestReport:
    source: str
    reader: str
    ingest_run_id: str
    n_in: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    n_duplicates: int = 0
    rejected_by_reason: dict[str, int] | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _validate(draft: TraceDraft, source: SourceConfig) -> Rejection | None:
    """Checks every reader gets for free; fills `steps`/`response` from each other."""
    if not draft.problem or not draft.problem.strip():
        return Rejection(draft.line, "missing_field", "problem text is empty")
    if draft.steps is not None:
        draft.steps = [s for s in draft.steps if s is not None]
    if not draft.response and draft.steps:
        draft.response = join_steps(draft.steps)
    if not draft.response or not draft.response.strip():
        return Rejection(draft.line, "empty_response", "response is empty")
    size = max(len(draft.response), len(draft.problem))
    if size > source.max_response_chars:
        return Rejection(
            draft.line,
            "too_large",
            f"{size:,} characters exceeds max_response_chars={source.max_response_chars:,} (raise it in the source config to accept)",
            excerpt(draft.response, 200),
        )
    if not draft.steps:
        draft.steps = split_steps(draft.response)
    if draft.label_first_error_step is not None and not (0 <= draft.label_first_error_step < len(draft.steps)):
        return Rejection(
            draft.line,
            "bad_value",
            f"first error step {draft.label_first_error_step} (0-based) is outside the trace's {len(draft.steps)} steps",
        )
    return None


def trace_id_for(dataset: str, draft: TraceDraft) -> str:
    return content_hash(dataset, draft.split, draft.source_id, draft.problem, draft.response)


def ingest_source(
    store: Store,
    source: SourceConfig,
    *,
    config_hash: str = "",
    progress: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Read `source` with its reader and write new traces and rejections to the store."""
    import time

    started = utcnow()
    t0 = time.perf_counter()
    reader = get_reader(source.reader)
    run_id = content_hash("ingest", source.model_dump(mode="json"), started.isoformat())
    report = IngestReport(source=source.name, reader=source.reader, ingest_run_id=run_id, rejected_by_reason={})
    dataset = source.name if source.reader in ("jsonl", "parquet") else reader.dataset
    default_path = source.path or f"<{source.reader}>"
    seen: dict[str, tuple[str, int]] = {}
    traces: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []

    def reject(r: Rejection) -> None:
        report.n_rejected += 1
        report.rejected_by_reason[r.reason] = report.rejected_by_reason.get(r.reason, 0) + 1  # type: ignore[index]
        rejects.append(
            {
                "source_path": r.source_path or default_path,
                "source_line": r.line,
                "reason": r.reason,
                "detail": r.detail,
                "raw_excerpt": r.raw_excerpt,
                "ingest_run_id": run_id,
                "rejected_at": started,
            }
        )

    def flush() -> None:
        if traces:
            frame = pl.DataFrame(traces, schema=TRACE_SCHEMA)
            existing = {r[0] for r in _known_ids(store, frame)}
            fresh = frame.filter(~pl.col("trace_id").is_in(list(existing)))
            report.n_duplicates += frame.height - fresh.height
            report.n_accepted += fresh.height
            store.insert_frame("insert_traces", fresh)
            traces.clear()
        if rejects:
            store.insert_frame("insert_rejected_rows", pl.DataFrame(rejects, schema=REJECT_SCHEMA))
            rejects.clear()
        if progress:
            progress(report)

    for item in reader.read(source):
        if source.limit is not None and report.n_in >= source.limit:
            break
        report.n_in += 1
        if isinstance(item, Rejection):
            reject(item)
            continue
        bad = _validate(item, source)
        if bad is not None:
            bad.source_path = item.source_path
            if not bad.raw_excerpt:
                bad.raw_excerpt = excerpt(item.problem, 200)
            reject(bad)
            continue
        tid = trace_id_for(dataset, item)
        path = item.source_path or default_path
        if tid in seen:
            first_path, first_line = seen[tid]
            report.n_duplicates += 1
            rejects.append(
                {
                    "source_path": path,
                    "source_line": item.line,
                    "reason": "duplicate",
                    "detail": f"same content as {first_path}:{first_line}",
                    "raw_excerpt": excerpt(item.problem, 200),
                    "ingest_run_id": run_id,
                    "rejected_at": started,
                }
            )
            continue
        seen[tid] = (path, item.line)
        traces.append(
            {
                "trace_id": tid,
                "problem_id": text_hash(item.problem.strip()),
                "dataset": dataset,
                "split": item.split,
                "domain": item.domain or source.domain,
                "source_path": path,
                "source_line": item.line,
                "source_id": item.source_id,
                "problem": item.problem,
                "response": item.response,
                "steps": item.steps,
                "gold_answer": item.gold_answer,
                "model": item.model,
                "label_correct": item.label_correct,
                "label_final_answer_correct": item.label_final_answer_correct,
                "label_first_error_step": item.label_first_error_step,
                "label_error_type": item.label_error_type,
                "label_error_description": item.label_error_description,
                "extra": json.dumps(item.extra, ensure_ascii=False, default=str) if item.extra else None,
                "ingest_run_id": run_id,
                "ingested_at": started,
            }
        )
        if len(traces) >= BATCH_ROWS:
            flush()
    flush()
    report.seconds = round(time.perf_counter() - t0, 3)
    store.execute(
        "insert_ingest_run",
        {
            "ingest_run_id": run_id,
            "source_name": source.name,
            "reader": source.reader,
            "source_path": default_path,
            "n_in": report.n_in,
            "n_accepted": report.n_accepted,
            "n_rejected": report.n_rejected,
            "n_duplicates": report.n_duplicates,
            "config_hash": config_hash,
            "started_at": started,
            "finished_at": utcnow(),
        },
    )
    assert report.n_in == report.n_accepted + report.n_rejected + report.n_duplicates, report
    log.info("ingest %s: %s", source.name, report.as_dict())
    return report


def _known_ids(store: Store, frame: pl.DataFrame) -> list[tuple]:
    cur = store.cursor()
    try:
        cur.register("incoming", frame.select("trace_id").to_arrow())
        return cur.execute(load_sql("select_known_trace_ids")).fetchall()
    finally:
        cur.close()
