"""The reward rule as a table of cases (pure: no store, no model)."""

from __future__ import annotations

import pytest

from rubricate.config import ConfigError, parse_config
from rubricate.rewards.rule import (
    PenaltyConfig,
    RewardInputs,
    RewardRule,
    decide,
    decision_table,
    normalise_answer_verdict,
    normalise_judge_verdict,
    rule_markdown,
)

DEFAULT = RewardRule()
KEEP = RewardRule(unscorable="value", unscorable_value=-1.0)
PROCESS = RewardRule(process_check=True)
NO_LLM = RewardRule(use_llm_verifier=False)

# (rule, inputs, expected (status, source, reason, reward))
CASES = [
    # gold answer: rules first
    (DEFAULT, RewardInputs(True, "correct", "incorrect", "incorrect"), ("scored", "rules", "rules_correct", 1.0)),
    # rules reject, LLM verifier recovers the false negative
    (DEFAULT, RewardInputs(True, "incorrect", "correct"), ("scored", "llm_verifier", "llm_verifier_correct", 1.0)),
    (DEFAULT, RewardInputs(True, "incorrect", "incorrect"), ("scored", "llm_verifier", "llm_verifier_incorrect", 0.0)),
    # the LLM verifier also decides where the rules erred or found no answer
    (DEFAULT, RewardInputs(True, "error", "correct"), ("scored", "llm_verifier", "llm_verifier_correct", 1.0)),
    (DEFAULT, RewardInputs(True, "no_answer", "incorrect"), ("scored", "llm_verifier", "llm_verifier_incorrect", 0.0)),
    # no usable LLM verdict: the rules' incorrect stands
    (DEFAULT, RewardInputs(True, "incorrect", "error"), ("scored", "rules", "rules_incorrect", 0.0)),
    (DEFAULT, RewardInputs(True, "incorrect", "missing"), ("scored", "rules", "rules_incorrect", 0.0)),
    (NO_LLM, RewardInputs(True, "incorrect", "correct"), ("scored", "rules", "rules_incorrect", 0.0)),
    # no answer / not verified: unscorable, dropped by default
    (DEFAULT, RewardInputs(True, "no_answer", "missing"), ("dropped", "none", "no_answer", None)),
    (DEFAULT, RewardInputs(True, "error", "no_answer"), ("dropped", "none", "no_answer", None)),
    (DEFAULT, RewardInputs(True, "error", "error"), ("dropped", "none", "answer_unverified", None)),
    (DEFAULT, RewardInputs(True, "missing", "missing", "correct"), ("dropped", "none", "answer_unverified", None)),
    (KEEP, RewardInputs(True, "no_answer"), ("unscorable", "none", "no_answer", -1.0)),
    # no gold answer: the judge decides
    (DEFAULT, RewardInputs(False, judge_verdict="correct"), ("scored", "judge", "judge_correct", 1.0)),
    (DEFAULT, RewardInputs(False, judge_verdict="incorrect"), ("scored", "judge", "judge_incorrect", 0.0)),
    (DEFAULT, RewardInputs(False, judge_verdict="error"), ("dropped", "none", "judge_error", None)),
    (DEFAULT, RewardInputs(False), ("dropped", "none", "no_judge_verdict", None)),
    (KEEP, RewardInputs(False, judge_verdict="error"), ("unscorable", "none", "judge_error", -1.0)),
    # answer verdicts are ignored without a gold answer (a stale verdict cannot score it)
    (DEFAULT, RewardInputs(False, "correct", "correct", "incorrect"), ("scored", "judge", "judge_incorrect", 0.0)),
    # process check: a right answer must pass the judge too
    (PROCESS, RewardInputs(True, "correct", judge_verdict="correct"), ("scored", "judge", "process_ok", 1.0)),
    (PROCESS, RewardInputs(True, "correct", judge_verdict="incorrect"), ("scored", "judge", "process_error", 0.0)),
    (PROCESS, RewardInputs(True, "incorrect", "correct", "incorrect"), ("scored", "judge", "process_error", 0.0)),
    (PROCESS, RewardInputs(True, "correct", judge_verdict="error"), ("dropped", "none", "judge_error", None)),
    (PROCESS, RewardInputs(True, "correct"), ("dropped", "none", "no_judge_verdict", None)),
    # ... a wrong answer stays wrong whatever the judge says
    (PROCESS, RewardInputs(True, "incorrect", judge_verdict="correct"), ("scored", "rules", "rules_incorrect", 0.0)),
    # custom reward values
    (RewardRule(correct_value=1.0, incorrect_value=-1.0), RewardInputs(True, "incorrect"), ("scored", "rules", "rules_incorrect", -1.0)),
]


@pytest.mark.parametrize("rule,inputs,expected", CASES)
def test_rule_cases(rule: RewardRule, inputs: RewardInputs, expected: tuple) -> None:
    d = decide(inputs, rule)
    assert (d.status, d.source, d.reason, d.reward) == expected


def test_penalty_for_short_and_truncated_traces() -> None:
    rule = RewardRule(penalty=PenaltyConfig(min_response_chars=20, truncated=True, amount=0.25))
    assert decide(RewardInputs(True, "correct", short=True), rule).reward == 0.75
    assert decide(RewardInputs(True, "correct", truncated=True), rule).reward == 0.75
    assert decide(RewardInputs(True, "incorrect", short=True), rule).reward == -0.25
    d = decide(RewardInputs(True, "correct"), rule)
    assert (d.reward, d.penalty, d.base_reward) == (1.0, 0.0, 1.0)
    # penalties switched off: the same inputs are not penalised
    assert decide(RewardInputs(True, "correct", short=True, truncated=True), RewardRule()).reward == 1.0
    # unscorable rows carry the stated value, never a penalty
    keep = RewardRule(unscorable="value", unscorable_value=0.1, penalty=PenaltyConfig(min_response_chars=20))
    assert decide(RewardInputs(True, "no_answer", short=True), keep).reward == 0.1


def test_decision_table_covers_every_input_once_and_matches_decide() -> None:
    rule = RewardRule(process_check=True, penalty=PenaltyConfig(min_response_chars=5, amount=0.5))
    table = decision_table(rule)
    keys = [(r["has_gold"], r["rule_verdict"], r["llm_verdict"], r["judge_verdict"], r["short"], r["truncated"]) for r in table]
    assert len(keys) == len(set(keys)) == 2 * 5 * 5 * 4 * 2 * 2
    for row, key in zip(table, keys):
        d = decide(RewardInputs(*key), rule)
        assert (row["status"], row["reward"], row["reason"]) == (d.status, d.reward, d.reason)
        # invariants: dropped <=> no reward; scored rows always have a source stage
        assert (row["reward"] is None) == (row["status"] == "dropped")
        assert (row["source"] == "none") == (row["status"] != "scored")


def test_normalisation_of_stored_verdicts() -> None:
    assert normalise_answer_verdict(None) == "missing"
    assert normalise_answer_verdict("correct") == "correct"
    assert normalise_answer_verdict("CORRECT?") == "error"
    assert normalise_answer_verdict("missing") == "error"  # only NULL means missing
    assert normalise_judge_verdict("no_answer") == "error"
    assert normalise_judge_verdict(None) == "missing"


def test_rule_hash_changes_with_the_rule_only() -> None:
    assert RewardRule().rule_hash() == RewardRule().rule_hash()
    assert RewardRule().rule_hash() != RewardRule(process_check=True).rule_hash()


def test_rewards_section_in_pipeline_config() -> None:
    cfg = parse_config({"rewards": {"rule": {"unscorable": "value", "unscorable_value": -0.5}, "judge_id": "j1"}})
    assert cfg.rewards.rule.unscorable_value == -0.5 and cfg.rewards.judge_id == "j1"
    with pytest.raises(ConfigError, match="rewards.rule.unscorable"):
        parse_config({"rewards": {"rule": {"unscorable": "skip"}}})
    with pytest.raises(ConfigError, match="rewards.rule.procces_check"):
        parse_config({"rewards": {"rule": {"procces_check": True}}})


def test_rule_markdown_lists_outcomes() -> None:
    md = rule_markdown(RewardRule())
    for reason in ("rules_correct", "llm_verifier_correct", "rules_incorrect", "no_answer", "judge_error"):
        assert reason in md
