"""The run summary: one row per dataset, as a Polars frame and as Markdown (for MLflow, Prefect, the terminal)."""

from __future__ import annotations

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
