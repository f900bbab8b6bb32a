"""Ingest a problem set (prompts with gold answers, no responses) into the `problems` table.

A trace needs a response, so a training set such as a verl RL Parquet file is not traces: its rows go to
`problems` (migration 002), and the collect_traces flow later samples responses for them with a policy model.
The sampled traces carry the same `problem_id` (text hash of the problem), so verdicts and judgements join
back to the problem and its gold answer.

Accounting is the same as for traces, and the same code (`ingest.accounting.IngestWriter`): every input row
is counted once as accepted, rejected (stored in `rejected_rows` with the reason) or duplicate; a re-run inserts
nothing (keys are content hashes). The run is recorded in `ingest_runs` like a trace ingest.

A reader supports problem sets by having `read_problems(source)`; today those are the verl reader and the
demo's `sample` reader (`options: {problems_only: true}` on either).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

import polars as pl

from rubricate.config import SourceConfig
from rubricate.errors import IngestError
from rubricate.ids import content_hash
from rubricate.ingest.accounting import IngestReport, IngestWriter, Target
from rubricate.ingest.columns import SOURCE_COLUMNS, TAIL_COLUMNS, shared_values
from rubricate.ingest.records import Rejection, excerpt, too_large
from rubricate.store.db import Store

log = logging.getLogger(__name__)

PROBLEM_SCHEMA: dict[str, Any] = {
    "problem_key": pl.Utf8,
    **SOURCE_COLUMNS,
    "prompt": pl.Utf8,
    "gold_answer": pl.Utf8,
    **TAIL_COLUMNS,
}

PROBLEMS = Target(
    schema=PROBLEM_SCHEMA,
    key_column="problem_key",
    known_keys_query="ingest/select_known_problem_keys",
    insert_query="ingest/insert_problems",
)


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


# same counts as a trace ingest; the name says which kind of ingest produced it
ProblemSetReport = IngestReport


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

    writer = IngestWriter(store, source, PROBLEMS, run_kind="ingest-problems", progress=progress)
    reader = get_reader(source.reader)
    if not hasattr(reader, "read_problems"):
        raise IngestError(f"source '{source.name}': reader '{source.reader}' has no problem-set mode; "
                          "use the verl or sample reader with `options: {problems_only: true}`")
    for item in writer.count_in(reader.read_problems(source)):
        if isinstance(item, Rejection):
            writer.reject(item)
            continue
        path = item.source_path or writer.default_path
        if not item.problem or not item.problem.strip():
            writer.reject(Rejection(item.line, "missing_field", "problem text is empty", "", path))
            continue
        if len(item.problem) > source.max_response_chars:
            writer.reject(too_large(item.line, len(item.problem), source.max_response_chars, excerpt(item.problem, 200), path))
            continue
        key = problem_key(reader.dataset, item)
        if not writer.first_occurrence(key, line=item.line, path=path, what="problem", raw_excerpt=excerpt(item.problem, 200)):
            continue
        writer.accept(
            {
                "problem_key": key,
                "prompt": json.dumps(item.prompt, ensure_ascii=False) if item.prompt is not None else None,
                "gold_answer": item.gold_answer,
            }
            | shared_values(item, dataset=reader.dataset, default_domain=source.domain, path=path, run_id=writer.run_id, ingested_at=writer.started)
        )
    report = writer.finish(config_hash=config_hash)
    log.info("ingest problem set %s: %s", source.name, report.as_dict())
    return report
