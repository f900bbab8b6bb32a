"""The run summary: one row per dataset, as a Polars frame and as Markdown (for MLflow, Prefect, the terminal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from rubricate.store.db import Store


def dataset_summary(store: Store, verifier_id: str) -> pl.DataFrame:
    """Traces, gold labels and rule-verifier outcomes per dataset and split."""
    return store.frame("summary/by_dataset", {"verifier_id": verifier_id})


def to_markdown(frame: pl.DataFrame) -> str:
    """A GitHub-style Markdown table (no extra dependency)."""
    if frame.is_empty():
        return "_no rows_\n"
    cols = frame.columns
    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v).replace("|", "\\|")
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines) + "\n"


def pipeline_markdown(frame: pl.DataFrame, stage_reports: Mapping[str, Mapping[str, Any]]) -> str:
    """The pipeline run's summary: the per-dataset table, then one line per stage with its scalar figures."""
    lines = ["# rubricate pipeline summary", "", to_markdown(frame), "## Stages", ""]
    for stage, report in stage_reports.items():
        lines.append(f"- **{stage}**: " + ", ".join(f"{k}={v}" for k, v in report.items() if not isinstance(v, (dict, list))))
    return "\n".join(lines) + "\n"
