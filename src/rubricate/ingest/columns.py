"""The columns a trace row and a problem row share, and the one place their values are derived.

`problem_id` is the text hash of the stripped problem in both tables: traces sampled later for a problem-set
row carry the same id, which is how verdicts and judgements join back to the problem and its gold answer.
So it must be computed by one function, not two copies.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

import polars as pl

from rubricate.ids import text_hash

# after the table's key column ...
SOURCE_COLUMNS: dict[str, Any] = {
    "problem_id": pl.Utf8,
    "dataset": pl.Utf8,
    "split": pl.Utf8,
    "domain": pl.Utf8,
    "source_path": pl.Utf8,
    "source_line": pl.Int32,
    "source_id": pl.Utf8,
    "problem": pl.Utf8,
}

# ... and last, after the table's own columns
TAIL_COLUMNS: dict[str, Any] = {
    "extra": pl.Utf8,
    "ingest_run_id": pl.Utf8,
    "ingested_at": pl.Datetime("us"),
}


class Draft(Protocol):
    """What TraceDraft and ProblemDraft both have."""

    line: int
    problem: str
    source_id: str | None
    split: str | None
    domain: str | None
    extra: dict[str, Any]


def shared_values(
    draft: Draft, *, dataset: str, default_domain: str | None, path: str, run_id: str, ingested_at: datetime
) -> dict[str, Any]:
    """Values for SOURCE_COLUMNS and TAIL_COLUMNS; the caller adds its key and its table's own columns."""
    return {
        "problem_id": text_hash(draft.problem.strip()),
        "dataset": dataset,
        "split": draft.split,
        "domain": draft.domain or default_domain,
        "source_path": path,
        "source_line": draft.line,
        "source_id": draft.source_id,
        "problem": draft.problem,
        "extra": json.dumps(draft.extra, ensure_ascii=False, default=str) if draft.extra else None,
        "ingest_run_id": run_id,
        "ingested_at": ingested_at,
    }
