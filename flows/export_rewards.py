"""Compute rewards from the stored verdicts with the configured rule, export them for verl/TRL/OpenRLHF.

Run locally:  python -m flows.export_rewards --config configs/demo.yaml [--out DIR] [--judge-id ID]
Deployed:     see prefect.yaml (deployment `export_rewards/export-rewards`).
Changing `rewards.rule` and running again recomputes every reward from stored verdicts: no model is called.
"""

from __future__ import annotations

import argparse
import sys

from prefect import flow
from prefect.runtime import flow_run

from rubricate.config import load_config
from rubricate.errors import RubricateError
from rubricate.rewards.rule import rule_markdown
from tasks.common import start_temporary_server, tracked_flow_run
from tasks.rewards import compute_reward_set, export_reward_set


@flow(name="export_rewards", log_prints=True)
def export_rewards(
    config_path: str = "configs/demo.yaml",
    out_dir: str | None = None,
    judge_id: str | None = None,
    rubric_version: str | None = None,
    datasets: list[str] | None = None,
) -> dict:
    """Reward set from stored verdicts (rewards.rule), then Parquet/JSONL + manifest; one MLflow run."""
    cfg = load_config(config_path)
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path}
    with tracked_flow_run(cfg, "export_rewards", tags=tags) as tracker:
        report = compute_reward_set(cfg, judge_id, rubric_version, datasets)
        tracker.log_metrics({f"rewards.{k}": v for k, v in report.items() if k.startswith("n_") or k == "seconds"})
        tracker.log_dict(report, "rewards/reward_set.json")
        tracker.log_text(rule_markdown(cfg.rewards.rule), "rewards/rule.md")
        target = out_dir or cfg.rewards.export.out_dir or str(cfg.resolved_data_dir() / "exports" / report["reward_set_id"])
        export = export_reward_set(cfg, tracker, report["reward_set_id"], target, datasets or cfg.rewards.datasets)
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "rewards": report, "export": export}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.export_rewards", description=export_rewards.__doc__)
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--out", dest="out_dir", help="output folder (default: <data_dir>/exports/<reward set id>)")
    parser.add_argument("--judge-id", help="whose judge verdicts count (default: rewards.judge_id, or the only judge)")
    parser.add_argument("--rubric-version")
    parser.add_argument("--dataset", action="append", dest="datasets", help="only this dataset (repeatable)")
    args = parser.parse_args(argv)
    try:
        load_config(args.config)  # fail fast with a clear message before Prefect starts
        start_temporary_server()  # before the flow: one server start at a time on a fresh PREFECT_HOME
        result = export_rewards(
            config_path=args.config, out_dir=args.out_dir, judge_id=args.judge_id, rubric_version=args.rubric_version, datasets=args.datasets
        )
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rewards, export = result["rewards"], result["export"]
    print(f"reward set {rewards['reward_set_id']}: {rewards['n_scored']} scored, {rewards['n_unscorable']} unscorable, {rewards['n_dropped']} dropped")
    print(f"exported {export['rows']} rows to {export['out_dir']} (digest {export['digest']})")
    for path in export["files"]:
        print(f"  {path}")
    print(f"  {export['manifest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
