"""Pipeline configuration: YAML validated by pydantic models that forbid unknown fields.

A bad file gives one ConfigError naming the file, the field path and what is wrong; never a traceback.
Secrets never live here: API keys come from the environment (see the LLM backends).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from rubricate.collect.config import CollectConfig
from rubricate.errors import ConfigError
from rubricate.ids import content_hash
from rubricate.judge.config import JudgeConfig
from rubricate.llm.base import LLMConfig
from rubricate.rewards.config import RewardsConfig
from rubricate.rubric.config import RubricConfig
from rubricate.strict import Strict

if TYPE_CHECKING:
    from rubricate.store.lake import Lake

# How a field's value is read (see ingest/fieldmap.py): text, true/false, a step index, or the list of steps.
TEXT_FIELDS = ("problem", "response", "gold_answer", "id", "model", "split", "domain", "label_error_type", "label_error_description")
BOOL_FIELDS = ("label_correct", "label_final_answer_correct")
STEP_FIELDS = ("label_first_error_step",)
MAPPABLE_FIELDS = (*TEXT_FIELDS[:2], "steps", *TEXT_FIELDS[2:], *BOOL_FIELDS, *STEP_FIELDS)

# `[*]` in a path reaches into every element of a list: `sections[*].content`.
_PATH = re.compile(r"^[^.\[\]]+(\[(\*|-?\d+)\]|\.[^.\[\]]+)*$")


class FieldSpec(Strict):
    """A mapped field with rules for its values: `{from: verdict, map: {correct: true, wrong: false}}`.

    Order: `nulls` (these values mean "no value") -> `map` (exact value -> replacement; `otherwise` for the rest)
    -> `pattern` (a regex whose first group is the value) -> the field's own reading (text, true/false, step).
    A list value (a path through `[*]`, or a list in the row) needs `reduce` for a single-valued field.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: str = Field(alias="from", min_length=1)
    map: dict[str, Any] | None = None
    otherwise: Any = None  # the value for anything `map` does not name; leave it out to reject such rows
    nulls: list[str] = Field(default_factory=list)
    pattern: str | None = None
    # first | last | min | max: pick one element of a list (step indices such as [5, 6]);
    # first_true: the position of the first element that reads as true (per-step flags such as step_level[*].has_error)
    reduce: Literal["first", "last", "min", "max", "first_true"] | None = None

    @field_validator("map", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        # YAML reads `true:` or `1:` as non-string keys; values are compared as text (value_key)
        if isinstance(value, dict):
            return {value_key(k): v for k, v in value.items()}
        return value

    @field_validator("nulls", mode="before")
    @classmethod
    def _null_keys(cls, value: Any) -> Any:
        return _value_keys(value)

    @field_validator("pattern")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"`pattern` is not a valid regular expression: {exc}") from None
        if compiled.groups < 1:
            raise ValueError("`pattern` needs a group around the value, e.g. 'Step (\\d+)'")
        return value

    @field_validator("path")
    @classmethod
    def _valid_path(cls, value: str) -> str:
        return _check_path(value)

    @property
    def has_otherwise(self) -> bool:
        return "otherwise" in self.model_fields_set


def value_key(value: Any) -> str:
    """A value as `nulls` and `map` compare it: text stripped, anything else as JSON (-1 -> "-1", true -> "true")."""
    return value.strip() if isinstance(value, str) else json.dumps(value)


def _value_keys(value: Any) -> Any:
    return [value_key(v) for v in value] if isinstance(value, list) else value


def _check_path(value: str) -> str:
    if not _PATH.match(value):
        raise ValueError(f"'{value}' is not a field path: use dotted names, list positions as `.0` or `[0]`, every element as `[*]`")
    return value


class FieldMap(Strict):
    """Where the common fields live in a generic JSON/JSONL/Parquet row.

    Each field is a path (dotted names reach into nested objects, `.0`/`[0]` into lists, `[*]` into every
    element of a list) or a FieldSpec with value rules. `nulls` lists values that mean "no value" in every field.
    """

    problem: str | FieldSpec = "problem"
    response: str | FieldSpec | None = "response"
    steps: str | FieldSpec | None = None
    gold_answer: str | FieldSpec | None = None
    id: str | FieldSpec | None = None
    model: str | FieldSpec | None = None
    label_correct: str | FieldSpec | None = None
    label_final_answer_correct: str | FieldSpec | None = None
    label_first_error_step: str | FieldSpec | None = None
    label_error_type: str | FieldSpec | None = None
    label_error_description: str | FieldSpec | None = None
    split: str | FieldSpec | None = None
    domain: str | FieldSpec | None = None
    nulls: list[str] = Field(default_factory=list)

    @field_validator(*MAPPABLE_FIELDS)
    @classmethod
    def _paths(cls, value: str | FieldSpec | None) -> str | FieldSpec | None:
        return _check_path(value) if isinstance(value, str) else value

    @field_validator("nulls", mode="before")
    @classmethod
    def _null_keys(cls, value: Any) -> Any:
        return _value_keys(value)

    @model_validator(mode="after")
    def _response_or_steps(self) -> "FieldMap":
        if not self.response and not self.steps:
            raise ValueError("map at least one of `response` or `steps`")
        for name, spec in self.specs().items():
            if spec.reduce in ("first_true", "min", "max") and name not in STEP_FIELDS:
                raise ValueError(f"{name}: `reduce: {spec.reduce}` picks a step index; it is for label_first_error_step")
            if name == "steps" and (spec.map is not None or spec.pattern or spec.reduce):
                raise ValueError("steps: `map`, `pattern` and `reduce` are for single values; steps take `from` and `nulls`")
        return self

    def specs(self) -> dict[str, FieldSpec]:
        """Every mapped field as a FieldSpec (a plain path is a spec with no value rules), in MAPPABLE_FIELDS order."""
        out: dict[str, FieldSpec] = {}
        for name in MAPPABLE_FIELDS:
            value = getattr(self, name)
            if value:
                # validated from a dict: the typed constructor knows `path` only by its alias `from`
                out[name] = value if isinstance(value, FieldSpec) else FieldSpec.model_validate({"from": value})
        return out

    @classmethod
    def identity(cls, columns: list[str]) -> "FieldMap":
        """The mapping where each column is named after its field (the SQL reader's output)."""
        present: dict[str, str | None] = {c: c for c in columns if c in MAPPABLE_FIELDS}
        present.setdefault("response", None)
        return cls.model_validate(present)


class SourceConfig(Strict):
    """One input: a file or folder and the reader that understands it."""

    @field_validator("reader")
    @classmethod
    def _known_reader(cls, name: str) -> str:
        from rubricate.ingest.readers import READERS  # the one list of readers (imported here: it imports this module)

        if name not in READERS:
            raise ValueError(f"unknown reader '{name}'; known: {', '.join(READERS)}")
        return name

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    reader: str  # a name of the reader registry (rubricate.ingest.readers.READERS), checked below
    path: str | None = None
    fields: FieldMap | None = None
    # 0-based or 1-based step numbers in `label_first_error_step` of a generic source.
    step_base: Literal[0, 1] = 0
    domain: str | None = None
    limit: int | None = Field(default=None, ge=1)
    max_response_chars: int = Field(default=1_000_000, ge=1)
    # Reader-specific options (the sample generator's size and seed, for instance).
    options: dict[str, Any] = Field(default_factory=dict)
    # reader: sql: a DuckDB query whose output columns are named after the fields (problem, response or steps,
    # gold_answer, label_correct, ...); `{path}` stands for `path`, quoted as an SQL string.
    query: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> "SourceConfig":
        if self.reader not in ("sample", "sql") and not self.path:
            raise ValueError(f"reader '{self.reader}' needs `path`")
        if self.reader in ("jsonl", "parquet") and self.fields is None:
            raise ValueError(f"reader '{self.reader}' needs `fields` (the field mapping)")
        if self.reader not in ("jsonl", "parquet") and self.fields is not None:
            hint = " (name the query's output columns after the fields instead)" if self.reader == "sql" else ""
            raise ValueError(f"`fields` is for the jsonl and parquet readers; '{self.reader}' knows its own layout{hint}")
        if self.reader == "sql":
            if not self.query or not self.query.strip():
                raise ValueError("reader 'sql' needs `query` (DuckDB SQL whose columns are named after the fields)")
            if "{path}" in self.query and not self.path:
                raise ValueError("the query uses {path} but the source has no `path`")
        elif self.query is not None:
            raise ValueError(f"`query` is for the sql reader; '{self.reader}' reads `path`")
        return self

    def stored_path(self) -> str:
        """The `source_path` its rows are stored under when the reader gives none: its path, or `<reader>` for a
        generated or query source (the demo's `<sample>`)."""
        return self.path or f"<{self.reader}>"

    def input_problem(self) -> str | None:
        """Why this source cannot be read (its `path` does not exist; its query does not bind), or None.
        Relative paths are relative to the working directory, as the readers see them."""
        if self.reader == "sql":  # the path may be a glob: DuckDB binding the query checks it
            from rubricate.ingest.readers.sql import query_problem  # lazy: duckdb only when a query is configured

            return query_problem(self)
        if not self.path:
            return None
        if not Path(self.path).exists():
            return f"source '{self.name}': {self.path} does not exist (resolved: {Path(self.path).resolve()}); fix `path`"
        if self.reader in ("jsonl", "parquet") and Path(self.path).is_dir():
            from rubricate.errors import IngestError
            from rubricate.ingest.readers.generic import JsonlReader, ParquetReader, source_files

            try:
                source_files(self, (JsonlReader if self.reader == "jsonl" else ParquetReader).suffixes)
            except IngestError as exc:  # a folder with no file this reader reads
                return str(exc)
        return None


class StoreConfig(Strict):
    """`kind: duckdb` (default): one DuckDB file, one writer process at a time. `kind: ducklake`: a DuckLake lake that
    many processes on many machines write at once: its catalog in PostgreSQL (`catalog: postgres:host=... dbname=...`
    or `postgresql://user@host:port/db`; a password goes in PGPASSWORD), or on one machine a local file
    (`sqlite:<file>` for several processes, a plain path for a DuckDB catalog file and one process); its data as
    Parquet under `data_path`, a folder every worker sees (default <data_dir>/lake)."""

    kind: Literal["duckdb", "ducklake"] = "duckdb"
    path: str | None = None  # duckdb: the file; default <data_dir>/rubricate.duckdb
    catalog: str | None = None  # ducklake: where the catalog lives (see above); default sqlite:<data_dir>/lake.sqlite
    data_path: str | None = None  # ducklake: where the Parquet files go
    # ducklake: how many times a transaction whose commit conflicted with another writer's is run again before failing.
    commit_retries: int = Field(default=10, ge=0, le=1000)
    # duckdb: how long a flow waits while another process (another flow, a notebook) holds the store before it fails;
    # so that a schedule firing during a manual run queues behind it. 0: fail at once.
    lock_wait_s: float = Field(default=3600.0, ge=0)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "StoreConfig":
        if self.kind == "duckdb" and (self.catalog or self.data_path):
            raise ValueError("catalog and data_path are for kind: ducklake; set kind: ducklake, or remove them to use the DuckDB file")
        if self.kind == "ducklake" and self.path:
            raise ValueError("path is the DuckDB file of kind: duckdb; a lake is set by catalog and data_path: remove path")
        return self


MLFLOW_UI_URL = "http://127.0.0.1:5000"  # where `make ui-mlflow` serves the MLflow UI


class TrackingConfig(Strict):
    enabled: bool = True
    tracking_uri: str | None = None  # default: sqlite:///<data_dir>/mlflow.db
    artifact_root: str | None = None  # default: <data_dir>/mlartifacts
    experiment: str = "rubricate"
    # The MLflow UI the links in the Prefect UI and the terminal point at (`make ui-mlflow` serves this one); links
    # only, nothing is sent there. Set it to where your MLflow server is reachable from a browser.
    ui_url: str = Field(default=MLFLOW_UI_URL, pattern=r"^https?://\S+$")


class VerifyConfig(Strict):
    enabled: bool = True
    # Worker processes of the rule check; None: one per visible core (resolved where the pool starts, so the
    # config and its hash do not depend on the machine).
    workers: int | None = Field(default=None, ge=1, le=64)
    timeout_s: float = Field(default=5.0, gt=0)
    # Traces read, verified and written per round (a killed run keeps the rounds it finished). Each round costs a
    # query and an insert (about 50 ms together): at 64 they took most of the stage's time (646 traces/s with one
    # worker on the demo's answers, 2,520 at 2,048; bench/pipeline_1m.py).
    chunk_size: int = Field(default=2048, ge=1)
    # The LLM false-negative verifier (rules' rejections only): re-asks after an answer that does not parse, then an
    # error row. Used by the stored stage and the online reward alike.
    llm_max_parse_retries: int = Field(default=2, ge=0, le=10)


class ComputeConfig(Strict):
    """Where the CPU-heavy stages (rule verification, embedding) compute. The flow always reads and writes the store.

    `local` (default): as on one machine, the verifier's own process pool and the embedder in the flow's process.
    `dask`: the work is cut into pieces of `piece_size` traces or texts, each a Prefect task on a DaskTaskRunner:
    a local cluster of `n_workers` processes started for the stage, or the running cluster at `dask_address`
    (`tcp://host:8786`, whose workers have rubricate installed).
    """

    runner: Literal["local", "dask"] = "local"
    dask_address: str | None = None
    # Worker processes of the local Dask cluster; None: one per visible core (resolved where the cluster starts).
    n_workers: int | None = Field(default=None, ge=1, le=256)
    # Traces (verification) or texts (embedding) per Prefect task. Each task costs about 0.2-0.5 s of Prefect's own
    # bookkeeping on a busy 2-core machine (bench/scale_out.py), so a piece should hold seconds of work: 1,024 answers of
    # the public sets take the rules about 1.2-1.5 s on one core. verify.chunk_size traces are read per round and cut
    # into pieces: give a round at least two pieces per worker.
    piece_size: int = Field(default=1024, ge=1)

    @model_validator(mode="after")
    def _one_cluster(self) -> "ComputeConfig":
        if self.runner == "local" and self.dask_address:
            raise ValueError("dask_address is set but runner is 'local'; set runner: dask to use that cluster")
        if self.dask_address and self.n_workers is not None:
            raise ValueError("n_workers sizes the local Dask cluster; with dask_address the running cluster has its own workers: remove one")
        return self


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
    compute: ComputeConfig = ComputeConfig()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return sources

    def check_sources(self, names: list[str] | None = None) -> None:
        """Raise one ConfigError naming every selected source (default: all) whose input cannot be found, before
        any work starts: a missing path is a config error, not a traceback 40 s into a flow."""
        wanted = set(names) if names is not None else None
        problems = [p for s in self.sources if wanted is None or s.name in wanted if (p := s.input_problem())]
        if problems:
            raise ConfigError("sources that cannot be read:\n" + "\n".join(f"  {p}" for p in problems))

    # -- derived locations -----------------------------------------------------------------------
    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir or os.environ.get("RUBRICATE_DATA_DIR") or "data").resolve()

    def store_path(self) -> Path:
        """The DuckDB file (kind duckdb). For code that works on either kind of store, use store_target."""
        return Path(self.store.path).resolve() if self.store.path else self.resolved_data_dir() / "rubricate.duckdb"

    def store_target(self) -> "Path | Lake":
        """What rubricate.store.open_store opens: the DuckDB file, or the lake."""
        if self.store.kind == "duckdb":
            return self.store_path()
        from rubricate.store.lake import Lake

        data = self.resolved_data_dir()
        return Lake(
            catalog=self.store.catalog or f"sqlite:{data / 'lake.sqlite'}",
            data_path=self.store.data_path or str(data / "lake"),
            commit_retries=self.store.commit_retries,
        )

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
