"""Compute rewards from the stored verdicts with the configured rule, export them for verl/TRL/OpenRLHF.

Run locally:  python -m flows.export_rewards --config configs/demo.yaml [--out DIR] [--judge-id ID]
Deployed:     see prefect.yaml (deployment `export_rewards/export-rewards`).
Changing `rewards.rule` and running again recomputes every reward from stored verdicts: no model is called.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from prefect import flow
from prefect.runtime import flow_run

from flows._cli import given, given_list, run_flow
from rubricate.config import PipelineConfig, load_config
from rubricate.rewards.rule import rule_markdown
from tasks.common import say_done, tracked_flow_run
from tasks.rewards import compute_reward_set, export_reward_set


@flow(name="export_rewards", log_prints=True)
def export_rewards(
    config_path: str = "configs/demo.yaml",
    out_dir: str = "",
    judge_id: str = "",
    rubric_version: str = "",
    datasets: Sequence[str] = (),
) -> dict:
    """Reward set from stored verdicts (rewards.rule), then Parquet/JSONL + manifest; one MLflow run.

    Args:
        config_path: The pipeline config file (YAML): its `rewards:` section (rule, export formats).
        out_dir: Output folder; empty: rewards.export.out_dir, else <data_dir>/exports/<reward set id>.
        judge_id: Whose judge verdicts count; empty: rewards.judge_id, or the only judge with verdicts.
        rubric_version: Only a judge that used this rubric version; empty: any version.
        datasets: Only traces of these datasets; empty: rewards.datasets (default every dataset).
    """
    cfg = load_config(config_path)
    chosen = given_list(datasets)
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path}
    with tracked_flow_run(cfg, "export_rewards", tags=tags) as tracker:
        report = compute_reward_set(cfg, given(judge_id), given(rubric_version), chosen)
        tracker.log_report("rewards", report, only=[k for k in report if k.startswith("n_") or k == "seconds"])
        tracker.log_dict(report, "rewards/reward_set.json")
        tracker.log_text(rule_markdown(cfg.rewards.rule), "rewards/rule.md")
        target = given(out_dir) or cfg.rewards.export.out_dir or str(cfg.resolved_data_dir() / "exports" / report["reward_set_id"])
        export = export_reward_set(cfg, tracker, report["reward_set_id"], target, chosen or cfg.rewards.datasets)
        say_done(f"export_rewards: {export['rows']:,} rows of reward set {report['reward_set_id']} written to {export['out_dir']}; "
                 f"MLflow run {tracker.run_id}")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "rewards": report, "export": export}


def _render(result: dict, args: argparse.Namespace, cfg: PipelineConfig) -> None:
    rewards, export = result["rewards"], result["export"]
    print(f"reward set {rewards['reward_set_id']}: {rewards['n_scored']} scored, {rewards['n_unscorable']} unscorable, {rewards['n_dropped']} dropped")
    print(f"exported {export['rows']} rows to {export['out_dir']} (digest {export['digest']})")
    for path in export["files"]:
        print(f"  {path}")
    print(f"  {export['manifest']}")


def main(argv: list[str] | None = None) -> int:
    return run_flow(export_rewards, argv, render=_render)


if __name__ == "__main__":
    sys.exit(main())
