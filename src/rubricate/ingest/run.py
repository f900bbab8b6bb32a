"""Ingest one configured source into the store.

Every input row ends up counted exactly once: accepted (new trace), rejected (bad row, stored in
``rejected_rows`` with the reason) or duplicate (same content id as a row seen earlier in this input
or already stored). ``n_in == n_accepted + n_rejected + n_duplicates`` always holds.
Re-running the same ingest inserts nothing: ids are content hashes. The counting, batching and run record
are `ingest.accounting.IngestWriter`'s; this module decides what a valid trace is and how it is keyed.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import polars as pl

from rubricate.config import SourceConfig
from rubricate.ids import content_hash
from rubricate.ingest.accounting import IngestReport, IngestWriter, Target
from rubricate.ingest.columns import SOURCE_COLUMNS, TAIL_COLUMNS, shared_values
from rubricate.ingest.readers import get_reader
from rubricate.ingest.records import Rejection, TraceDraft, excerpt, join_steps, split_steps, too_large
from rubricate.store.db import Store

log = logging.getLogger(__name__)

TRACE_SCHEMA: dict[str, Any] = {
    "trace_id": pl.Utf8,
    **SOURCE_COLUMNS,
    "response": pl.Utf8,
    "steps": pl.List(pl.Utf8),
    "gold_answer": pl.Utf8,
    "model": pl.Utf8,
    "label_correct": pl.Boolean,
    "label_final_answer_correct": pl.Boolean,
    "label_first_error_step": pl.Int32,
    "label_error_type": pl.Utf8,
    "label_error_description": pl.Utf8,
    **TAIL_COLUMNS,
}

# the words of the rejection for a labelled step beyond the trace's steps (the preview counts these)
OUTSIDE_STEPS = "is outside the trace's"

# readers whose rows come through a field map (the dataset is the source's name)
FIELD_MAP_READERS = ("jsonl", "parquet", "sql")

TRACES = Target(
    schema=TRACE_SCHEMA,
    key_column="trace_id",
    known_keys_query="ingest/select_known_trace_ids",
    insert_query="ingest/insert_traces",
)


def validate_draft(draft: TraceDraft, source: SourceConfig) -> Rejection | None:
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
        return too_large(draft.line, size, source.max_response_chars, excerpt(draft.response, 200))
    if not draft.steps:
        draft.steps = split_steps(draft.response)
    if draft.label_first_error_step is not None and not (0 <= draft.label_first_error_step < len(draft.steps)):
        return Rejection(
            draft.line,
            "bad_value",
            f"first error step {draft.label_first_error_step} (0-based) {OUTSIDE_STEPS} {len(draft.steps)} steps",
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
    writer = IngestWriter(store, source, TRACES, run_kind="ingest", progress=progress)
    reader = get_reader(source.reader)
    dataset = source.name if source.reader in FIELD_MAP_READERS else reader.dataset
    for item in writer.count_in(reader.read(source)):
        if isinstance(item, Rejection):
            writer.reject(item)
            continue
        # count_in drops skipped files; mypy infers its items as object from the three-way union
        assert isinstance(item, TraceDraft)
        if source.reader in FIELD_MAP_READERS:
            writer.observe(item.absent, item.implied)
        bad = validate_draft(item, source)
        if bad is not None:
            bad.source_path = item.source_path
            if not bad.raw_excerpt:
                bad.raw_excerpt = excerpt(item.problem, 200)
            writer.reject(bad)
            continue
        tid = trace_id_for(dataset, item)
        path = item.source_path or writer.default_path
        if not writer.first_occurrence(tid, line=item.line, path=path, what="content", raw_excerpt=excerpt(item.problem, 200)):
            continue
        writer.accept(
            {
                "trace_id": tid,
                "response": item.response,
                "steps": item.steps,
                "gold_answer": item.gold_answer,
                "model": item.model,
                "label_correct": item.label_correct,
                "label_final_answer_correct": item.label_final_answer_correct,
                "label_first_error_step": item.label_first_error_step,
                "label_error_type": item.label_error_type,
                "label_error_description": item.label_error_description,
            }
            | shared_values(item, dataset=dataset, default_domain=source.domain, path=path, run_id=writer.run_id, ingested_at=writer.started)
        )
    report = writer.finish(config_hash=config_hash)
    log.info("ingest %s: %s", source.name, report.as_dict())
    return report
