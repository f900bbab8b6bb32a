"""The 20%-gold experiment: rules-only and reward rows scored against hidden labels; the flow end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rubricate.rewards.compute import compute_rewards
from rubricate.rewards.config import RewardsConfig
from rubricate.rewards.experiment import comparison_markdown, reward_as_judgement, rule_verdict_as_judgement, score_rewards, score_rules
from rubricate.rewards.rule import RewardRule
from rubricate.store import Store
from tests.conftest import prefect_artifacts
from tests.rewards.reward_rows import add_answer_verdict, add_judge_verdict, add_traces


@pytest.fixture
def labelled(store: Store) -> Store:
    # gold: w* are wrong traces, c* correct ones
    add_traces(
        store,
        [
            {"trace_id": "w1", "gold_answer": "1", "label_correct": False},  # wrong answer: rules catch it
            {"trace_id": "w2", "gold_answer": "1", "label_correct": False},  # right answer, wrong steps: rules miss it
            {"trace_id": "w3", "gold_answer": None, "label_correct": False},  # no gold answer: rules abstain
            {"trace_id": "c1", "gold_answer": "1", "label_correct": True},
            {"trace_id": "c2", "gold_answer": "1", "label_correct": True},
        ],
    )
    for t, v in (("w1", "incorrect"), ("w2", "correct"), ("c1", "correct"), ("c2", "error")):
        add_answer_verdict(store, t, v)
    for t, v in (("w2", "incorrect"), ("w3", "incorrect"), ("c1", "correct"), ("c2", "correct")):
        add_judge_verdict(store, t, v)
    return store


def test_mappings() -> None:
    verdicts = ("correct", "incorrect", "no_answer", "error", None)
    assert [rule_verdict_as_judgement(v) for v in verdicts] == ["correct", "incorrect", "incorrect", "error", "error"]
    assert reward_as_judgement(1.0, "scored", 0.5) == "correct"
    assert reward_as_judgement(0.0, "scored", 0.5) == "incorrect"
    assert reward_as_judgement(-1.0, "unscorable", 0.5) == "error"


def test_rules_only_against_hidden_labels(labelled: Store) -> None:
    m = score_rules(labelled, ["w1", "w2", "w3", "c1", "c2"])["metrics"]
    assert (m["tp"], m["fn"], m["tn"], m["fp"]) == (1, 1, 1, 0)  # w3 and c2 abstain
    assert m["n_scored"] == 3 and m["coverage"] == pytest.approx(0.6) and m["n_without_gold_answer"] == 1
    assert m["sensitivity"] == 0.5 and m["specificity"] == 1.0


def test_reward_with_process_check_catches_what_rules_miss(labelled: Store) -> None:
    ids = ["w1", "w2", "w3", "c1", "c2"]
    report = compute_rewards(labelled, RewardsConfig(rule=RewardRule(process_check=True)))
    res = score_rewards(labelled, report.reward_set_id, ids)
    m = res["metrics"]
    assert (m["tp"], m["fn"], m["tn"], m["fp"]) == (3, 0, 1, 0)  # w2 caught by the judge, w3 by the judge; c2 unverified
    assert res["decided_by"] == {"judge": 3, "none": 1, "rules": 1}
    table = comparison_markdown({"rules only": score_rules(labelled, ids), "reward": res}, n_labelled=25, n_build=5, fraction=0.2)
    assert "| rules only | 5 | 3 | 0.600 | 0.500 | 1.000 | 0.750 | 1.000 |" in table
    assert "| reward | 5 | 4 | 0.800 | 1.000 | 1.000 | 1.000 | 1.000 |" in table


@pytest.mark.slow
def test_reward_experiment_flow_offline(prefect_harness, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from flows.reward_experiment import reward_experiment
    from rubricate.config import load_config
    from rubricate.ingest import ingest_source
    from rubricate.store import close_all, open_store

    cfg_path = tmp_path / "cfg.yaml"
    sources = [{"name": "sample", "reader": "sample", "options": {"n_problems": 20, "seed": 3}}]
    cfg_path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "sources": sources}))
    cfg = load_config(cfg_path)
    try:
        ingest_source(open_store(cfg.store_path()), cfg.sources[0])
        result = reward_experiment(config_path=str(cfg_path))
        methods = result["methods"]
        assert set(methods) == {"rules only", "offline judge", "reward (rules + offline judge)"}
        assert result["n_build"] > 0 and result["n_eval"] > result["n_build"]  # 20% visible, the rest hidden
        assert all(m["n"] == result["n_eval"] for m in methods.values())
        client = MlflowClient(cfg.tracking_uri())
        run = client.get_run(result["mlflow_run_id"])
        assert "rules.balanced_accuracy" in run.data.metrics and "offline.balanced_accuracy" in run.data.metrics
        assert "reward.sensitivity" in run.data.metrics
        arts = {a.path for a in client.list_artifacts(run.info.run_id, "experiment")}
        assert "experiment/comparison.md" in arts
        assert prefect_artifacts("reward-experiment")[0] == result["table"]  # what the Prefect UI shows on the flow run
        saved = json.loads(Path(client.download_artifacts(run.info.run_id, "experiment/comparison.json", str(tmp_path))).read_text())
        assert saved["methods"] == json.loads(json.dumps(methods))
    finally:
        close_all()
