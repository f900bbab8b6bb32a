"""The `rewards:` section of the pipeline config (light: pydantic only, imported by rubricate.config)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from rubricate.rewards.rule import RewardRule
from rubricate.strict import Strict

ExportFormat = Literal["verl", "trl", "openrlhf"]


class ExportConfig(Strict):
    """How `export_rewards` writes a reward dataset."""

    out_dir: str | None = None  # default: <data_dir>/exports/<reward set id>
    # list[...](...): a bare list literal in a lambda is inferred as list[str], not the Literal items
    formats: list[ExportFormat] = Field(default_factory=lambda: list[ExportFormat](["verl", "trl", "openrlhf"]))
    trl_files: list[Literal["parquet", "jsonl"]] = Field(
        default_factory=lambda: list[Literal["parquet", "jsonl"]](["parquet", "jsonl"])
    )
    include_unscorable: bool = True  # rows given `unscorable_value`; dropped rows are never exported
    system_prompt: str | None = None  # prepended as a system message to verl/TRL chat prompts
    ability: str | None = None  # verl `ability`; default: the trace's domain, else 'math'
    # Fixed layout so that the same selection gives byte-identical files.
    row_group_rows: int = Field(default=50_000, ge=1)
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    compression_level: int | None = 1  # zstd 1: about 3x faster to write than 3 and within a few % in size
    # DuckDB's memory cap while exporting: the ordered scan spills to disk past it (bounded memory).
    memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class UnscorableConfig(Strict):
    """What a trainer receives for a sample no stage could score: input that is not text, a rule check past its
    time limit, an LLM verifier or judge that failed. That is an outage, never a wrong answer."""

    # verl / OpenRLHF reward for such a sample. None: `rule.unscorable_value` when the rule says
    # `unscorable: value`, else the midpoint of `rule.correct_value` and `rule.incorrect_value`.
    value: float | None = None
    trl: Literal["none", "value"] = "none"  # TRL gets None (TRL >= 1.6 leaves the sample out) or `value`
    # Raise UnscorableShareError when more than this share of the last `window` samples (or of one larger
    # batch) is unscorable, so that an outage stops training instead of feeding it neutral values. None: never.
    max_share: float | None = Field(default=None, ge=0, lt=1)
    window: int = Field(default=64, ge=1)


class OnlineConfig(Strict):
    """The reward a trainer calls (rubricate.rewards.online). Its judge judges with the judge's own rubric
    (`judge.rubric_path` or `judge.rubric_version`): one setting for the stored and the online judge."""

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        moved = sorted(k for k in ("rubric_version", "rubric_path") if isinstance(data, dict) and k in data)
        if moved:
            raise ValueError(f"rewards.online.{moved[0]} moved to judge.{moved[0]}: the stored and the online judge use one rubric setting")
        return data

    batch_size: int = Field(default=64, ge=1)  # LLM requests per backend call
    # TRL passes dataset columns as keyword arguments; the first of these present holds the gold answer.
    gold_columns: list[str] = Field(default_factory=lambda: ["ground_truth", "answer", "solution", "gold_answer"])
    problem_columns: list[str] = Field(default_factory=lambda: ["problem", "question"])
    # The rule check runs in worker processes (rubricate.verify.pool) with this hard limit per sample, from any
    # thread; a sample past it is unscorable. Workers start on first use (about a second) and live with the process.
    timeout_s: float = Field(default=5.0, gt=0)
    workers: int = Field(default=2, ge=1, le=64)
    # Each LLM verifier / judge batch (`batch_size` samples) answers within this, or its samples are unscorable.
    llm_deadline_s: float | None = Field(default=300.0, gt=0)
    # A response with a gold answer but no final answer is the response's fault, not an outage: it gets
    # `incorrect_value` (as every rule-based math reward does); `unscorable` treats it like an outage instead.
    no_answer: Literal["incorrect", "unscorable"] = "incorrect"
    unscorable: UnscorableConfig = UnscorableConfig()
    # verl: compute_score / compute_score_batch return {"score", "rubricate_unscorable", "rubricate_reason"}
    # (verl logs the extra keys as reward_extra_info); False: bare floats, for verl releases before dict scores.
    verl_extra_info: bool = True


class RewardsConfig(Strict):
    rule: RewardRule = RewardRule()
    # Which judge's verdicts count: a judge id, or a rubric version whose judge is unique. Neither: the only
    # judge in the store (an error names the choices when there are several).
    judge_id: str | None = None
    rubric_version: str | None = None
    datasets: list[str] | None = None  # only traces of these datasets (default: all)
    export: ExportConfig = ExportConfig()
    online: OnlineConfig = OnlineConfig()
