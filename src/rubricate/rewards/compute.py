"""Reward rows in DuckDB: apply the reward rule to the stored verdicts, one SQL statement, no model calls.

`compute_rewards` resolves which judge counts, turns the rule into its decision table, and inserts one
`rewards` row per trace in scope (delete + insert + `reward_sets` row in one transaction, so a recompute
of the same set replaces it atomically). Changing the rule gives a new reward set id; the old set stays.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from rubricate.ids import content_hash
from rubricate.rewards.config import RewardsConfig
from rubricate.rewards.errors import RewardError
from rubricate.rewards.rule import DECISION_KEYS, RewardRule, consults_judge, decision_table
from rubricate.store.db import Statements, Store, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JudgeChoice:
    judge_id: str
    judge_kind: str | None
    rubric_version: str | None
    model: str | None
    n_verdicts: int


@dataclass
class RewardSetReport:
    reward_set_id: str
    config_hash: str
    judge_id: str | None
    rubric_version: str | None
    n_traces: int = 0
    n_scored: int = 0
    n_unscorable: int = 0
    n_dropped: int = 0
    by_reason: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_judge(store: Store, judge_id: str | None, rubric_version: str | None, *, required: bool = True) -> JudgeChoice | None:
    """The judge whose verdicts a reward set uses; None when the store holds no judge verdicts at all, or
    when several do, none was chosen, and the rule would never consult one (`required` False)."""
    rows = [JudgeChoice(**r) for r in store.records("judge/judge_ids_available", {"rubric_version": rubric_version})]
    if judge_id is not None:
        match = [r for r in rows if r.judge_id == judge_id]
        if not match:
            known = ", ".join(f"{r.judge_id} ({r.judge_kind}, rubric {r.rubric_version})" for r in rows) or "none"
            raise RewardError(
                f"judge '{judge_id}' has no verdicts"
                + (f" for rubric version '{rubric_version}'" if rubric_version else "")
                + f" in the store; run the judge first or set rewards.judge_id to one of: {known}"
            )
        return match[0]
    if len(rows) == 1:
        return rows[0]
    if not rows:
        if rubric_version is not None:
            raise RewardError(
                f"no judge verdicts for rubric version '{rubric_version}'; run the rubric judge with that version "
                "or unset rewards.rubric_version"
            )
        return None
    if not required:
        log.info("%d judges have verdicts, none chosen: this rule consults no judge for these traces", len(rows))
        return None
    listing = "; ".join(f"{r.judge_id} ({r.judge_kind}, model {r.model}, rubric {r.rubric_version}, {r.n_verdicts} verdicts)" for r in rows)
    raise RewardError(f"several judges have verdicts; choose one with rewards.judge_id (or rewards.rubric_version): {listing}")


def reward_set_id_for(rule: RewardRule, judge_id: str | None, datasets: list[str] | None) -> str:
    return content_hash("reward-set", rule.rule_hash(), judge_id, sorted(datasets) if datasets else None)


def _decision_arrow(rule: RewardRule) -> Any:
    import pyarrow as pa

    schema = pa.schema(
        [
            ("has_gold", pa.bool_()),
            ("rule_verdict", pa.string()),
            ("llm_verdict", pa.string()),
            ("judge_verdict", pa.string()),
            ("short", pa.bool_()),
            ("truncated", pa.bool_()),
            ("status", pa.string()),
            ("source", pa.string()),
            ("reason", pa.string()),
            ("base_reward", pa.float64()),
            ("penalty", pa.float64()),
            ("reward", pa.float64()),
        ]
    )
    assert tuple(schema.names[: len(DECISION_KEYS)]) == DECISION_KEYS
    return pa.Table.from_pylist(decision_table(rule), schema=schema)


def compute_rewards(store: Store, cfg: RewardsConfig, *, judge_id: str | None = None, rubric_version: str | None = None) -> RewardSetReport:
    """(Re)compute the reward set `cfg` describes; arguments override `cfg.judge_id` / `cfg.rubric_version`."""
    t0 = time.perf_counter()
    rule = cfg.rule
    # Which judge only matters when the rule would consult one for some trace in scope.
    needs_judge = consults_judge(rule, has_gold=True) or (
        consults_judge(rule, has_gold=False) and store.scalar("rewards/traces_without_gold", {"datasets": cfg.datasets}) > 0
    )
    judge = resolve_judge(store, judge_id or cfg.judge_id, rubric_version or cfg.rubric_version, required=needs_judge)
    chosen_judge = judge.judge_id if judge else None
    set_id = reward_set_id_for(rule, chosen_judge, cfg.datasets)
    config_hash = rule.rule_hash()
    now = utcnow()
    params = {
        "reward_set_id": set_id,
        "rule_verifier_id": rule.rule_verifier_id,
        "llm_verifier_id": rule.llm_verifier_id,
        "judge_id": chosen_judge,
        "min_chars": rule.penalty.min_response_chars,
        "datasets": cfg.datasets,
        "config_hash": config_hash,
        "computed_at": now,
    }

    def write(tx: Statements) -> dict[str, Any]:
        # Delete and recompute in one transaction; on a lake another writer's commit may win, then this runs again.
        tx.execute("rewards/delete_set", {"reward_set_id": set_id})
        tx.execute("rewards/compute", params, incoming=_decision_arrow(rule))
        counts: dict[str, Any] = tx.records("rewards/set_counts", {"reward_set_id": set_id})[0]
        tx.execute(
            "rewards/upsert_set",
            {
                "reward_set_id": set_id,
                "rule": json.dumps(rule.model_dump(mode="json"), sort_keys=True),
                "config_hash": config_hash,
                "judge_id": chosen_judge,
                "rubric_version": judge.rubric_version if judge else None,
                "judge_kind": judge.judge_kind if judge else None,
                "datasets": cfg.datasets,
                **counts,
                "computed_at": now,
            },
        )
        return counts

    counts = store.write(write, what=f"computing reward set {set_id}")
    by_reason = store.records("rewards/by_source", {"reward_set_id": set_id})
    report = RewardSetReport(
        reward_set_id=set_id,
        config_hash=config_hash,
        judge_id=chosen_judge,
        rubric_version=judge.rubric_version if judge else None,
        **{k: int(v) for k, v in counts.items()},
        by_reason=by_reason,
        seconds=round(time.perf_counter() - t0, 3),
    )
    log.info("rewards %s: %s", set_id, {k: v for k, v in report.as_dict().items() if k != "by_reason"})
    return report
