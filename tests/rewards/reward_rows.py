"""Helpers of the rewards tests: traces and verdict rows written straight into a real tmp DuckDB."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from rubricate.ingest.run import TRACE_SCHEMA
from rubricate.store import Store

T0 = datetime(2026, 1, 1, 12, 0, 0)


def add_traces(store: Store, rows: list[dict[str, Any]]) -> list[str]:
    """Insert traces; each row needs trace_id, problem, response, and may set gold_answer, dataset, extra ..."""
    full = []
    for i, r in enumerate(rows):
        full.append(
            {
                "trace_id": r["trace_id"],
                "problem_id": r.get("problem_id", "p-" + r["trace_id"]),
                "dataset": r.get("dataset", "unit"),
                "split": r.get("split"),
                "domain": r.get("domain", "math"),
                "source_path": r.get("source_path", "unit.jsonl"),
                "source_line": r.get("source_line", i + 1),
                "source_id": None,
                "problem": r.get("problem", f"What is {i} + {i}?"),
                "response": r.get("response", f"{i} + {i} = {2 * i}. The answer is \\boxed{{{2 * i}}}."),
                "steps": r.get("steps", ["step"]),
                "gold_answer": r.get("gold_answer"),
                "model": None,
                "label_correct": r.get("label_correct"),
                "label_final_answer_correct": None,
                "label_first_error_step": None,
                "label_error_type": None,
                "label_error_description": None,
                "extra": json.dumps(r["extra"]) if r.get("extra") else None,
                "ingest_run_id": "test",
                "ingested_at": T0,
            }
        )
    store.insert_frame("ingest/insert_traces", pl.DataFrame(full, schema=TRACE_SCHEMA))
    return [r["trace_id"] for r in rows]


def _insert(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    cur = store.cursor()
    try:
        cur.register("incoming_rows", pl.DataFrame(rows).to_arrow())
        cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
        cur.unregister("incoming_rows")
    finally:
        cur.close()


def add_answer_verdict(store: Store, trace_id: str, verdict: str, *, by: str = "rules", verifier_id: str | None = None, at: datetime = T0) -> None:
    _insert(
        store,
        "answer_verdicts",
        [
            {
                "trace_id": trace_id,
                "verifier_id": verifier_id or ("rules-test" if by == "rules" else "llm-test"),
                "extracted_answer": None,
                "verdict": verdict,
                "reason": "test",
                "decided_by": by,
                "elapsed_ms": 0.1,
                "created_at": at,
            }
        ],
    )


def add_judge_verdict(
    store: Store,
    trace_id: str,
    verdict: str,
    *,
    judge_id: str = "judge-a",
    kind: str = "rubric",
    rubric_version: str | None = "rv1",
    model: str | None = "test-model",
    prompt_id: str | None = "prompt-1",
    first_error_step: int | None = None,
) -> None:
    _insert(
        store,
        "judge_verdicts",
        [
            {
                "trace_id": trace_id,
                "judge_id": judge_id,
                "judge_kind": kind,
                "rubric_version": rubric_version,
                "model": model,
                "prompt_id": prompt_id,
                "verdict": verdict,
                "first_error_step": first_error_step,
                "items": None,
                "error": "parse failed" if verdict == "error" else None,
                "attempts": 1,
                "created_at": T0,
            }
        ],
    )


