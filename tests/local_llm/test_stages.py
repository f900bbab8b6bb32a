"""Every LLM stage end to end against real inference (SmolLM2-135M on llama.cpp): describe, name,
false-negative recovery, rubric judge, plain judge, collect.

The contract, not quality: every answer is a parsed result or an error row with a reason (never a silent
drop, never a score for what was not judged), token counts are recorded, and a rerun makes no new requests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rubricate.collect.config import CollectConfig
from rubricate.collect.rollouts import ingest_rollouts, sample_problem_set
from rubricate.config import SourceConfig
from rubricate.ingest.problems import ingest_problem_set
from rubricate.judge.llm_judges import PlainJudge, RubricJudge
from rubricate.judge.stage import judge_traces
from rubricate.llm.backends import get_backend
from rubricate.rubric.build import build_rubric_version
from rubricate.rubric.descriptions import describe_new_traces
from rubricate.rubric.model import Rubric, RubricItem
from rubricate.verify.llm_addon import final_answer_verdicts, recover_false_negatives
from tests.helpers import sql_records
from tests.judge.helpers import add_traces, arithmetic_traces
from tests.llm.test_collect import _problem_set as problem_set
from tests.llm.test_verify_addon import _setup as setup_rule_verdicts
from tests.rubric.conftest import fast_rubric, ingest_rows
from tests.rubric.synthetic import synthetic_rows

pytestmark = pytest.mark.slow




def rubric() -> Rubric:
    items = [
        RubricItem(item_id="arith", name="Arithmetic slip", keyword="arithmetic", description="A calculation in a step gives the wrong result.",
                   how_to_check="Recompute every calculation.", category="calculation", examples=["computes 7 * 8 = 54"]),
        RubricItem(item_id="cond", name="Ignores a condition", keyword="constraint", description="The solution drops a condition the problem states.",
                   how_to_check="Check each stated condition is used.", category="reading", examples=["forgets x must be positive"]),
    ]
    return Rubric(version_id="rv-local", items=items)


def test_describe_errors_with_the_model(smol, store, tmp_path: Path):
    ingest_rows(store, tmp_path, synthetic_rows(1), "syn")  # three wrong traces
    rcfg = fast_rubric(source="llm", llm_max_attempts=1)
    cfg = smol.model_copy(update={"max_tokens": 80})
    report = describe_new_traces(store, rcfg, cfg)
    assert report.n_candidates == 3 and report.n_ok + report.n_error == 3
    described = sql_records(store, "SELECT status, description, error, model, attempts FROM error_descriptions")
    assert len(described) == 3
    for d in described:
        assert d["status"] in ("ok", "error") and d["model"] == "smollm2-135m"
        assert (d["description"] or "").strip() if d["status"] == "ok" else d["error"]
    # what was described is not described again; an error is retried only while attempts remain (1 here)
    assert describe_new_traces(store, rcfg, cfg).n_candidates == 0


def test_name_rubric_items_with_the_model(smol, store, tmp_path: Path):
    ingest_rows(store, tmp_path, synthetic_rows(12), "syn")  # dataset descriptions: three clear kinds of error
    rcfg = fast_rubric(naming={"namer": "llm", "n_central": 2, "n_contrast": 1})
    cfg = smol.model_copy(update={"max_tokens": 80})
    describe_new_traces(store, rcfg, cfg)
    backend = get_backend(cfg, store=store)
    report = build_rubric_version(store, rcfg, cfg, backend=backend)
    assert report.created and report.n_items >= 2
    items = sql_records(store, "SELECT name, named_by FROM rubric_items WHERE version_id = $v", {"v": report.version_id})
    assert len(items) == report.n_items
    for item in items:  # named by the model, or kept the offline name and say why the model's answer failed
        assert item["named_by"] == "llm:smollm2-135m" or item["named_by"].startswith("offline (llm failed: "), item
        assert item["name"].strip()
    assert backend.usage.requests >= report.n_items and backend.usage.prompt_tokens > 0


def test_recover_false_negatives_with_the_model(smol, store):
    setup_rule_verdicts(store)  # one rule acceptance, four rejections (one a false negative, one an injection, one no answer)
    backend = get_backend(smol, store=store)
    report = recover_false_negatives(store, backend)
    assert report.n_asked == 3  # only the rule rejections with an extracted answer to compare
    assert report.n_recovered + report.n_confirmed + report.n_error == 3
    assert report.prompt_tokens > 0
    final = {r["trace_id"]: r for r in final_answer_verdicts(store, report.llm_verifier_id).to_dicts()}
    assert (final["v1"]["verdict"], final["v1"]["decided_by"]) == ("correct", "rules")
    assert (final["v4"]["verdict"], final["v4"]["decided_by"]) == ("no_answer", "rules")  # nothing to compare: never asked
    asked = [final[t] for t in ("v2", "v3", "v5")]
    assert all(v["verdict"] in ("correct", "incorrect") for v in asked)
    # every parsed answer decided its trace; one that did not parse left the rule verdict standing
    assert sum(v["decided_by"] == "llm" for v in asked) == report.n_recovered + report.n_confirmed
    again = get_backend(smol, store=store)
    assert recover_false_negatives(store, again).n_asked == 0


@pytest.mark.parametrize("kind", ["rubric", "plain"])
def test_judge_traces_with_the_model(smol, store, kind: str):
    traces = arithmetic_traces(1 if kind == "rubric" else 2)  # the rubric judge makes two passes per trace
    add_traces(store, traces)
    cfg = smol.model_copy(update={"max_tokens": 80})

    def judge(backend):
        return RubricJudge(backend, rubric(), max_parse_retries=1) if kind == "rubric" else PlainJudge(backend, max_parse_retries=1)

    backend = get_backend(cfg, store=store)
    report = judge_traces(store, judge(backend), [t.trace_id for t in traces])
    assert report.n_judged == len(traces) and report.n_correct + report.n_incorrect + report.n_error == len(traces)
    assert report.prompt_tokens > 0 and report.completion_tokens > 0
    stored = sql_records(store, "SELECT verdict, first_error_step, items, selected, error, error_stage, attempts FROM judge_verdicts")
    assert len(stored) == len(traces)
    for v in stored:
        if v["verdict"] == "error":  # an answer that did not parse after the re-asks: a reason, no score
            assert v["error"] and v["error_stage"] and v["first_error_step"] is None
        else:
            assert v["verdict"] in ("correct", "incorrect") and v["error"] is None
            if kind == "rubric" and v["items"] is not None:
                assert all(i["item_id"] in ("arith", "cond") for i in json.loads(v["items"]))
    # the same judging again (a lost verdict table, another judge id): every answer comes from the cache
    again = get_backend(cfg, store=store)
    judge(again).judge(traces)
    assert again.inner.usage.requests == 0 and again.usage.cached > 0  # type: ignore[attr-defined]


def test_collect_samples_with_the_model(smol, store, tmp_path: Path):
    path = problem_set(tmp_path)  # three problems
    ingest_problem_set(store, SourceConfig(name="tiny", reader="verl", path=str(path), options={"problems_only": True}))
    cfg = CollectConfig(policy=smol, samples_per_problem=1, temperature=0.8, max_tokens=32)
    report = sample_problem_set(store, get_backend(cfg.policy, store=store), cfg, source_path=str(path), output_dir=tmp_path / "out")
    assert (report.n_problems, report.n_requested, report.n_sampled + report.n_failed) == (3, 3, 3)
    ingest = ingest_rollouts(store, report.rollout_path)
    assert ingest.n_in == report.n_sampled and ingest.n_accepted + ingest.n_rejected == ingest.n_in
    backend = get_backend(cfg.policy, store=store)
    again = sample_problem_set(store, backend, cfg, source_path=str(path), output_dir=tmp_path / "out2")
    assert again.n_requested == 3 and backend.inner.usage.requests == 0  # type: ignore[attr-defined]
