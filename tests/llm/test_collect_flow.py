"""collect_traces end to end: real Prefect (harness), DuckDB, MLflow, and a real local server."""

from __future__ import annotations

import polars as pl
import pytest
import yaml

from tests.judge.helpers import flow_config as _config
from tests.stub_server import Reply, StubOpenAIServer


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
