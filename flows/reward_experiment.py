"""The experiment users ask for first: hide all but a fraction (default 20%) of the gold labels, build the
rubric from the labelled fraction, judge the rest, and compare in one MLflow run how each method agrees
with the hidden gold labels: (a) the plain judge, (b) the rubric judge, (c) rules only, and (d) the reward
users would train on (rules + the rubric judge's process check, computed from stored verdicts).

Offline (llm.kind: none) the offline embedding judge stands in for both LLM judges; with a model
configured the plain and rubric judges run with it. Nothing is judged twice on a rerun.

Run locally:  python -m flows.reward_experiment --config configs/shared-data.yaml --dataset processbench --limit 400
Deployed:     see prefect.yaml (deployment `reward_experiment/reward-experiment`).
"""

from __future__ import annotations

import argparse
import sys

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from rubricate.config import load_config
from rubricate.errors import RubricateError
from rubricate.rewards.experiment import HEADLINE, comparison_markdown
from tasks.common import run_logger, start_temporary_server, tracked_flow_run
from tasks.judge import judge_held_out, prepare_rubric, score_and_log, split_labelled
from tasks.rewards import score_reward_held_out, score_rules_held_out
from tasks.verify import verify_answers


@flow(name="reward_experiment", log_prints=True)
def reward_experiment(
    config_path: str = "configs/demo.yaml",
    datasets: list[str] | None = None,
    gold_fraction: float | None = None,
    limit: int | None = None,
    split_seed: int | None = None,
    rubric_path: str | None = None,
) -> dict:
    """Rules only vs plain judge vs rubric judge vs reward, each against the hidden gold labels; one MLflow run."""
    cfg = load_config(config_path)
    offline = cfg.llm.kind == "none"
    judges = ["offline"] if offline else ["plain", "rubric"]
    fraction = gold_fraction if gold_fraction is not None else cfg.judge.gold_fraction
    seed = split_seed if split_seed is not None else cfg.judge.split_seed
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path, "judges": ",".join(judges)}
    params = {"experiment.gold_fraction": fraction, "experiment.split_seed": seed, "experiment.datasets": datasets,
              "experiment.limit": limit, "experiment.judges": judges, "experiment.rubric_path": rubric_path}
    with tracked_flow_run(cfg, "reward_experiment", tags=tags, extra_params=params) as tracker:
        verify_answers(cfg)  # rule verdicts for every trace with a gold answer (only what is missing)
        split = split_labelled(cfg, datasets, limit, fraction, seed)
        if not split["eval"]:
            raise RubricateError("no gold-labelled traces to evaluate on; ingest a labelled source (e.g. processbench) first")
        tracker.log_metrics({"split.n_labelled": split["n_labelled"], "split.n_build": len(split["build"]), "split.n_eval": len(split["eval"])})
        rubric_note = "built from the labelled fraction"
        try:
            rubric_file = prepare_rubric(cfg, split["build"], rubric_path, None, build=True)
        except RubricateError as exc:
            if not offline:
                raise  # the rubric judge cannot run without a rubric
            rubric_file, rubric_note = None, f"none ({exc})"
            run_logger().warning("reward_experiment: no rubric, the offline judge runs without one: %s", exc)
        tracker.set_tags({"rubric": rubric_note if rubric_file is None else rubric_file})

        results: dict[str, dict] = {"rules only": score_rules_held_out(cfg, tracker, split["eval"])}
        judge_ids: dict[str, str] = {}
        for kind in judges:
            run = judge_held_out(cfg, kind, rubric_file, split["build"], split["eval"])
            judge_ids[kind] = run["report"]["judge_id"]
            results[f"{kind} judge"] = score_and_log(cfg, tracker, kind, run, split["eval"])
        reward_judge = "offline" if offline else "rubric"
        results[f"reward (rules + {reward_judge} judge)"] = score_reward_held_out(cfg, tracker, "reward", judge_ids[reward_judge], split["eval"])

        table = comparison_markdown(results, n_labelled=split["n_labelled"], n_build=len(split["build"]), fraction=fraction)
        table += f"\nRubric: {rubric_note if rubric_file is None else rubric_file}\n"
        tracker.log_text(table, "experiment/comparison.md")
        summary = {name: {k: r["metrics"].get(k) for k in HEADLINE} for name, r in results.items()}
        tracker.log_dict({"split": {k: v for k, v in split.items() if k not in ("build", "eval")}, "methods": summary}, "experiment/comparison.json")
        create_markdown_artifact(markdown=table, key="reward-experiment", description="Rules, judges and reward against the hidden gold labels")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "rubric_file": rubric_file,
                "n_build": len(split["build"]), "n_eval": len(split["eval"]), "methods": summary, "table": table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.reward_experiment", description=reward_experiment.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--dataset", action="append", dest="datasets", help="only this dataset (repeatable)")
    parser.add_argument("--gold-fraction", type=float, help="share of the gold labels kept visible (default judge.gold_fraction, 0.2)")
    parser.add_argument("--limit", type=int, help="at most this many labelled traces")
    parser.add_argument("--seed", type=int, dest="split_seed")
    parser.add_argument("--rubric", dest="rubric_path", help="a rubric JSON instead of building one from the labelled fraction")
    args = parser.parse_args(argv)
    try:
        load_config(args.config)
        start_temporary_server()  # before the flow: one server start at a time on a fresh PREFECT_HOME
        result = reward_experiment(config_path=args.config, datasets=args.datasets, gold_fraction=args.gold_fraction,
                                   limit=args.limit, split_seed=args.split_seed, rubric_path=args.rubric_path)
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result["table"])
    print(f"MLflow run {result['mlflow_run_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
