from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.rewards.compute import compute_rewards
from rubricate.rewards.experiment import experiment_rewards_config, score_rewards, score_rules
from rubricate.rewards.export import export_markdown, export_rewards, log_export
from rubricate.tracking import RunTracker
from tasks.common import run_logger, store_for


@task(name="compute-rewards", cache_policy=NO_CACHE)
def compute_reward_set(
    cfg: PipelineConfig, judge_id: str | None = None, rubric_version: str | None = None, datasets: list[str] | None = None
) -> dict:
    """Apply the configured reward rule to the stored verdicts (no model calls); returns the reward set's counts.
    `datasets` (default: rewards.datasets) scopes the set: a judge is needed only if one of them needs it."""
    rewards_cfg = cfg.rewards.model_copy(update={"datasets": datasets}) if datasets else cfg.rewards
    report = compute_rewards(store_for(cfg), rewards_cfg, judge_id=judge_id, rubric_version=rubric_version)
    run_logger().info("reward set %s: %d scored, %d unscorable, %d dropped", report.reward_set_id, report.n_scored, report.n_unscorable, report.n_dropped)
    return report.as_dict()


@task(name="export-rewards", cache_policy=NO_CACHE)
def export_reward_set(cfg: PipelineConfig, tracker: RunTracker, reward_set_id: str, out_dir: str, datasets: list[str] | None = None) -> dict:
    """Write the reward set in the configured formats, log it as the run's dataset input; returns paths and counts."""
    result = export_rewards(store_for(cfg), reward_set_id, Path(out_dir), cfg.rewards.export, datasets=datasets)
    log_export(tracker, result)
    run_logger().info("exported %d rows to %s (%.0f rows/s)", result.rows, result.out_dir, result.rows_per_s)
    create_markdown_artifact(markdown=export_markdown(result.manifest, result.out_dir), key="reward-export",
                             description=f"Reward export of reward set {reward_set_id}")
    return {
        "out_dir": str(result.out_dir),
        "manifest": str(result.manifest_path),
        "rows": result.rows,
        "files": [str(p) for p in result.files],
        "digest": result.manifest["digest"],
        "seconds": result.seconds,
    }


@task(name="score-rules-held-out", cache_policy=NO_CACHE)
def score_rules_held_out(cfg: PipelineConfig, tracker: RunTracker, eval_ids: list[str]) -> dict:
    """Rules only against the hidden gold labels of the held-out traces; metrics logged as rules.*."""
    result = score_rules(store_for(cfg), eval_ids, cfg.rewards.rule.rule_verifier_id)
    tracker.log_report("rules", result["metrics"])
    tracker.log_dict(result, "experiment/rules.json")
    return result


@task(name="score-reward-held-out", cache_policy=NO_CACHE)
def score_reward_held_out(cfg: PipelineConfig, tracker: RunTracker, name: str, judge_id: str | None, eval_ids: list[str]) -> dict:
    """The reward (configured rule + process check, with this judge's verdicts; no model calls) against the hidden labels."""
    report = compute_rewards(store_for(cfg), experiment_rewards_config(cfg.rewards, judge_id))
    result = score_rewards(store_for(cfg), report.reward_set_id, eval_ids)
    result["reward_set_id"] = report.reward_set_id
    tracker.log_report(name, result["metrics"])
    tracker.log_dict(result, f"experiment/{name}.json")
    return result
