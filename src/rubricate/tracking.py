"""MLflow tracking: one MLflow run per flow run, the only module that imports mlflow.

Uses `MlflowClient` with an explicit run id instead of the fluent API, because Prefect runs tasks in
worker threads and MLflow's active run is thread-local: every task can log to the flow's run by id.
Tracking can be disabled in config; the tracker then records nothing and every call is a no-op.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from rubricate.config import MLFLOW_UI_URL, PipelineConfig
from rubricate.secrets import redact

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


def flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    """Nested config -> {'verify.workers': '2', ...} for MLflow params (values truncated to MLflow's limit)."""
    out: dict[str, str] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list) and obj and all(isinstance(v, Mapping) for v in obj):
        for i, v in enumerate(obj):
            name = v.get("name", i) if isinstance(v, Mapping) else i
            out.update(flatten(v, f"{prefix}{name}."))
    else:
        out[prefix.rstrip(".")] = (json.dumps(obj) if not isinstance(obj, str) else obj)[:6000]
    return out


def report_metrics(prefix: str, report: Mapping[str, Any], *, only: Sequence[str] | None = None) -> dict[str, float]:
    """The numeric values of a report, flattened to `<prefix>.<key>` names (see RunTracker.log_report)."""
    out: dict[str, float] = {}
    for key, value in report.items():
        if only is not None and key not in only:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}.{key}"] = value
    return out


class RunTracker:
    """Logs to one MLflow run. Create it with `track_run(...)`."""

    def __init__(
        self, client: "MlflowClient | None", run_id: str | None, experiment_id: str | None = None, *, ui_base: str = MLFLOW_UI_URL,
    ) -> None:
        self._client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.ui_base = ui_base.rstrip("/")  # the MLflow UI server the links point at (tracking.ui_url)

    def ui_url(self) -> str | None:
        """The run's page in the MLflow UI (`tracking.ui_url`, `make ui-mlflow`'s by default). MLflow 3 opens an
        experiment in its GenAI view, which shows no data for runs like these; a link to the run (or to
        `#/experiments/<id>/runs`) shows them. None when tracking is off."""
        if not self.enabled or self.experiment_id is None:
            return None
        return f"{self.ui_base}/#/experiments/{self.experiment_id}/runs/{self.run_id}"

    def artifact_page_url(self, path: str) -> str | None:
        """The run's page in the MLflow UI with the artifact `path` (e.g. `rubric/map.png`) open in its Artifacts tab."""
        run = self.ui_url()
        return None if run is None else f"{run}/artifactPath/{quote(path, safe='/')}"

    def artifact_file_url(self, path: str) -> str | None:
        """The artifact file itself, as the MLflow UI server serves it (`/get-artifact?path=..&run_uuid=..`, the
        route MLflow 3.17's server and its UI use): an image a Markdown page can show."""
        if self.ui_url() is None:
            return None
        return f"{self.ui_base}/get-artifact?{urlencode({'path': path, 'run_uuid': self.run_id}, safe='/', quote_via=quote)}"

    def images_markdown(self, paths: Sequence[str]) -> str:
        """Markdown showing each image artifact (served by the MLflow UI) with a link to it in the run's page; ''
        when tracking is off."""
        lines = []
        for path in paths:
            page, file = self.artifact_page_url(path), self.artifact_file_url(path)
            if page is None or file is None:
                return ""
            lines += [f"[`{path}` in the MLflow run]({page})", "", f"![{path}]({file})", ""]
        return "\n".join(lines)

    @property
    def enabled(self) -> bool:
        return self._client is not None and self.run_id is not None

    def _live(self) -> tuple["MlflowClient", str]:
        """The client and the run id, for a method that has checked `enabled`."""
        assert self._client is not None and self.run_id is not None, "tracking is disabled"
        return self._client, self.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log params; a value whose name says key, token, secret or password is logged as `<redacted>`."""
        if not self.enabled:
            return
        from mlflow.entities import Param

        client, run_id = self._live()
        items = [Param(k, str(v)[:6000]) for k, v in redact(params).items()]
        for i in range(0, len(items), 100):  # MLflow caps a batch at 100 params
            client.log_batch(run_id, params=items[i : i + 100])

    def log_metrics(self, metrics: Mapping[str, float | int | None], step: int | None = None) -> None:
        if not self.enabled:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        client, run_id = self._live()
        items = [Metric(k, float(v), now, step or 0) for k, v in metrics.items() if v is not None]
        for i in range(0, len(items), 1000):
            client.log_batch(run_id, metrics=items[i : i + 1000])

    def log_report(self, prefix: str, report: Mapping[str, Any], *, only: Sequence[str] | None = None) -> None:
        """A stage report's numbers as metrics `<prefix>.<key>`; text, flags (bools), lists, nested mappings and
        None are not metrics and are left out. `only`: just these keys."""
        self.log_metrics(report_metrics(prefix, report, only=only))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.enabled:
            from mlflow.entities import RunTag

            client, run_id = self._live()
            client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_text(self, text: str, artifact_file: str) -> None:
        if self.enabled:
            client, run_id = self._live()
            client.log_text(run_id, text, artifact_file)

    def log_dict(self, obj: Any, artifact_file: str) -> None:
        if self.enabled:
            client, run_id = self._live()
            client.log_dict(run_id, obj, artifact_file)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.enabled:
            client, run_id = self._live()
            client.log_artifact(run_id, str(path), artifact_path)

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        if self.enabled:
            client, run_id = self._live()
            client.log_figure(run_id, figure, artifact_file)

    def log_dataset_input(
        self,
        name: str,
        digest: str,
        source: str,
        *,
        profile: Mapping[str, Any] | None = None,
        schema: Mapping[str, Any] | None = None,
        context: str = "training",
    ) -> None:
        """Record a dataset (a file set this run wrote or read) as the run's dataset input (MLflow `log_inputs`)."""
        if not self.enabled:
            return
        from mlflow.entities import Dataset, DatasetInput, InputTag

        dataset = Dataset(
            name=name,
            digest=digest,
            source_type="local",
            source=json.dumps({"uri": source}),
            schema=json.dumps(schema, sort_keys=True) if schema else None,
            profile=json.dumps(profile, sort_keys=True, default=str) if profile else None,
        )
        client, run_id = self._live()
        client.log_inputs(run_id, [DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])])

    @property
    def client(self) -> "MlflowClient | None":
        """The underlying client, for calls this wrapper does not cover (log_inputs, for one)."""
        return self._client


def _init_lock_path(cfg: PipelineConfig) -> Path:
    """The lock file that serialises the first use of the tracking store (beside the SQLite file, else in data_dir)."""
    uri = cfg.tracking_uri()
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        return db.with_name(db.name + ".init.lock")
    return cfg.resolved_data_dir() / "mlflow-init.lock"


def _client_and_experiment(cfg: PipelineConfig) -> tuple["MlflowClient", str]:
    """A client on the configured store and the experiment's id, creating both if needed.

    Under a file lock: on an empty data folder MLflow's first use runs its schema migrations, and two processes
    doing so at once break each other (`table _alembic_tmp_... already exists`); creating the experiment races too.
    """
    from mlflow.tracking import MlflowClient

    from rubricate.locks import file_lock

    uri = cfg.tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with file_lock(_init_lock_path(cfg), what="MLflow store initialisation"):
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(cfg.tracking.experiment)  # first use: creates/migrates the schema
        if experiment is not None:
            return client, experiment.experiment_id
        root = cfg.artifact_root()
        root.mkdir(parents=True, exist_ok=True)
        return client, client.create_experiment(cfg.tracking.experiment, artifact_location=root.as_uri())


# The config sections each flow reads: its run logs those as params (the full config goes in as config.json, and
# its hash as the param config_hash), so a run's params are about that run. A flow not listed logs every section.
FLOW_SECTIONS: dict[str, tuple[str, ...]] = {
    "pipeline": ("sources", "verify", "llm", "compute"),
    "collect_traces": ("sources", "collect"),
    "rubric_refresh": ("rubric", "llm", "compute"),
    "judge_eval": ("judge", "llm", "rubric"),
    "reward_experiment": ("judge", "llm", "rubric", "rewards", "verify", "compute"),
    "export_rewards": ("rewards",),
    "demo_llm": ("verify", "llm", "rubric", "judge"),
}


def run_params(dump: Mapping[str, Any], config_hash: str, flow_name: str) -> dict[str, str]:
    """The params a flow's run logs: its own sections of the config (`dump`, model_dump(mode="json")), flattened, and
    the whole config's hash."""
    sections = FLOW_SECTIONS.get(flow_name)
    return {**flatten({k: v for k, v in dump.items() if sections is None or k in sections}), "config_hash": config_hash}


def redacted_config(obj: Any) -> Any:
    """The config as nested data with every secret-named value blanked (rubricate.secrets.redact, at every level)."""
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            shown = redact({str(key): value})[str(key)]
            out[str(key)] = redacted_config(value) if shown is value else shown
        return out
    if isinstance(obj, list):
        return [redacted_config(v) for v in obj]
    return obj


def run_name_for(flow_name: str, tags: Mapping[str, Any]) -> str:
    """'judge_eval · shared-data · rubric,plain': the flow, its config file, and the judges or rubric it ran with."""
    parts = [flow_name]
    if tags.get("config_path"):
        parts.append(Path(str(tags["config_path"])).stem)
    parts += [str(tags[k]) for k in ("judges", "rubric") if tags.get(k)]
    return " · ".join(parts)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:5000]


@contextmanager
def track_run(
    cfg: PipelineConfig,
    flow_name: str,
    *,
    run_name: str | None = None,
    extra_params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Iterator[RunTracker]:
    """Open an MLflow run for one flow run; if the body raises, the run is FAILED with the error as the tag `error`.

    Metrics the body logged before it raised stay on the run: flows log each stage's counts as the stage ends.
    """
    if not cfg.tracking.enabled:
        yield RunTracker(None, None)
        return
    client, experiment_id = _client_and_experiment(cfg)
    dump, config_hash = cfg.model_dump(mode="json"), cfg.config_hash()
    all_tags = {"rubricate.flow": flow_name, "rubricate.config_hash": config_hash, **(tags or {})}
    name = run_name or run_name_for(flow_name, tags or {})
    run = client.create_run(experiment_id, run_name=name, tags={k: str(v) for k, v in all_tags.items()})
    tracker = RunTracker(client, run.info.run_id, experiment_id, ui_base=cfg.tracking.ui_url)
    tracker.log_params({**run_params(dump, config_hash, flow_name), **{k: v for k, v in (extra_params or {}).items()}})
    tracker.log_dict(redacted_config(dump), "config.json")
    try:
        yield tracker
    except BaseException as exc:
        try:  # the failed run says why; never let a tracking error hide the flow's own error
            tracker.set_tags({"error": _error_text(exc)})
        except Exception as tag_exc:  # noqa: BLE001
            log.warning("could not tag the failed MLflow run %s: %s", run.info.run_id, tag_exc)
        client.set_terminated(run.info.run_id, status="KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    else:
        client.set_terminated(run.info.run_id, status="FINISHED")


def mark_run_killed(tracking_uri: str, run_id: str, reason: str) -> bool:
    """Mark a run that is still RUNNING as KILLED, with `reason` in the tag END_REASON_TAG; False if it had ended."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from rubricate.runs import END_REASON_TAG

    client = MlflowClient(tracking_uri=tracking_uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:  # deleted, or another store
        log.warning("stale MLflow run %s not found on %s: %s", run_id, tracking_uri, exc)
        return False
    if run.info.status != "RUNNING":
        return False
    client.set_tag(run_id, END_REASON_TAG, reason)
    client.set_terminated(run_id, status="KILLED")
    return True


def write_temp(text: str, name: str) -> Path:
    """A file holding `text`, for artifacts that must be files."""
    path = Path(tempfile.mkdtemp(prefix="rubricate-")) / name
    path.write_text(text, encoding="utf-8")
    return path
