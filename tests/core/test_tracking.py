import json
from pathlib import Path

import pytest

from rubricate.config import parse_config
from rubricate.errors import ConfigError
from rubricate.tracking import flatten, track_run


def test_flatten_names_sources_by_name():
    flat = flatten({"sources": [{"name": "a", "reader": "sample"}], "verify": {"workers": 2}})
    assert flat == {"sources.a.name": "a", "sources.a.reader": "sample", "verify.workers": "2"}


def test_run_logs_params_metrics_artifacts(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    cfg = parse_config({"data_dir": str(tmp_path), "llm": {"kind": "litellm", "model": "m", "api_key_env": "MY_KEY"}})
    with track_run(cfg, "pipeline", tags={"x": "y", "config_path": "configs/demo.yaml"}) as tracker:
        tracker.log_metrics({"verify.pass_rate": 0.5, "skipped": None})
        tracker.log_text("# hi\n", "summary.md")
        run_id = tracker.run_id
    client = MlflowClient(tracking_uri=cfg.tracking_uri())
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"verify.pass_rate": 0.5}
    assert run.data.params["verify.timeout_s"] == "5.0" and run.data.params["config_hash"] == cfg.config_hash()
    assert not [p for p in run.data.params if p.startswith(("rubric.", "rewards.", "judge."))]  # the pipeline's sections only
    assert run.info.run_name == "pipeline · demo"
    assert run.data.tags["rubricate.flow"] == "pipeline" and run.data.tags["x"] == "y"
    assert run.data.tags["rubricate.config_hash"] == cfg.config_hash()
    assert tracker.ui_url() == f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run_id}"
    assert [a.path for a in client.list_artifacts(run_id)] == ["config.json", "summary.md"]
    logged = json.loads((Path(client.download_artifacts(run_id, "config.json"))).read_text())
    assert logged["rubric"] == cfg.model_dump(mode="json")["rubric"] and logged["llm"]["api_key_env"] == "MY_KEY"
    assert (tmp_path / "mlartifacts").is_dir()


def test_links_to_the_run_and_its_artifacts_in_the_configured_mlflow_ui(tmp_path: Path):
    """The URLs the Prefect artifacts link to: the run's page, an artifact open in it, and the file the MLflow UI
    server serves (`/get-artifact?path=..&run_uuid=..`, MLflow 3.17's route; the browser test loads one)."""
    cfg = parse_config({"data_dir": str(tmp_path), "tracking": {"ui_url": "http://mlflow.example:8080/"}})
    with track_run(cfg, "rubric_refresh") as tracker:
        run, exp = tracker.run_id, tracker.experiment_id
    assert tracker.ui_url() == f"http://mlflow.example:8080/#/experiments/{exp}/runs/{run}"
    assert tracker.artifact_page_url("rubric/map.png") == f"http://mlflow.example:8080/#/experiments/{exp}/runs/{run}/artifactPath/rubric/map.png"
    assert tracker.artifact_file_url("rubric/my map.png") == f"http://mlflow.example:8080/get-artifact?path=rubric/my%20map.png&run_uuid={run}"
    shown = tracker.images_markdown(["rubric/map.png"])
    assert f"![rubric/map.png](http://mlflow.example:8080/get-artifact?path=rubric/map.png&run_uuid={run})" in shown
    assert f"({tracker.artifact_page_url('rubric/map.png')})" in shown
    with pytest.raises(ConfigError, match="ui_url"):
        parse_config({"tracking": {"ui_url": "127.0.0.1:5000"}})  # no scheme: a link that would not open
    off = parse_config({"data_dir": str(tmp_path), "tracking": {"enabled": False}})
    with track_run(off, "pipeline") as disabled:
        assert (disabled.ui_url(), disabled.artifact_file_url("x.png"), disabled.images_markdown(["x.png"])) == (None, None, "")


def test_secret_named_values_are_blanked_in_the_logged_config():
    from rubricate.secrets import REDACTED
    from rubricate.tracking import redacted_config

    shown = redacted_config({"llm": {"api_key": "sk-live", "api_key_env": "OPENAI_API_KEY", "model": "m"}, "token": "t", "n": [{"password": 1}]})
    assert shown == {"llm": {"api_key": REDACTED, "api_key_env": "OPENAI_API_KEY", "model": "m"}, "token": REDACTED, "n": [{"password": REDACTED}]}


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


def test_failed_run_keeps_what_was_logged_and_says_why(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    cfg = parse_config({"data_dir": str(tmp_path)})
    with pytest.raises(ValueError):
        with track_run(cfg, "pipeline") as tracker:
            tracker.log_metrics({"ingest.a.n_accepted": 3})
            run_id = tracker.run_id
            raise ValueError("source b is broken")
    run = MlflowClient(tracking_uri=cfg.tracking_uri()).get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"ingest.a.n_accepted": 3}
    assert run.data.tags["error"] == "ValueError: source b is broken"


_FIRST_RUN = """
import sys, time
from pathlib import Path
from rubricate.config import parse_config
from rubricate.errors import ConfigError
from rubricate.tracking import track_run
data, go = sys.argv[1], Path(sys.argv[2])
cfg = parse_config({"data_dir": data})
while not go.exists():  # every process starts its first MLflow call at the same moment
    time.sleep(0.01)
with track_run(cfg, "pipeline") as tracker:
    tracker.log_metrics({"ok": 1})
print("RUN", tracker.run_id)
"""


@pytest.mark.slow
def test_first_runs_on_an_empty_data_folder_do_not_race(tmp_path: Path):
    """Issue 10 item 19: two first runs raced on MLflow's schema migrations (`_alembic_tmp_... already exists`)."""
    import subprocess
    import sys
    import time

    from mlflow.tracking import MlflowClient

    data, go = tmp_path / "data", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _FIRST_RUN, str(data), str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    time.sleep(8)  # let every process import mlflow and wait at the start line (a hang guard below, not a timing claim)
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(err[-2000:] for _, err in outs)
    run_ids = [out.split("RUN ")[1].strip() for out, _ in outs]
    client = MlflowClient(tracking_uri=parse_config({"data_dir": str(data)}).tracking_uri())
    assert len(client.search_experiments(filter_string="name = 'rubricate'")) == 1
    assert all(client.get_run(r).info.status == "FINISHED" for r in run_ids)
