"""The export_rewards flow on real Prefect (test harness), real DuckDB and real MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import prefect_artifacts
from tests.rewards.reward_rows import add_answer_verdict, add_judge_verdict, add_traces


@pytest.mark.slow
def test_export_rewards_flow(prefect_harness, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from flows.export_rewards import export_rewards
    from rubricate.config import load_config
    from rubricate.store import close_all, open_store

    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "rewards": {"export": {"formats": ["verl", "trl"]}}}))
    cfg = load_config(cfg_path)
    store = open_store(cfg.store_path())
    add_traces(store, [{"trace_id": f"t{i}", "gold_answer": str(2 * i)} for i in range(5)] + [{"trace_id": "nogold"}])
    for i in range(5):
        add_answer_verdict(store, f"t{i}", "correct" if i % 2 == 0 else "incorrect")
    add_judge_verdict(store, "nogold", "correct")
    try:
        first = export_rewards(config_path=str(cfg_path))
        assert first["rewards"]["n_scored"] == 6
        out = Path(first["export"]["out_dir"])
        assert out == cfg.resolved_data_dir() / "exports" / first["rewards"]["reward_set_id"]
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["rows"] == 6 and manifest["by_source"] == {"judge": 1, "rules": 5}
        assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "trl.jsonl", "trl.parquet", "verl.parquet"]
        before = {p.name: p.read_bytes() for p in out.iterdir()}

        client = MlflowClient(cfg.tracking_uri())
        run = client.get_run(first["mlflow_run_id"])
        assert run.info.status == "FINISHED"
        assert run.data.metrics["rewards.n_scored"] == 6 and run.data.metrics["export.rows"] == 6
        assert run.inputs.dataset_inputs[0].dataset.digest == manifest["digest"]
        assert {"rewards/rule.md", "rewards/reward_set.json"} <= {a.path for a in client.list_artifacts(run.info.run_id, "rewards")}
        shown = prefect_artifacts("reward-export")[0]  # what the Prefect UI shows on the flow run
        assert "# Reward export: 6 rows" in shown and "decided by: judge 1, rules 5" in shown

        # again, same data: the same reward set and byte-identical files
        second = export_rewards(config_path=str(cfg_path))
        assert second["rewards"]["reward_set_id"] == first["rewards"]["reward_set_id"]
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    finally:
        close_all()
