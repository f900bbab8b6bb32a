"""judge_eval and collect_traces end to end: real Prefect (harness), DuckDB, MLflow, and a real local server."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from rubricate.llm.stub_server import Reply, StubOpenAIServer
from tests.judge.conftest import arithmetic_traces
from tests.judge.judge_sim import judge_script


def _ingest(path: Path) -> None:
    from rubricate.config import load_config
    from rubricate.ingest.run import ingest_source
    from rubricate.store import open_store

    cfg = load_config(path)
    ingest_source(open_store(cfg.store_path()), cfg.sources[0])


def _config(tmp_path: Path, server: StubOpenAIServer, **extra) -> Path:
    traces = tmp_path / "labelled.jsonl"
    with traces.open("w") as fh:
        for t in arithmetic_traces(30):
            fh.write(json.dumps({"q": t.problem, "steps": list(t.steps), "ok": t.label_correct, "err": t.label_first_error_step}) + "\n")
    cfg = {
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "arith", "reader": "jsonl", "path": str(traces),
                     "fields": {"problem": "q", "response": None, "steps": "steps", "label_correct": "ok", "label_first_error_step": "err"}}],
        "llm": {"kind": "litellm", "model": "openai/judge-sim", "api_base": server.url, "max_retries": 1, "retry_base_s": 0.01},
        **extra,
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


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
        assert first["split"]["n_build"] == 6 and first["split"]["n_eval"] == 24  # 20% gold budget
        for kind in ("rubric", "plain"):
            m = first["judges"][kind]["metrics"]
            assert m["n"] == 24 and m["n_judge_errors"] == 0
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
        server.reset_counts()
        again = judge_eval(config_path=str(path), judges=["rubric", "plain"], rubric_path=str(rubric_file))
        assert server.n_requests == 0
        assert again["judges"]["rubric"]["metrics"] == first["judges"]["rubric"]["metrics"]


@pytest.mark.slow
def test_judge_eval_offline_needs_no_model(prefect_harness, tmp_path):
    from flows.judge_eval import judge_eval

    with StubOpenAIServer() as server:
        path = _config(tmp_path, server, llm={"kind": "none"})
        _ingest(path)
        result = judge_eval(config_path=str(path), gold_fraction=0.5)  # judge.kind auto + llm none = offline
        m = result["judges"]["offline"]["metrics"]
        assert m["n"] == 15 and m["n_judge_errors"] == 0 and m["balanced_accuracy"] is not None
        assert result["judges"]["offline"]["offline_fit"]["n_traces"] == 15
        assert server.n_requests == 0


@pytest.mark.slow
def test_collect_traces_flow(prefect_harness, tmp_path):
    from flows.collect_traces import collect_traces

    rows = [{"prompt": [{"role": "user", "content": f"What is {i}+{i}?"}], "data_source": "tiny", "ability": "math",
             "reward_model": {"ground_truth": str(2 * i), "style": "rule"}, "extra_info": {"index": i}} for i in range(4)]
    problems = tmp_path / "problems.parquet"
    pl.DataFrame(rows).write_parquet(problems)
    with StubOpenAIServer(lambda body, n: Reply(content=f"Add.\n\nThe answer is \\boxed{{{body.get('seed')}}}.")) as server:
        path = _config(tmp_path, server, collect={"policy": {"kind": "litellm", "model": "openai/policy", "api_base": server.url},
                                                  "samples_per_problem": 2})
        cfg = yaml.safe_load(path.read_text())
        cfg["sources"].append({"name": "tiny", "reader": "verl", "path": str(problems), "options": {"problems_only": True}})
        path.write_text(yaml.safe_dump(cfg))
        first = collect_traces(config_path=str(path), source="tiny")
        assert first["problems"]["n_accepted"] == 4 and first["sample"]["n_sampled"] == 8 and first["traces"]["n_accepted"] == 8
        server.reset_counts()
        again = collect_traces(config_path=str(path), source="tiny")
        assert server.n_requests == 0 and again["traces"]["n_accepted"] == 0
