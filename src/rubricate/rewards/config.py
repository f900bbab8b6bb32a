"""The `rewards:` section of the pipeline config (light: pydantic only, imported by rubricate.config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rubricate.rewards.rule import RewardRule
from rubricate.strict import Strict

ExportFormat = Literal["verl", "trl", "openrlhf"]


class ExportConfig(Strict):
    """How `export_rewards` writes a reward dataset."""

    out_dir: str | None = None  # default: <data_dir>/exports/<reward set id>
    formats: list[ExportFormat] = Field(default_factory=lambda: ["verl", "trl", "openrlhf"])
    trl_files: list[Literal["parquet", "jsonl"]] = Field(default_factory=lambda: ["parquet", "jsonl"])
    include_unscorable: bool = True  # rows given `unscorable_value`; dropped rows are never exported
    system_prompt: str | None = None  # prepended as a system message to verl/TRL chat prompts
    ability: str | None = None  # verl `ability`; default: the trace's domain, else 'math'
    # Fixed layout so that the same selection gives byte-identical files.
    row_group_rows: int = Field(default=50_000, ge=1)
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    compression_level: int | None = 1  # zstd 1: about 3x faster to write than 3 and within a few % in size
    # DuckDB's memory cap while exporting: the ordered scan spills to disk past it (bounded memory).
    memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class OnlineConfig(Strict):
    """The reward a trainer calls (rubricate.rewards.online)."""

    rubric_version: str | None = None  # a rubric version stored in DuckDB ...
    rubric_path: str | None = None  # ... or an exported rubric JSON file (wins when both are set)
    batch_size: int = Field(default=64, ge=1)  # LLM requests per backend call
    # TRL passes dataset columns as keyword arguments; the first of these present holds the gold answer.
    gold_columns: list[str] = Field(default_factory=lambda: ["ground_truth", "answer", "solution", "gold_answer"])
    problem_columns: list[str] = Field(default_factory=lambda: ["problem", "question"])


class RewardsConfig(Strict):
    rule: RewardRule = RewardRule()
    # Which judge's verdicts count: a judge id, or a rubric version whose judge is unique. Neither: the only
    # judge in the store (an error names the choices when there are several).
    judge_id: str | None = None
    rubric_version: str | None = None
    datasets: list[str] | None = None  # only traces of these datasets (default: all)
    export: ExportConfig = ExportConfig()
    online: OnlineConfig = OnlineConfig()
