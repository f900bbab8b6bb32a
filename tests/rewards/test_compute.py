"""Reward rows computed in DuckDB from stored verdicts (real DuckDB in tmp_path, no model)."""

from __future__ import annotations

from datetime import datetime

import pytest

from rubricate.rewards.compute import compute_rewards, resolve_judge
from rubricate.rewards.config import RewardsConfig
from rubricate.rewards.errors import RewardError
from rubricate.rewards.rule import PenaltyConfig, RewardInputs, RewardRule, consults_judge, decide
from rubricate.store import Store
from tests.rewards.reward_rows import add_answer_verdict, add_judge_verdict, add_traces


def rows(store: Store, set_id: str) -> dict[str, dict]:
    cur = store.cursor()
    try:
        res = cur.execute("SELECT * FROM rewards WHERE reward_set_id = $s ORDER BY trace_id", {"s": set_id})
        names = [d[0] for d in res.description]
        return {r[names.index("trace_id")]: dict(zip(names, r)) for r in res.fetchall()}
    finally:
        cur.close()


def test_rewards_follow_the_rule_and_record_provenance(reward_store: Store) -> None:
    report = compute_rewards(reward_store, RewardsConfig())
    assert report.judge_id == "judge-a" and report.rubric_version == "rv1"  # the only judge in the store
    got = rows(reward_store, report.reward_set_id)
    assert {t: (r["status"], r["source"], r["reason"], r["reward"]) for t, r in got.items()} == {
        "t1": ("scored", "rules", "rules_correct", 1.0),
        "t2": ("scored", "llm_verifier", "llm_verifier_correct", 1.0),
        "t3": ("scored", "rules", "rules_incorrect", 0.0),
        "t4": ("scored", "judge", "judge_incorrect", 0.0),
        "t5": ("dropped", "none", "judge_error", None),
        "t6": ("dropped", "none", "no_answer", None),
    }
    assert (report.n_traces, report.n_scored, report.n_unscorable, report.n_dropped) == (6, 4, 0, 2)
    t4 = got["t4"]
    assert (t4["rubric_version"], t4["judge_model"], t4["judge_prompt_id"], t4["judge_first_error_step"]) == ("rv1", "test-model", "prompt-1", 0)
    assert got["t2"]["llm_verifier_id"] == "llm-test" and got["t1"]["rule_verifier_id"] == "rules-test"
    assert all(r["config_hash"] == RewardRule().rule_hash() for r in got.values())
    # every stored row agrees with the pure rule on the inputs it recorded
    for r in got.values():
        has_gold = r["trace_id"] not in ("t4", "t5")
        d = decide(RewardInputs(has_gold, r["rule_verdict"], r["llm_verdict"], r["judge_verdict"]), RewardRule())
        assert (d.status, d.reason, d.reward) == (r["status"], r["reason"], r["reward"])


def test_changing_the_rule_recomputes_without_models_and_keeps_the_old_set(reward_store: Store) -> None:
    first = compute_rewards(reward_store, RewardsConfig())
    strict = RewardsConfig(rule=RewardRule(process_check=True, unscorable="value", unscorable_value=-1.0))
    second = compute_rewards(reward_store, strict)
    assert second.reward_set_id != first.reward_set_id
    got = rows(reward_store, second.reward_set_id)
    # t1: right answer but the judge found an error -> process_error
    assert (got["t1"]["source"], got["t1"]["reason"], got["t1"]["reward"]) == ("judge", "process_error", 0.0)
    # t2: LLM verifier right, no judge verdict for it -> unscorable with the stated value
    assert (got["t2"]["status"], got["t2"]["reason"], got["t2"]["reward"]) == ("unscorable", "no_judge_verdict", -1.0)
    assert len(rows(reward_store, first.reward_set_id)) == 6  # the earlier set is untouched
    # recomputing the same set replaces its rows instead of adding more
    again = compute_rewards(reward_store, strict)
    assert again.reward_set_id == second.reward_set_id and len(rows(reward_store, again.reward_set_id)) == 6
    assert reward_store.scalar("rewards/set_counts", {"reward_set_id": second.reward_set_id}) == 6


def test_new_verdicts_change_the_recomputed_reward(reward_store: Store) -> None:
    cfg = RewardsConfig()
    before = rows(reward_store, compute_rewards(reward_store, cfg).reward_set_id)
    assert before["t3"]["reward"] == 0.0
    add_answer_verdict(reward_store, "t3", "correct", by="llm")  # the LLM verifier catches a false negative later
    after = rows(reward_store, compute_rewards(reward_store, cfg).reward_set_id)
    assert (after["t3"]["source"], after["t3"]["reward"]) == ("llm_verifier", 1.0)


def test_latest_verifier_verdict_wins_unless_an_id_is_configured(store: Store) -> None:
    add_traces(store, [{"trace_id": "a", "gold_answer": "1"}])
    add_answer_verdict(store, "a", "incorrect", verifier_id="rules-v1", at=datetime(2026, 1, 1))
    add_answer_verdict(store, "a", "correct", verifier_id="rules-v2", at=datetime(2026, 2, 1))
    latest = rows(store, compute_rewards(store, RewardsConfig()).reward_set_id)["a"]
    assert (latest["rule_verifier_id"], latest["reward"]) == ("rules-v2", 1.0)
    pinned = RewardsConfig(rule=RewardRule(rule_verifier_id="rules-v1"))
    old = rows(store, compute_rewards(store, pinned).reward_set_id)["a"]
    assert (old["rule_verifier_id"], old["reward"]) == ("rules-v1", 0.0)


def test_penalty_and_truncation_from_stored_traces(store: Store) -> None:
    add_traces(
        store,
        [
            {"trace_id": "long", "gold_answer": "1", "response": "x" * 100},
            {"trace_id": "short", "gold_answer": "1", "response": "x"},
            {"trace_id": "cut", "gold_answer": "1", "response": "x" * 100, "extra": {"finish_reason": "length"}},
        ],
    )
    for t in ("long", "short", "cut"):
        add_answer_verdict(store, t, "correct")
    cfg = RewardsConfig(rule=RewardRule(penalty=PenaltyConfig(min_response_chars=10, truncated=True, amount=0.3)))
    got = rows(store, compute_rewards(store, cfg).reward_set_id)
    assert got["long"]["reward"] == 1.0
    assert got["short"]["reward"] == pytest.approx(0.7) and got["short"]["penalty"] == 0.3
    assert got["cut"]["reward"] == pytest.approx(0.7)


def test_dataset_filter(reward_store: Store) -> None:
    report = compute_rewards(reward_store, RewardsConfig(datasets=["ds-b"]))
    assert set(rows(reward_store, report.reward_set_id)) == {"t4", "t5", "t6"}


def test_judge_choice_errors_name_the_fix(reward_store: Store) -> None:
    add_judge_verdict(reward_store, "t4", "correct", judge_id="judge-b", kind="plain", rubric_version=None)
    with pytest.raises(RewardError, match="several judges.*rewards.judge_id"):
        compute_rewards(reward_store, RewardsConfig())
    assert resolve_judge(reward_store, None, "rv1").judge_id == "judge-a"  # the rubric version picks one
    plain = compute_rewards(reward_store, RewardsConfig(judge_id="judge-b"))
    assert rows(reward_store, plain.reward_set_id)["t4"]["reward"] == 1.0
    with pytest.raises(RewardError, match="judge 'nope' has no verdicts"):
        compute_rewards(reward_store, RewardsConfig(judge_id="nope"))
    with pytest.raises(RewardError, match="no judge verdicts for rubric version 'rv9'"):
        compute_rewards(reward_store, RewardsConfig(rubric_version="rv9"))


def test_a_choice_of_judge_is_asked_for_only_when_the_rule_would_consult_one(store: Store) -> None:
    add_traces(store, [{"trace_id": "g1", "gold_answer": "1", "dataset": "gold"}, {"trace_id": "g2", "gold_answer": "2", "dataset": "gold"},
                       {"trace_id": "n", "gold_answer": None, "dataset": "nogold"}])
    add_answer_verdict(store, "g1", "correct")
    add_answer_verdict(store, "g2", "incorrect")
    for judge in ("judge-a", "judge-b"):
        add_judge_verdict(store, "g1", "incorrect", judge_id=judge)
    # every trace in scope has a gold answer and process_check is off: no judge is consulted, none is needed
    report = compute_rewards(store, RewardsConfig(datasets=["gold"]))
    assert report.judge_id is None
    assert {t: r["reward"] for t, r in rows(store, report.reward_set_id).items()} == {"g1": 1.0, "g2": 0.0}
    with pytest.raises(RewardError, match="several judges"):  # process_check consults the judge on g1
        compute_rewards(store, RewardsConfig(datasets=["gold"], rule=RewardRule(process_check=True)))
    with pytest.raises(RewardError, match="several judges"):  # the judge decides the trace with no gold answer
        compute_rewards(store, RewardsConfig())
    assert consults_judge(RewardRule(), has_gold=False) and not consults_judge(RewardRule(), has_gold=True)


def test_no_judge_at_all_still_scores_gold_traces(store: Store) -> None:
    add_traces(store, [{"trace_id": "g", "gold_answer": "1"}, {"trace_id": "n", "gold_answer": None}])
    add_answer_verdict(store, "g", "correct")
    report = compute_rewards(store, RewardsConfig())
    got = rows(store, report.reward_set_id)
    assert report.judge_id is None
    assert (got["g"]["reward"], got["n"]["reason"]) == (1.0, "no_judge_verdict")
