"""Ingest a problem set (prompts with gold answers, no responses) into the `problems` table.

A trace needs a response, so a training set such as a verl RL Parquet file is not traces: its rows go to
`problems` (migration 002), and the collect_traces flow later samples responses for them with a policy model.
The sampled traces carry the same `problem_id` (text hash of the problem), so verdicts and judgements join
back to the problem and its gold answer.

Accounting is the same as for traces: every input row is counted once as accepted, rejected (stored in
`rejected_rows` with the reason) or duplicate; a re-run inserts nothing (keys are content hashes). The run is
recorded in `ingest_runs` like a trace ingest.

A reader supports problem sets by having `read_problems(source)`; today that is the verl reader
(`options: {problems_only: true}`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Protocol

import polars as pl

from rubricate.config import SourceConfig
from rubricate.errors import IngestError
from rubricate.ids import content_hash, text_hash
from rubricate.ingest.records import Rejection, excerpt
from rubricate.store.db import Store, load_sql, utcnow

log = logging.getLogger(__name__)

BATCH_ROWS = 5_000

PROBLEM_SCHEMA: dict[str, Any] = {
    "problem_key": pl.Utf8,
    "problem_id": pl.Utf8,
    "dataset": pl.Utf8,
    "split": pl.Utf8,
    "domain": pl.Utf8,
    "source_path": pl.Utf8,
    "source_line": pl.Int32,
    "source_id": pl.Utf8,
    "problem": pl.Utf8,
    "prompt": pl.Utf8,
    "gold_answer": pl.Utf8,
    "extra": pl.Utf8,
    "ingest_run_id": pl.Utf8,
    "ingested_at": pl.Datetime("us"),
}


@dataclass(slots=True)
class ProblemDraft:
    line: int  # 1-based position in the source
    problem: str
    prompt: list[dict[str, Any]] | None = None  # chat messages exactly as given, when the source has them
    gold_answer: str | None = None
    source_id: str | None = None
    split: str | None = None
    domain: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source_path: str | None = None


class ProblemReader(Protocol):
    dataset: str

    def read_problems(self, source: SourceConfig) -> Iterator[ProblemDraft | Rejection]: ...


@dataclass
class ProblemSetReport:
    source: str
    reader: str
    ingest_run_id: str
    n_in: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    n_duplicates: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_problem_set(source: SourceConfig) -> bool:
    """True when the source is configured as a problem set (ingest with `ingest_problem_set`, not `ingest_source`)."""
    return bool(source.options.get("problems_only"))


def problem_key(dataset: str, draft: ProblemDraft) -> str:
    return content_hash("problem", dataset, draft.split, draft.source_id, draft.problem, draft.gold_answer)


def ingest_problem_set(
    store: Store,
    source: SourceConfig,
    *,
    config_hash: str = "",
    progress: Callable[[ProblemSetReport], None] | None = None,
) -> ProblemSetReport:
    """Read `source` with its reader's `read_problems` and store new problems and rejections."""
    from rubricate.ingest.readers import get_reader
    from rubricate.ingest.run import REJECT_SCHEMA

    t0 = time.perf_counter()
    started = utcnow()
    reader = get_reader(source.reader)
    if not hasattr(reader, "read_problems"):
        raise IngestError(f"source '{source.name}': reader '{source.reader}' has no problem-set mode; use the verl reader with `options: {{problems_only: true}}`")
    run_id = content_hash("ingest-problems", source.model_dump(mode="json"), started.isoformat())
    report = ProblemSetReport(source=source.name, reader=source.reader, ingest_run_id=run_id)
    default_path = source.path or f"<{source.reader}>"
    seen: dict[str, tuple[str, int]] = {}
    rows: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []

    def reject(r: Rejection, counts_as: str = "rejected") -> None:
        if counts_as == "rejected":
            report.n_rejected += 1
            report.rejected_by_reason[r.reason] = report.rejected_by_reason.get(r.reason, 0) + 1
        else:
            report.n_duplicates += 1
        rejects.append({
            "source_path": r.source_path or default_path, "source_line": r.line, "reason": r.reason, "detail": r.detail,
            "raw_excerpt": r.raw_excerpt, "ingest_run_id": run_id, "rejected_at": started,
        })

    def flush() -> None:
        if rows:
            frame = pl.DataFrame(rows, schema=PROBLEM_SCHEMA)
            known = {r[0] for r in _known_keys(store, frame)}
            fresh = frame.filter(~pl.col("problem_key").is_in(list(known)))
            report.n_duplicates += frame.height - fresh.height
            report.n_accepted += fresh.height
            store.insert_frame("insert_problems", fresh)
            rows.clear()
        if rejects:
            store.insert_frame("insert_rejected_rows", pl.DataFrame(rejects, schema=REJECT_SCHEMA))
            rejects.clear()
        if progress:
            progress(report)

    for item in reader.read_problems(source):  # type: ignore[attr-defined]
        if source.limit is not None and report.n_in >= source.limit:
            break
        report.n_in += 1
        if isinstance(item, Rejection):
            reject(item)
            continue
        path = item.source_path or default_path
        if not item.problem or not item.problem.strip():
            reject(Rejection(item.line, "missing_field", "problem text is empty", "", path))
            continue
        if len(item.problem) > source.max_response_chars:
            reject(Rejection(item.line, "too_large", f"{len(item.problem):,} characters exceeds max_response_chars={source.max_response_chars:,} "
                             "(raise it in the source config to accept)", excerpt(item.problem, 200), path))
            continue
        key = problem_key(reader.dataset, item)
        if key in seen:
            first_path, first_line = seen[key]
            reject(Rejection(item.line, "duplicate", f"same problem as {first_path}:{first_line}", excerpt(item.problem, 200), path), "duplicate")
            continue
        seen[key] = (path, item.line)
        rows.append({
            "problem_key": key,
            "problem_id": text_hash(item.problem.strip()),
            "dataset": reader.dataset,
            "split": item.split,
            "domain": item.domain or source.domain,
            "source_path": path,
            "source_line": item.line,
            "source_id": item.source_id,
            "problem": item.problem,
            "prompt": json.dumps(item.prompt, ensure_ascii=False) if item.prompt is not None else None,
            "gold_answer": item.gold_answer,
            "extra": json.dumps(item.extra, ensure_ascii=False, default=str) if item.extra else None,
            "ingest_run_id": run_id,
            "ingested_at": started,
        })
        if len(rows) >= BATCH_ROWS:
            flush()
    flush()
    report.seconds = round(time.perf_counter() - t0, 3)
    store.execute("insert_ingest_run", {
        "ingest_run_id": run_id, "source_name": source.name, "reader": source.reader, "source_path": default_path,
        "n_in": report.n_in, "n_accepted": report.n_accepted, "n_rejected": report.n_rejected,
        "n_duplicates": report.n_duplicates, "config_hash": config_hash, "started_at": started, "finished_at": utcnow(),
    })
    assert report.n_in == report.n_accepted + report.n_rejected + report.n_duplicates, report
    log.info("ingest problem set %s: %s", source.name, report.as_dict())
    return report


def _known_keys(store: Store, frame: pl.DataFrame) -> list[tuple]:
    cur = store.cursor()
    try:
        cur.register("incoming", frame.select("problem_key").to_arrow())
        return cur.execute(load_sql("select_known_problem_keys")).fetchall()
    finally:
        cur.close()
