from pathlib import Path

import pytest

from rubricate.config import parse_config
from rubricate.tracking import flatten, track_run


def test_flatten_names_sources_by_name():
    flat = flatten({"sources": [{"name": "a", "reader": "sample"}], "verify": {"workers": 2}})
    assert flat == {"sources.a.name": "a", "sources.a.reader": "sample", "verify.workers": "2"}


def test_run_logs_params_metrics_artifacts(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    cfg = parse_config({"data_dir": str(tmp_path)})
    with track_run(cfg, "pipeline", tags={"x": "y"}) as tracker:
        tracker.log_metrics({"verify.pass_rate": 0.5, "skipped": None})
        tracker.log_text("# hi\n", "summary.md")
        run_id = tracker.run_id
    client = MlflowClient(tracking_uri=cfg.tracking_uri())
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"verify.pass_rate": 0.5}
    assert run.data.params["verify.workers"] == "2"
    assert run.data.tags["rubricate.flow"] == "pipeline" and run.data.tags["x"] == "y"
    assert run.data.tags["rubricate.config_hash"] == cfg.config_hash()
    assert [a.path for a in client.list_artifacts(run_id)] == ["summary.md"]
    assert (tmp_path / "mlartifacts").is_dir()


def test_failed_body_marks_run_failed(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    cfg = parse_config({"data_dir": str(tmp_path)})
    with pytest.raises(RuntimeError):
        with track_run(cfg, "pipeline") as tracker:
            run_id = tracker.run_id
            raise RuntimeError("boom")
    assert MlflowClient(tracking_uri=cfg.tracking_uri()).get_run(run_id).info.status == "FAILED"


def test_disabled_tracking_is_a_noop(tmp_path: Path):
    cfg = parse_config({"data_dir": str(tmp_path), "tracking": {"enabled": False}})
    with track_run(cfg, "pipeline") as tracker:
        tracker.log_metrics({"a": 1})
        assert tracker.run_id is None
    assert not (tmp_path / "mlflow.db").exists()
