"""Pipeline configuration: YAML validated by pydantic models that forbid unknown fields.

A bad file gives one ConfigError naming the file, the field path and what is wrong; never a traceback.
Secrets never live here: API keys come from the environment (see the LLM backends).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from rubricate.errors import ConfigError
from rubricate.collect.config import CollectConfig
from rubricate.ids import content_hash
from rubricate.judge.config import JudgeConfig
from rubricate.llm.base import LLMConfig
from rubricate.rewards.config import RewardsConfig
from rubricate.rubric.config import RubricConfig
from rubricate.strict import Strict


READERS = (
    "jsonl",
    "parquet",
    "sample",
    "processbench",
    "prmbench",
    "mr_ben",
    "big_bench_mistake",
    "mathdial",
    "debugbench",
    "verl",
)
ReaderName = Literal[
    "jsonl", "parquet", "sample", "processbench", "prmbench", "mr_ben", "big_bench_mistake", "mathdial", "debugbench", "verl"
]


class FieldMap(Strict):
    """Where the common fields live in a generic JSONL/Parquet row (dotted paths reach into nested objects)."""

    problem: str = "problem"
    response: str | None = "response"
    steps: str | None = None
    gold_answer: str | None = None
    id: str | None = None
    model: str | None = None
    label_correct: str | None = None
    label_final_answer_correct: str | None = None
    label_first_error_step: str | None = None
    label_error_type: str | None = None
    label_error_description: str | None = None
    split: str | None = None
    domain: str | None = None

    @model_validator(mode="after")
    def _response_or_steps(self) -> "FieldMap":
        if not self.response and not self.steps:
            raise ValueError("map at least one of `response` or `steps`")
        return self


class SourceConfig(Strict):
    """One input: a file or folder and the reader that understands it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    reader: ReaderName
    path: str | None = None
    fields: FieldMap | None = None
    # 0-based or 1-based step numbers in `label_first_error_step` of a generic source.
    step_base: Literal[0, 1] = 0
    domain: str | None = None
    limit: int | None = Field(default=None, ge=1)
    max_response_chars: int = Field(default=1_000_000, ge=1)
    # Reader-specific options (the sample generator's size and seed, for instance).
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs(self) -> "SourceConfig":
        if self.reader != "sample" and not self.path:
            raise ValueError(f"reader '{self.reader}' needs `path`")
        if self.reader in ("jsonl", "parquet") and self.fields is None:
            raise ValueError(f"reader '{self.reader}' needs `fields` (the field mapping)")
        if self.reader not in ("jsonl", "parquet") and self.fields is not None:
            raise ValueError(f"`fields` is for the jsonl and parquet readers; '{self.reader}' knows its own layout")
        return self


class StoreConfig(Strict):
    path: str | None = None  # default: <data_dir>/rubricate.duckdb
    # How long a flow waits while another process (another flow, a notebook) holds the store before it fails;
    # so that a schedule firing during a manual run queues behind it. 0: fail at once.
    lock_wait_s: float = Field(default=3600.0, ge=0)


class TrackingConfig(Strict):
    enabled: bool = True
    tracking_uri: str | None = None  # default: sqlite:///<data_dir>/mlflow.db
    artifact_root: str | None = None  # default: <data_dir>/mlartifacts
    experiment: str = "rubricate"


class VerifyConfig(Strict):
    enabled: bool = True
    workers: int = Field(default=2, ge=1, le=64)
    timeout_s: float = Field(default=5.0, gt=0)
    chunk_size: int = Field(default=64, ge=1)


class PipelineConfig(Strict):
    data_dir: str | None = None  # default: $RUBRICATE_DATA_DIR or ./data
    store: StoreConfig = StoreConfig()
    tracking: TrackingConfig = TrackingConfig()
    sources: list[SourceConfig] = Field(default_factory=list)
    verify: VerifyConfig = VerifyConfig()
    llm: LLMConfig = LLMConfig()
    judge: JudgeConfig = JudgeConfig()
    collect: CollectConfig = CollectConfig()
    rewards: RewardsConfig = RewardsConfig()
    rubric: RubricConfig = RubricConfig()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return sources

    # -- derived locations -----------------------------------------------------------------------
    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir or os.environ.get("RUBRICATE_DATA_DIR") or "data").resolve()

    def store_path(self) -> Path:
        return Path(self.store.path).resolve() if self.store.path else self.resolved_data_dir() / "rubricate.duckdb"

    def tracking_uri(self) -> str:
        return self.tracking.tracking_uri or f"sqlite:///{self.resolved_data_dir() / 'mlflow.db'}"

    def artifact_root(self) -> Path:
        return Path(self.tracking.artifact_root).resolve() if self.tracking.artifact_root else self.resolved_data_dir() / "mlartifacts"

    def config_hash(self) -> str:
        return content_hash(self.model_dump(mode="json"))


def _format_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; unknown fields are not allowed)"
        lines.append(f"  {loc}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any, origin: str = "<config>") -> PipelineConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of fields, got {type(data).__name__}")
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: invalid config\n{_format_validation_error(exc)}") from None


def load_config(path: str | Path) -> PipelineConfig:
    """Read and validate a YAML config file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist; pass an existing file (see configs/ for examples)")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text: {exc}") from None
    return parse_config(data, origin=str(p))
