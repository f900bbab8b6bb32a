"""collect_traces' core: k samples per stored problem through the cache, written as verl rollouts, ingested."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rubricate.collect.config import CollectConfig
from rubricate.collect.rollouts import ingest_rollouts, sample_problem_set
from rubricate.config import SourceConfig
from rubricate.ingest.problems import ingest_problem_set
from rubricate.llm.backends import get_backend
from tests.conftest import shared_data
from tests.llm.helpers import litellm_cfg
from tests.stub_server import Reply


def _sampler(body, n):
    # a different answer per sample (the seed moves with the sample index), one of them cut off
    seed = body.get("seed", 0)
    return Reply(content=f"Step one.\n\nStep two, sample {seed}.\n\nSo the answer is \\boxed{{{seed}}}.",
                 finish_reason="length" if seed == 2 else "stop")


def _problem_set(tmp_path: Path) -> Path:
    rows = [{
        "prompt": [{"role": "user", "content": f"What is {i} + {i}? Put the answer in a box."}],
        "data_source": "tiny", "ability": "math", "reward_model": {"ground_truth": str(2 * i), "style": "rule"},
        "extra_info": {"index": i, "split": "train"},
    } for i in range(3)]
    path = tmp_path / "problems.parquet"
    pl.DataFrame(rows).write_parquet(path)
    return path


def test_samples_k_per_problem_and_a_rerun_makes_no_calls(server, store, tmp_path):
    server.script = _sampler
    path = _problem_set(tmp_path)
    ingest_problem_set(store, SourceConfig(name="tiny", reader="verl", path=str(path), options={"problems_only": True}))
    cfg = CollectConfig(policy=litellm_cfg(server), samples_per_problem=3, temperature=0.8, max_tokens=64)
    report = sample_problem_set(store, get_backend(cfg.policy, store=store), cfg, source_path=str(path), output_dir=tmp_path / "out")
    assert (report.n_problems, report.n_requested, report.n_sampled, report.n_failed) == (3, 9, 9, 0)
    assert {b["temperature"] for b in server.bodies} == {0.8} and {b["max_tokens"] for b in server.bodies} == {64}
    # requests run concurrently: arrival order is not fixed, so look for the prompt among all of them
    assert [{"role": "user", "content": "What is 0 + 0? Put the answer in a box."}] in [b["messages"] for b in server.bodies]
    ingest = ingest_rollouts(store, report.rollout_path)
    assert (ingest.n_in, ingest.n_accepted, ingest.n_rejected) == (9, 9, 0)
    cur = store.cursor()
    rows = cur.execute(
        "SELECT t.gold_answer, t.model, json_extract_string(t.extra, '$.finish_reason'), t.problem_id = p.problem_id "
        "FROM traces t JOIN problems p ON p.problem = t.problem ORDER BY t.source_id"
    ).fetchall()
    cur.close()
    assert len(rows) == 9 and all(r[3] for r in rows)  # traces join back to their problem
    assert {r[0] for r in rows} == {"0", "2", "4"} and {r[1] for r in rows} == {"openai/stub-model"}
    assert sum(r[2] == "length" for r in rows) == 3  # truncation is kept for the reward stage
    server.reset_counts()
    again = sample_problem_set(store, get_backend(cfg.policy, store=store), cfg, source_path=str(path), output_dir=tmp_path / "out")
    assert server.n_requests == 0 and again.n_cached == 9 and again.rollout_path == report.rollout_path
    assert ingest_rollouts(store, again.rollout_path).n_accepted == 0


def test_big_math_problems_are_sampled_with_their_own_prompt(server, store, tmp_path):
    path = shared_data("big_math_5k", "bigmath_rl_tinyv_train.parquet")
    server.script = _sampler
    src = SourceConfig(name="big_math", reader="verl", path=str(path), options={"problems_only": True}, limit=4)
    ingest_problem_set(store, src)
    cfg = CollectConfig(policy=litellm_cfg(server), samples_per_problem=2)
    report = sample_problem_set(store, get_backend(cfg.policy, store=store), cfg, output_dir=tmp_path / "out")
    assert report.n_sampled == 8
    assert all("\\boxed{}" in b["messages"][-1]["content"] for b in server.bodies)  # the set's own instruction, not ours
    assert ingest_rollouts(store, report.rollout_path, name="big_math_rollouts").n_accepted == 8


def test_no_problems_is_a_clear_error(server, store):
    from rubricate.errors import RubricateError

    with pytest.raises(RubricateError, match="ingest the problem set first"):
        sample_problem_set(store, get_backend(litellm_cfg(server)), CollectConfig())
