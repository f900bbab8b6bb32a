"""The experiment users ask for first: with a fraction (default 20%) of the gold labels, how well do rules
only, the plain judge, the rubric judge, and the final reward agree with the hidden rest of the labels?

The split, the rubric build, the judges and their scoring belong to the judge stage
(`rubricate.judge.gold_eval`); this module adds the two rows it lacks, both scored on the same held-out
traces with the same metrics (`rubricate.judge.metrics.trace_metrics`, positive = "the trace is wrong"):
- rules only: the rule verifier's verdict ('incorrect' or 'no_answer' = wrong; an error or no verdict
  abstains and counts against coverage, never as a score);
- reward: a reward set (the configured rule, with the judge that was evaluated) thresholded at `threshold`.
and the one comparison table that puts every method side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from rubricate.judge.metrics import Scored, trace_metrics

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.rewards.config import RewardsConfig
    from rubricate.store import Store

HEADLINE = ("n", "n_scored", "coverage", "sensitivity", "specificity", "balanced_accuracy", "precision")


def rule_verdict_as_judgement(verdict: str | None) -> str:
    """A rule verifier verdict as a judgement of the whole trace: correct / incorrect / error (abstain)."""
    if verdict == "correct":
        return "correct"
    if verdict in ("incorrect", "no_answer"):
        return "incorrect"
    return "error"


def reward_as_judgement(reward: float | None, status: str | None, threshold: float) -> str:
    if status != "scored" or reward is None:
        return "error"  # dropped or unscorable: the reward abstained
    return "correct" if reward >= threshold else "incorrect"


def _metrics(scored: list[Scored], rows: list[dict[str, Any]]) -> dict[str, Any]:
    metrics = trace_metrics(scored)
    metrics["coverage"] = metrics["n_scored"] / metrics["n"] if metrics["n"] else None
    by_dataset = {}
    for ds in sorted({r["dataset"] for r in rows}):
        part = [s for s, r in zip(scored, rows) if r["dataset"] == ds]
        m = trace_metrics(part)
        by_dataset[ds] = {k: m[k] for k in ("n", "n_scored", "sensitivity", "specificity", "balanced_accuracy")}
    return {"metrics": metrics, "by_dataset": by_dataset}


def score_rules(store: "Store", eval_ids: Sequence[str], verifier_id: str | None = None) -> dict[str, Any]:
    """Rules only, scored against the held-out gold labels. Traces without a gold answer abstain."""
    from rubricate.judge.stage import query_with_ids

    rows = query_with_ids(store, "rewards/experiment_rule_rows", list(eval_ids), {"verifier_id": verifier_id}).to_dicts()
    scored = [
        Scored(not r["label_correct"], r["label_first_error_step"], rule_verdict_as_judgement(r["verdict"] if r["has_gold"] else None), None)
        for r in rows
    ]
    out = _metrics(scored, rows)
    out["metrics"]["n_without_gold_answer"] = sum(1 for r in rows if not r["has_gold"])
    return out


def score_rewards(store: "Store", reward_set_id: str, eval_ids: Sequence[str], threshold: float = 0.5) -> dict[str, Any]:
    """A reward set thresholded at `threshold`, scored against the held-out gold labels."""
    from rubricate.judge.stage import query_with_ids

    rows = query_with_ids(store, "rewards/experiment_reward_rows", list(eval_ids), {"reward_set_id": reward_set_id}).to_dicts()
    scored = [
        Scored(not r["label_correct"], r["label_first_error_step"], reward_as_judgement(r["reward"], r["status"], threshold), r["judge_first_error_step"])
        for r in rows
    ]
    out = _metrics(scored, rows)
    sources: dict[str, int] = {}
    for r in rows:
        sources[r["source"] or "none"] = sources.get(r["source"] or "none", 0) + 1
    out["metrics"]["threshold"] = threshold
    out["decided_by"] = dict(sorted(sources.items()))
    return out


def comparison_markdown(results: dict[str, dict[str, Any]], *, n_labelled: int, n_build: int, fraction: float) -> str:
    """One table: each method's agreement with the hidden gold labels (positive = the trace is wrong)."""

    def cell(v: Any) -> str:
        if v is None:
            return "n/a"
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = [
        f"# Agreement with hidden gold labels ({fraction:.0%} of {n_labelled} labelled traces used to build: {n_build}; "
        f"the rest held out)",
        "",
        "Positive = the trace is wrong. Sensitivity = share of wrong traces caught; specificity = share of correct",
        "traces passed; coverage = share of held-out traces the method gave a verdict for (errors/no verdict abstain).",
        "",
        "| method | " + " | ".join(HEADLINE) + " |",
        "|---|" + "---|" * len(HEADLINE),
    ]
    for name, res in results.items():
        m = res["metrics"]
        if "coverage" not in m and m.get("n"):
            m = {**m, "coverage": m.get("n_scored", 0) / m["n"]}
        lines.append(f"| {name} | " + " | ".join(cell(m.get(k)) for k in HEADLINE) + " |")
    return "\n".join(lines) + "\n"


# Said under the table whenever the offline judge took part: without it, a reward row worse than rules only reads
# as a bug.
OFFLINE_NOTE = (
    "\nThe offline judge (no model: nearest labelled steps in embedding space) is a stand-in that keeps the pipeline "
    "runnable without a GPU or key; on data it was not fitted to it is near chance, so the reward row that uses it "
    "can score below rules only. Judge with a model for the comparison that matters: `make demo-llm` (a local 1.5B "
    "model on CPU) or `llm:` in the config (README, Local model).\n"
)


@dataclass(frozen=True)
class ExperimentPlan:
    """Who takes part: offline (llm.kind none) the offline embedding judge stands in for both LLM judges and may run
    without a rubric; with a model, the plain and the rubric judge, and the reward uses the rubric judge."""

    judges: list[str]
    reward_judge: str
    rubric_required: bool


def plan_experiment(cfg: PipelineConfig) -> ExperimentPlan:
    if cfg.llm.kind == "none":
        return ExperimentPlan(judges=["offline"], reward_judge="offline", rubric_required=False)
    return ExperimentPlan(judges=["plain", "rubric"], reward_judge="rubric", rubric_required=True)


def experiment_rewards_config(rewards: RewardsConfig, judge_id: str | None) -> RewardsConfig:
    """The configured reward rule with the process check on (the reward row is the rule *plus* the judge), using
    exactly the evaluated judge's verdicts."""
    rule = rewards.rule.model_copy(update={"process_check": True})
    return rewards.model_copy(update={"rule": rule, "judge_id": judge_id, "rubric_version": None})


def method_summary(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each method's headline metrics, for the run's comparison.json and the flow's result."""
    return {name: {k: r["metrics"].get(k) for k in HEADLINE} for name, r in results.items()}
