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

import sys
from collections.abc import Sequence

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows._cli import given, given_list, print_table, run_flow
from rubricate.config import load_config
from rubricate.errors import RubricateError
from rubricate.judge.heldout import plan_held_out, split_counts
from rubricate.rewards.experiment import OFFLINE_NOTE, comparison_markdown, method_summary, plan_experiment
from tasks.common import run_logger, say_done, tracked_flow_run
from tasks.judge import judge_held_out, prepare_rubric, score_and_log, split_labelled
from tasks.rewards import score_reward_held_out, score_rules_held_out
from tasks.verify import verify_stage


@flow(name="reward_experiment", log_prints=True)
def reward_experiment(
    config_path: str = "configs/demo.yaml",
    datasets: Sequence[str] = (),
    gold_fraction: float = 0.0,
    limit: int = 0,
    split_seed: int | None = None,
    rubric_path: str = "",
) -> dict:
    """Rules only vs plain judge vs rubric judge vs reward, each against the hidden gold labels; one MLflow run.

    Args:
        config_path: The pipeline config file (YAML): its `judge:`, `llm:` and `rewards:` sections.
        datasets: Only labelled traces of these datasets; empty: every labelled dataset.
        gold_fraction: Share of the gold labels kept visible (the rubric is built from it), between 0 and 1; 0: judge.gold_fraction.
        limit: At most this many labelled traces; 0: all of them.
        split_seed: Seed of the visible/hidden split (0 is a seed too); empty (None): judge.split_seed.
        rubric_path: A rubric JSON file to judge with, instead of building one from the visible labels; empty: build one.
    """
    cfg = load_config(config_path)
    who = plan_experiment(cfg)
    plan = plan_held_out(cfg, who.judges, given(gold_fraction), split_seed)
    only, limit_, rubric_path_ = given_list(datasets), given(limit), given(rubric_path)
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path, "judges": ",".join(plan.judges)}
    params = plan.params("experiment") | {"experiment.datasets": only, "experiment.limit": limit_, "experiment.rubric_path": rubric_path_}
    with tracked_flow_run(cfg, "reward_experiment", tags=tags, extra_params=params) as tracker:
        verify_stage(cfg)  # rule verdicts for every trace with a gold answer (only what is missing)
        split = split_labelled(cfg, only, limit_, plan.gold_fraction, plan.split_seed)
        if not split["eval"]:
            raise RubricateError("no gold-labelled traces to evaluate on; ingest a labelled source (e.g. processbench) first")
        tracker.log_report("split", split_counts(split))
        rubric_note = "built from the labelled fraction"
        try:
            rubric_file = prepare_rubric(cfg, split["build"], rubric_path_, None, build=True)
        except RubricateError as exc:
            if who.rubric_required:
                raise  # the rubric judge cannot run without a rubric
            rubric_file, rubric_note = None, f"none ({exc})"
            run_logger().warning("reward_experiment: no rubric, the offline judge runs without one: %s", exc)
        tracker.set_tags({"rubric": rubric_note if rubric_file is None else rubric_file})

        results: dict[str, dict] = {"rules only": score_rules_held_out(cfg, tracker, split["eval"])}
        judge_ids: dict[str, str] = {}
        for kind in plan.judges:
            run = judge_held_out(cfg, kind, rubric_file, split["build"], split["eval"])
            judge_ids[kind] = run["report"]["judge_id"]
            results[f"{kind} judge"] = score_and_log(cfg, tracker, kind, run, split["eval"])
        results[f"reward (rules + {who.reward_judge} judge)"] = score_reward_held_out(
            cfg, tracker, "reward", judge_ids[who.reward_judge], split["eval"])

        counts = split_counts(split)
        table = comparison_markdown(results, n_labelled=counts["n_labelled"], n_build=counts["n_build"], fraction=plan.gold_fraction)
        table += f"\nRubric: {rubric_note if rubric_file is None else rubric_file}\n"
        if "offline" in plan.judges:
            table += OFFLINE_NOTE
        tracker.log_text(table, "experiment/comparison.md")
        summary = method_summary(results)
        tracker.log_dict({"split": {k: v for k, v in split.items() if k not in ("build", "eval")}, "methods": summary}, "experiment/comparison.json")
        create_markdown_artifact(markdown=table, key="reward-experiment", description="Rules, judges and reward against the hidden gold labels")
        scores = ", ".join(f"{k} {m.get('balanced_accuracy') or 0:.3f}" for k, m in summary.items())
        say_done(f"reward_experiment: balanced accuracy on {counts['n_eval']:,} hidden labels: {scores}; MLflow run {tracker.run_id}")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "rubric_file": rubric_file,
                "n_build": counts["n_build"], "n_eval": counts["n_eval"], "methods": summary, "table": table}


def main(argv: list[str] | None = None) -> int:
    return run_flow(reward_experiment, argv, render=print_table)


if __name__ == "__main__":
    sys.exit(main())
