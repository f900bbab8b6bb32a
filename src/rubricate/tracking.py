"""MLflow tracking: one MLflow run per flow run, the only module that imports mlflow.

Uses `MlflowClient` with an explicit run id instead of the fluent API, because Prefect runs tasks in
worker threads and MLflow's active run is thread-local: every task can log to the flow's run by id.
Tracking can be disabled in config; the tracker then records nothing and every call is a no-op.
"""

from __future__ import annotations

import json
import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from rubricate.config import PipelineConfig

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


class RunTracker:
    """Logs to one MLflow run. Create it with `track_run(...)`."""

    def __init__(self, client: "MlflowClient | None", run_id: str | None) -> None:
        self._client = client
        self.run_id = run_id

    @property
    def enabled(self) -> bool:
        return self._client is not None and self.run_id is not None

    def log_params(self, params: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        from mlflow.entities import Param

        items = [Param(k, str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow caps a batch at 100 params
            self._client.log_batch(self.run_id, params=items[i : i + 100])  # type: ignore[union-attr]

    def log_metrics(self, metrics: Mapping[str, float | int | None], step: int | None = None) -> None:
        if not self.enabled:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step or 0) for k, v in metrics.items() if v is not None]
        for i in range(0, len(items), 1000):
            self._client.log_batch(self.run_id, metrics=items[i : i + 1000])  # type: ignore[union-attr]

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.enabled:
            from mlflow.entities import RunTag

            self._client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])  # type: ignore[union-attr]

    def log_text(self, text: str, artifact_file: str) -> None:
        if self.enabled:
            self._client.log_text(self.run_id, text, artifact_file)  # type: ignore[union-attr]

    def log_dict(self, obj: Any, artifact_file: str) -> None:
        if self.enabled:
            self._client.log_dict(self.run_id, obj, artifact_file)  # type: ignore[union-attr]

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.enabled:
            self._client.log_artifact(self.run_id, str(path), artifact_path)  # type: ignore[union-attr]

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        if self.enabled:
            self._client.log_figure(self.run_id, figure, artifact_file)  # type: ignore[union-attr]

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
        self._client.log_inputs(self.run_id, [DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])])  # type: ignore[union-attr]

    @property
    def client(self) -> "MlflowClient | None":
        """The underlying client, for calls this wrapper does not cover (log_inputs, for one)."""
        return self._client


@contextmanager
def track_run(
    cfg: PipelineConfig,
    flow_name: str,
    *,
    run_name: str | None = None,
    extra_params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Iterator[RunTracker]:
    """Open an MLflow run for one flow run; marks it FAILED if the body raises."""
    if not cfg.tracking.enabled:
        yield RunTracker(None, None)
        return
    from mlflow.tracking import MlflowClient

    uri = cfg.tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    if experiment is None:
        root = cfg.artifact_root()
        root.mkdir(parents=True, exist_ok=True)
        experiment_id = client.create_experiment(cfg.tracking.experiment, artifact_location=root.as_uri())
    else:
        experiment_id = experiment.experiment_id
    all_tags = {"rubricate.flow": flow_name, "rubricate.config_hash": cfg.config_hash(), **(tags or {})}
    run = client.create_run(experiment_id, run_name=run_name or flow_name, tags={k: str(v) for k, v in all_tags.items()})
    tracker = RunTracker(client, run.info.run_id)
    tracker.log_params({**flatten(cfg.model_dump(mode="json")), **{k: v for k, v in (extra_params or {}).items()}})
    try:
        yield tracker
    except BaseException:
        client.set_terminated(run.info.run_id, status="FAILED")
        raise
    else:
        client.set_terminated(run.info.run_id, status="FINISHED")


def write_temp(text: str, name: str) -> Path:
    """A file holding `text`, for artifacts that must be files."""
    path = Path(tempfile.mkdtemp(prefix="rubricate-")) / name
    path.write_text(text, encoding="utf-8")
    return path
