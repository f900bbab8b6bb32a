"""judge_eval end to end: real Prefect (harness), DuckDB, MLflow, and a real local server."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import prefect_artifacts
from tests.judge.helpers import flow_config as _config
from tests.judge.helpers import ingest_first_source as _ingest
from tests.judge.judge_sim import judge_script
from tests.stub_server import StubOpenAIServer


@pytest.mark.slow
def test_judge_eval_logs_metrics_and_reruns_make_no_calls(prefect_harness, tmp_path, rubric):
    from mlflow.tracking import MlflowClient

    from flows.judge_eval import judge_eval
    from rubricate.config import load_config

    with StubOpenAIServer(judge_script()) as server:
        path = _config(tmp_path, server)
        _ingest(path)
        rubric_file = rubric.to_json(tmp_path / "rubric.json")
        first = judge_eval(config_path=str(path), judges=["rubric", "plain"], rubric_path=str(rubric_file))
        assert first["split"]["n_build"] == 4 and first["split"]["n_eval"] == 16  # 20% gold budget
        for kind in ("rubric", "plain"):
            m = first["judges"][kind]["metrics"]
            assert m["n"] == 16 and m["n_judge_errors"] == 0
            assert m["balanced_accuracy"] == 1.0 and m["pb_f1"] == 1.0  # the simulator is a perfect judge
        assert first["judges"]["rubric"]["items"]["arith"]["present_on_correct"] == 0
        assert server.n_requests > 0
        cfg = load_config(path)
        client = MlflowClient(tracking_uri=cfg.tracking_uri())
        run = client.get_run(first["mlflow_run_id"])
        assert run.data.metrics["rubric.balanced_accuracy"] == 1.0 and "plain.pb_f1" in run.data.metrics
        assert run.data.metrics["rubric.item.arith.present_on_wrong"] > 0 and "rubric.prompt_tokens" in run.data.metrics
        arts = {a.path for a in client.list_artifacts(run.info.run_id, "judge_eval")}
        assert {"judge_eval/confusion_rubric.png", "judge_eval/confusion_plain.png", "judge_eval/rubric.json"} <= arts
        assert "judge_eval.md" in {a.path for a in client.list_artifacts(run.info.run_id)}
        shown = prefect_artifacts("judge-eval")[0]  # what the Prefect UI shows on the flow run
        assert "16 held-out traces scored" in shown and "| rubric | 1.000 |" in shown and "| plain | 1.000 |" in shown
        server.reset_counts()
        again = judge_eval(config_path=str(path), judges=["rubric", "plain"], rubric_path=str(rubric_file))
        assert server.n_requests == 0
        assert again["judges"]["rubric"]["metrics"] == first["judges"]["rubric"]["metrics"]

        # The same traces offline: no model at all, the embedding judge learns from the 20% gold budget.
        offline_cfg = yaml.safe_load(path.read_text()) | {"llm": {"kind": "none"}}
        offline_path = tmp_path / "offline.yaml"
        offline_path.write_text(yaml.safe_dump(offline_cfg))
        server.reset_counts()
        result = judge_eval(config_path=str(offline_path), rubric_path=str(rubric_file))  # judge.kind auto + llm none = offline
        m = result["judges"]["offline"]["metrics"]
        assert m["n"] == 16 and m["n_judge_errors"] == 0 and m["balanced_accuracy"] is not None
        assert result["judges"]["offline"]["offline_fit"]["n_traces"] == 4
        assert server.n_requests == 0


