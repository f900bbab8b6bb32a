"""Evaluate judges against gold labels: build the rubric on a labelled fraction, judge and score the rest.

Run locally:  python -m flows.judge_eval --config configs/shared-data.yaml --judge rubric --judge plain --rubric rubric.json
Deployed:     see prefect.yaml (deployment `judge_eval/judge-eval`; `judge-eval-gpu` runs on the GPU work pool).
Logs to one MLflow run: sensitivity, specificity, balanced accuracy, the ProcessBench step metric, per-item
counts, a confusion matrix per judge, tokens and cost. Reruns judge nothing twice (verdicts and LLM answers are stored).
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
from rubricate.judge.gold_eval import judges_markdown
from rubricate.judge.heldout import JudgeKind, plan_held_out, split_counts
from tasks.common import say_done, tracked_flow_run
from tasks.judge import judge_held_out, prepare_rubric, score_and_log, split_labelled


@flow(name="judge_eval", log_prints=True)
def judge_eval(
    config_path: str = "configs/demo.yaml",
    judges: Sequence[JudgeKind] = (),
    datasets: Sequence[str] = (),
    gold_fraction: float = 0.0,
    limit: int = 0,
    rubric_path: str = "",
    rubric_version: str = "",
    split_seed: int | None = None,
) -> dict:
    """Judge held-out gold-labelled traces with each judge (rubric, plain, offline) and log how well each did.

    Args:
        config_path: The pipeline config file (YAML): its `judge:` and `llm:` sections.
        judges: The judges to evaluate: rubric, plain, offline; empty: judge.kind.
        datasets: Only labelled traces of these datasets; empty: every labelled dataset.
        gold_fraction: Labelled share the rubric is built from (the rest is judged), between 0 and 1; 0: judge.gold_fraction.
        limit: At most this many labelled traces; 0: all of them.
        rubric_path: A rubric JSON file to judge with, instead of building one from the labelled share; empty: none.
        rubric_version: A stored rubric version to judge with; empty: none.
        split_seed: Seed of the labelled/held-out split (0 is a seed too); empty (None): judge.split_seed.
    """
    cfg = load_config(config_path)
    plan = plan_held_out(cfg, given_list(judges), given(gold_fraction), split_seed)
    only, limit_, rubric_path_, rubric_version_ = given_list(datasets), given(limit), given(rubric_path), given(rubric_version)
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path, "judges": ",".join(plan.judges)}
    params = plan.params("eval") | {"eval.datasets": only, "eval.limit": limit_, "eval.rubric_path": rubric_path_,
                                    "eval.rubric_version": rubric_version_}
    with tracked_flow_run(cfg, "judge_eval", tags=tags, extra_params=params) as tracker:
        split = split_labelled(cfg, only, limit_, plan.gold_fraction, plan.split_seed)
        if not split["eval"]:
            raise RubricateError("no gold-labelled traces to evaluate on; ingest a labelled source (e.g. processbench) first")
        tracker.log_report("split", split_counts(split))
        rubric_file = prepare_rubric(cfg, split["build"], rubric_path_, rubric_version_, build="rubric" in plan.judges)
        results = {}
        for kind in plan.judges:
            run = judge_held_out(cfg, kind, rubric_file, split["build"], split["eval"])
            scored = score_and_log(cfg, tracker, kind, run, split["eval"])
            results[kind] = {"judge_id": run["report"]["judge_id"], "metrics": scored["metrics"], "items": scored["items"],
                             "usage": run["usage"], "offline_fit": run["offline_fit"]}
        table = judges_markdown(results, split, plan.gold_fraction)
        tracker.log_text(table, "judge_eval.md")
        create_markdown_artifact(markdown=table, key="judge-eval", description="Judges against the held-out gold labels")
        scores = ", ".join(f"{k} balanced accuracy {r['metrics'].get('balanced_accuracy') or 0:.3f}" for k, r in results.items())
        say_done(f"judge_eval: {len(split['eval']):,} held-out traces judged; {scores}; MLflow run {tracker.run_id}")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "rubric_file": rubric_file, "table": table,
                "split": {k: v for k, v in split.items() if k not in ("build", "eval")} | split_counts(split),
                "judges": results}


def main(argv: list[str] | None = None) -> int:
    return run_flow(judge_eval, argv, render=print_table)


if __name__ == "__main__":
    sys.exit(main())
