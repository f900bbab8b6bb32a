"""Reward sets as training data: verl Parquet, TRL Parquet/JSONL, OpenRLHF JSONL, plus a manifest (see run.py).

One module per trainer format with its schema (verl, trl, openrlhf), the streaming atomic writer (writer), the
manifest and its records (manifest), and the export itself (run)."""

from rubricate.rewards.export.manifest import ExportResult, export_markdown, log_export
from rubricate.rewards.export.run import SELECT_QUERY, export_rewards, rows_schema
from rubricate.rewards.export.trl import trl_schema
from rubricate.rewards.export.verl import verl_schema

__all__ = ["SELECT_QUERY", "ExportResult", "export_markdown", "export_rewards", "log_export", "rows_schema", "trl_schema", "verl_schema"]
