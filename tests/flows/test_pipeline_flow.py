"""The main flow end to end on real Prefect (test harness), real DuckDB and real MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import prefect_artifacts


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"q": "What is 2+3?", "r": "2+3=5. The answer is 5.", "a": "5"}\n'
        "{not json\n"
        '{"q": "What is 2+2?", "r": "", "a": "4"}\n'
    )
    cfg = {
        "data_dir": str(tmp_path / "data"),
        "sources": [
            {"name": "sample", "reader": "sample", "options": {"n_problems": 8, "seed": 1}},
            {"name": "mine", "reader": "jsonl", "path": str(bad), "fields": {"problem": "q", "response": "r", "gold_answer": "a"}},
        ],
        "verify": {"workers": 2, "timeout_s": 5},
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_pipeline_flow_runs_tracks_and_is_idempotent(prefect_harness, demo_config: Path):
    from mlflow.tracking import MlflowClient

    from flows.pipeline import pipeline
    from rubricate.config import load_config
    from rubricate.store import close_all, open_store

    cfg = load_config(demo_config)
    first = pipeline(config_path=str(demo_config))
    sample = first["reports"]["ingest sample"]
    mine = first["reports"]["ingest mine"]
    assert sample["n_accepted"] > 0 and sample["n_rejected"] == 0
    assert (mine["n_in"], mine["n_accepted"], mine["n_rejected"]) == (3, 1, 2)
    verify = first["reports"]["verify"]
    assert verify["n_verified"] == sample["n_accepted"] + 1  # every trace with a gold answer got a verdict

    store = open_store(cfg.store_path())
    reasons = {r[0] for r in store.cursor().execute("SELECT reason FROM rejected_rows").fetchall()}
    assert reasons == {"malformed_json", "empty_response"}

    run = MlflowClient(tracking_uri=cfg.tracking_uri()).get_run(first["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["ingest.mine.n_rejected"] == 2
    assert "verify.n_verified" in run.data.metrics
    artifacts = {a.path for a in MlflowClient(tracking_uri=cfg.tracking_uri()).list_artifacts(run.info.run_id)}
    assert {"summary.md", "summary.json"} <= artifacts
    assert "| sample |" in first["summary"]
    assert "| sample |" in prefect_artifacts("pipeline-summary")[0]

    second = pipeline(config_path=str(demo_config))
    assert second["reports"]["ingest sample"]["n_accepted"] == 0
    assert second["reports"]["ingest mine"]["n_accepted"] == 0
    assert second["reports"]["verify"]["n_verified"] == 0
    assert store.table_counts(["traces"])["traces"] == sample["n_accepted"] + 1
    close_all()
