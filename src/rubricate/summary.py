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


# What each column of the per-dataset table means: printed under the table (terminal, MLflow, Prefect) and in the README.
COLUMNS = {
    "traces": "traces stored",
    "gold_wrong": "traces the dataset labels wrong anywhere (a wrong step counts even when the final answer is right)",
    "with_gold_answer": "traces with a gold final answer the rule verifier can compare against",
    "verified": "traces with a verdict of the current rule verifier",
    "correct / incorrect / no_answer / error": "the rule verifier's verdicts on the final answer (no_answer: none found; error: "
                                              "no comparison possible, e.g. a timeout)",
    "pass_rate": "correct / verified",
    "agrees_with_gold": "where the dataset says whether the final answer is right: the share of rule verdicts that agree "
                        "(it judges the final answer only, so it can be 1.000 while gold_wrong differs from incorrect)",
}


def columns_markdown() -> str:
    return "\n".join(f"- `{name}`: {meaning}" for name, meaning in COLUMNS.items()) + "\n"


def pipeline_markdown(frame: pl.DataFrame, stage_reports: Mapping[str, Mapping[str, Any]]) -> str:
    """The pipeline run's summary: the per-dataset table and what its columns mean, then one line per stage."""
    lines = ["# rubricate pipeline summary", "", to_markdown(frame), columns_markdown(), "## Stages", ""]
    for stage, report in stage_reports.items():
        lines.append(f"- **{stage}**: " + ", ".join(f"{k}={v}" for k, v in report.items() if not isinstance(v, (dict, list))))
    return "\n".join(lines) + "\n"
