"""Stage 1: one short, domain-general description of the first error of every wrong trace.

Sources (`rubric.source`):
- `dataset`: what the source already carries: its free-text error description, else the text of its first
  wrong step (ProcessBench has only that), else its error class. Generalised offline (see generalize.py)
  and cut to its first sentences, so the text says what kind of mistake it is rather than what the
  problem was about.
- `llm`: an LLM reads the problem, the gold answer and the trace and returns JSON (see llm_describe.py).

Every wrong trace in scope gets exactly one row per describer: ok, error (the LLM answer did not parse;
retried on later refreshes up to `llm_max_attempts`) or skipped (the source has nothing to describe
with). Rows are keyed by (trace, describer), so a refresh describes only traces it has not seen.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

import polars as pl

from rubricate.errors import RubricateError
from rubricate.ids import content_hash, text_hash
from rubricate.llm.base import LLMBackend, LLMConfig
from rubricate.progress import Progress
from rubricate.rubric.config import RubricConfig
from rubricate.rubric.generalize import MASKING_VERSION, generalize
from rubricate.store.db import Store, utcnow

log = logging.getLogger(__name__)

DESCRIBE_PROMPT = "describe_error"
CHUNK_DATASET = 20_000
CHUNK_LLM = 500  # one backend batch; a killed run loses at most one chunk (and the LLM cache keeps its answers)

DESCRIPTION_SCHEMA: dict[str, Any] = {
    "trace_id": pl.Utf8,
    "describer_id": pl.Utf8,
    "source": pl.Utf8,
    "origin": pl.Utf8,
    "prompt_id": pl.Utf8,
    "model": pl.Utf8,
    "status": pl.Utf8,
    "description": pl.Utf8,
    "raw_text": pl.Utf8,
    "keyword": pl.Utf8,
    "how_to_check": pl.Utf8,
    "first_error_step": pl.Int32,
    "text_hash": pl.Utf8,
    "error": pl.Utf8,
    "attempts": pl.Int32,
    "created_at": pl.Datetime("us"),
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class DescribeReport:
    describer_id: str
    source: str
    n_candidates: int = 0
    n_ok: int = 0
    n_error: int = 0
    n_skipped: int = 0
    errors: list[str] | None = None  # a few example reasons, for the log and the report
    seconds: float = 0.0

    def progress(self) -> Progress:
        return Progress(self.n_ok + self.n_error, self.n_candidates, "traces described")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def scope_params(rcfg: RubricConfig, trace_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The bound parameters every scoped query takes (`trace_ids`: only these traces, e.g. a labelled split)."""
    return {"domain": rcfg.domain, "datasets": list(rcfg.datasets) or None, "trace_ids": list(trace_ids) if trace_ids is not None else None}


def describer_id(rcfg: RubricConfig, llm: LLMConfig) -> str:
    """Who wrote a description: a new prompt, model or masking version describes every trace again."""
    if rcfg.source == "llm":
        from rubricate.llm.prompts import load_prompt

        return content_hash("describer", "llm", load_prompt(DESCRIBE_PROMPT).prompt_id, llm.model, MASKING_VERSION)
    masking = MASKING_VERSION if rcfg.generalize else "raw"
    return content_hash("describer", "dataset", masking, rcfg.max_description_words)


def first_sentences(text: str, max_words: int) -> str:
    """The leading sentences of `text` up to `max_words` words (at least the first sentence, cut to the limit)."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if kept and len(" ".join([*kept, sentence]).split()) > max_words:
            break
        kept.append(sentence)
    return " ".join(" ".join(kept).split()[:max_words])


def make_general(text: str, problem: str | None, rcfg: RubricConfig) -> str:
    out = generalize(text, problem) if rcfg.generalize else " ".join(text.split())
    return first_sentences(out, rcfg.max_description_words)


def description_row(trace_id: str, did: str, source: str, now: Any, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {k: None for k in DESCRIPTION_SCHEMA}
    row.update({"trace_id": trace_id, "describer_id": did, "source": source, "created_at": now, "attempts": 1, **fields})
    if row["status"] == "ok":
        row["text_hash"] = text_hash(row["description"])
    return row


def describe_from_dataset(trace: dict[str, Any], did: str, rcfg: RubricConfig, now: Any) -> dict[str, Any]:
    """The description a dataset row already carries, made domain-general; 'skipped' when it carries none."""
    steps = trace.get("steps") or []
    step = trace.get("label_first_error_step")
    candidates = [
        ("label_error_description", trace.get("label_error_description")),
        ("first_error_step", steps[step] if step is not None and 0 <= step < len(steps) else None),
        ("label_error_type", trace.get("label_error_type")),
    ]
    for origin, raw in candidates:
        if raw and raw.strip():
            text = make_general(raw, trace.get("problem"), rcfg)
            if text.strip():
                return description_row(
                    trace["trace_id"], did, "dataset", now, origin=origin, status="ok", description=text,
                    raw_text=raw, first_error_step=step,
                )
    return description_row(
        trace["trace_id"], did, "dataset", now, status="skipped",
        error=f"dataset '{trace.get('dataset')}' gives this wrong trace no error description, first error step or error type; "
        "set rubric.source: llm (with an `llm:` backend) to describe it",
    )


def describe_new_traces(
    store: Store,
    rcfg: RubricConfig,
    llm: LLMConfig,
    *,
    backend: LLMBackend | None = None,
    trace_ids: Sequence[str] | None = None,
    progress: Callable[[DescribeReport], None] | None = None,
) -> DescribeReport:
    """Describe every wrong trace in scope that the current describer has not described (or may retry)."""
    t0 = time.perf_counter()
    if rcfg.source == "llm" and llm.kind == "none" and backend is None:
        raise RubricateError(
            "rubric.source is 'llm' but llm.kind is 'none', so there is no model to describe errors with: "
            "configure the `llm:` section (kind: litellm or vllm_batch, model: ...) or set rubric.source: dataset"
        )
    did = describer_id(rcfg, llm)
    errors: list[str] = []  # report.errors, held as a plain list (the field is Optional)
    report = DescribeReport(describer_id=did, source=rcfg.source, errors=errors)
    params = {"describer_id": did, "max_attempts": rcfg.llm_max_attempts, **scope_params(rcfg, trace_ids)}
    candidates = store.frame("rubric/traces_to_describe", params)
    report.n_candidates = candidates.height
    if candidates.is_empty():
        report.seconds = round(time.perf_counter() - t0, 3)
        return report
    if rcfg.source == "llm" and backend is None:
        from rubricate.llm.backends import get_backend

        backend = get_backend(llm, store=store)
    chunk = CHUNK_LLM if rcfg.source == "llm" else CHUNK_DATASET
    for start in range(0, candidates.height, chunk):
        traces = store.frame("rubric/traces_for_description", incoming=candidates.slice(start, chunk)).to_dicts()
        now = utcnow()
        if rcfg.source == "llm":
            from rubricate.rubric.llm_describe import describe_with_llm

            assert backend is not None  # an llm source got its backend above
            rows = describe_with_llm(traces, did, rcfg, backend, now)
        else:
            rows = [describe_from_dataset(t, did, rcfg, now) for t in traces]
        store.insert_frame("rubric/upsert_descriptions", pl.DataFrame(rows, schema=DESCRIPTION_SCHEMA))
        for row in rows:
            status = row["status"]
            report.n_ok += status == "ok"
            report.n_error += status == "error"
            report.n_skipped += status == "skipped"
            if status != "ok" and len(errors) < 5:
                errors.append(row["error"])
        if progress:
            progress(report)
    report.seconds = round(time.perf_counter() - t0, 3)
    log.info("describe: %s", report.as_dict())
    return report
