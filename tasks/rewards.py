from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.rewards.compute import compute_rewards
from rubricate.rewards.export import export_rewards, log_export
from rubricate.tracking import RunTracker
from tasks.common import run_logger, store_for


@task(name="compute-rewards", cache_policy=NO_CACHE)
def compute_reward_set(cfg: PipelineConfig, judge_id: str | None = None, rubric_version: str | None = None) -> dict:
    """Apply the configured reward rule to the stored verdicts (no model calls); returns the reward set's counts."""
    report = compute_rewards(store_for(cfg), cfg.rewards, judge_id=judge_id, rubric_version=rubric_version)
    run_logger().info("reward set %s: %d scored, %d unscorable, %d dropped", report.reward_set_id, report.n_scored, report.n_unscorable, report.n_dropped)
    return report.as_dict()


@task(name="export-rewards", cache_policy=NO_CACHE)
def export_reward_set(cfg: PipelineConfig, tracker: RunTracker, reward_set_id: str, out_dir: str, datasets: list[str] | None = None) -> dict:
    """Write the reward set in the configured formats, log it as the run's dataset input; returns paths and counts."""
    result = export_rewards(store_for(cfg), reward_set_id, Path(out_dir), cfg.rewards.export, datasets=datasets)
    log_export(tracker, result)
    run_logger().info("exported %d rows to %s (%.0f rows/s)", result.rows, result.out_dir, result.rows_per_s)
    return {
        "out_dir": str(result.out_dir),
        "manifest": str(result.manifest_path),
        "rows": result.rows,
        "files": [str(p) for p in result.files],
        "digest": result.manifest["digest"],
        "seconds": result.seconds,
    }
