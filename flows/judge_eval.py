"""Evaluate judges against gold labels: build the rubric on a labelled fraction, judge and score the rest.

Run locally:  python -m flows.judge_eval --config configs/shared-data.yaml --judge rubric --judge plain --rubric rubric.json
Deployed:     see prefect.yaml (deployment `judge_eval/judge-eval`; `judge-eval-gpu` runs on the GPU work pool).
Logs to one MLflow run: sensitivity, specificity, balanced accuracy, the ProcessBench step metric, per-item
counts, a confusion matrix per judge, tokens and cost. Reruns judge nothing twice (verdicts and LLM answers are stored).
"""

from __future__ import annotations

import argparse
import sys

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from rubricate.config import load_config
from rubricate.errors import RubricateError
from rubricate.judge.evaluate import judges_markdown
from rubricate.judge.factory import resolve_kind
from tasks.common import start_temporary_server, tracked_flow_run
from tasks.judge import judge_held_out, prepare_rubric, score_and_log, split_labelled



@flow(name="judge_eval", log_prints=True)
def judge_eval(
    config_path: str = "configs/demo.yaml",
    judges: list[str] | None = None,
    datasets: list[str] | None = None,
    gold_fraction: float | None = None,
    limit: int | None = None,
    rubric_path: str | None = None,
    rubric_version: str | None = None,
    split_seed: int | None = None,
) -> dict:
    """Judge held-out gold-labelled traces with each judge (rubric, plain, offline) and log how well each did."""
    cfg = load_config(config_path)
    kinds = judges or [resolve_kind(cfg.judge, cfg.llm.kind)]
    unknown = sorted(set(kinds) - {"rubric", "plain", "offline"})
    if unknown:
        raise RubricateError(f"unknown judges {unknown}; choose from rubric, plain, offline")
    fraction = gold_fraction if gold_fraction is not None else cfg.judge.gold_fraction
    seed = split_seed if split_seed is not None else cfg.judge.split_seed
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path, "judges": ",".join(kinds)}
    params = {"eval.judges": kinds, "eval.gold_fraction": fraction, "eval.datasets": datasets, "eval.limit": limit, "eval.split_seed": seed,
              "eval.rubric_path": rubric_path, "eval.rubric_version": rubric_version}
    with tracked_flow_run(cfg, "judge_eval", tags=tags, extra_params=params) as tracker:
        split = split_labelled(cfg, datasets, limit, fraction, seed)
        if not split["eval"]:
            raise RubricateError("no gold-labelled traces to evaluate on; ingest a labelled source (e.g. processbench) first")
        tracker.log_metrics({"split.n_labelled": split["n_labelled"], "split.n_build": len(split["build"]), "split.n_eval": len(split["eval"])})
        rubric_file = prepare_rubric(cfg, split["build"], rubric_path, rubric_version, build="rubric" in kinds)
        results = {}
        for kind in kinds:
            run = judge_held_out(cfg, kind, rubric_file, split["build"], split["eval"])
            scored = score_and_log(cfg, tracker, kind, run, split["eval"])
            results[kind] = {"judge_id": run["report"]["judge_id"], "metrics": scored["metrics"], "items": scored["items"],
                             "usage": run["usage"], "offline_fit": run["offline_fit"]}
        table = judges_markdown(results, split, fraction)
        tracker.log_text(table, "judge_eval.md")
        create_markdown_artifact(markdown=table, key="judge-eval", description="Judges against the held-out gold labels")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "rubric_file": rubric_file, "table": table,
                "split": {k: v for k, v in split.items() if k not in ("build", "eval")} | {"n_build": len(split["build"]), "n_eval": len(split["eval"])},
                "judges": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.judge_eval", description=judge_eval.__doc__)
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--judge", action="append", dest="judges", choices=["rubric", "plain", "offline"], help="repeatable; default: judge.kind")
    parser.add_argument("--dataset", action="append", dest="datasets", help="only this dataset (repeatable)")
    parser.add_argument("--gold-fraction", type=float, help="labelled share used to build the rubric (default judge.gold_fraction, 0.2)")
    parser.add_argument("--limit", type=int, help="at most this many labelled traces")
    parser.add_argument("--rubric", dest="rubric_path", help="a rubric JSON file")
    parser.add_argument("--rubric-version", help="a stored rubric version")
    args = parser.parse_args(argv)
    try:
        load_config(args.config)
        start_temporary_server()  # before the flow: one server start at a time on a fresh PREFECT_HOME
        result = judge_eval(config_path=args.config, judges=args.judges, datasets=args.datasets, gold_fraction=args.gold_fraction,
                            limit=args.limit, rubric_path=args.rubric_path, rubric_version=args.rubric_version)
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result["table"])
    print(f"MLflow run {result['mlflow_run_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
