"""The main flow: ingest the configured sources, verify final answers (rules, then an LLM for what they reject), summarise, track.

Run locally:  python -m flows.pipeline --config configs/demo.yaml   (what `make demo` does)
Look first:   python -m flows.pipeline --config my.yaml --dry-run   (mapped rows, labels, empty fields; writes nothing)
Deployed:     see prefect.yaml (deployment `pipeline/pipeline`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows._cli import given_list, run_flow
from rubricate.config import PipelineConfig, load_config
from rubricate.errors import RubricateError
from rubricate.ingest.problems import is_problem_set
from tasks.common import say_done, tracked_flow_run
from tasks.ingest import ingest
from tasks.llm_verify import llm_verify_rejections
from tasks.report import summarize
from tasks.verify import verify_stage


@flow(name="pipeline", log_prints=True)
def pipeline(config_path: str = "configs/demo.yaml", sources: Sequence[str] = (), verify: bool = True) -> dict:
    """Ingest the sources, verify final answers (rules, then the LLM for what they reject), log one MLflow run.

    Args:
        config_path: The pipeline config file (YAML): its sources, verifier and LLM.
        sources: Only these of the config's sources; empty: all of them.
        verify: Verify final answers after ingesting (rules, then the LLM on what the rules reject when one is configured).
    """
    cfg = load_config(config_path)
    names = given_list(sources) or [s.name for s in cfg.sources]
    unknown = sorted(set(names) - {s.name for s in cfg.sources})
    if unknown:
        raise RubricateError(f"sources {unknown} are not in {config_path}; known: {[s.name for s in cfg.sources]}")
    cfg.check_sources(names)
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path}
    with tracked_flow_run(cfg, "pipeline", tags=tags) as tracker:
        # Each stage's counts are logged as the stage ends, so a run that fails later still shows what finished.
        reports: dict[str, dict] = {}
        for name in names:
            t0 = time.perf_counter()
            report = ingest(cfg, name)
            reports[f"ingest {name}"] = report
            tracker.log_report(f"ingest.{name}", report, only=("n_in", "n_accepted", "n_rejected", "n_duplicates"))
            tracker.log_metrics({f"time.ingest.{name}_s": time.perf_counter() - t0})
        if verify and cfg.verify.enabled:
            t0 = time.perf_counter()
            report = verify_stage(cfg)
            reports["verify"] = report
            tracker.log_report("verify", report)
            tracker.log_metrics({"time.verify_s": time.perf_counter() - t0})
            if cfg.llm.kind != "none":  # false-negative recovery: the LLM looks only at what the rules rejected
                t0 = time.perf_counter()
                report = llm_verify_rejections(cfg)
                reports["llm verify"] = report
                tracker.log_report("llm_verify", report)
                tracker.log_metrics({"time.llm_verify_s": time.perf_counter() - t0})
        markdown = summarize(cfg, tracker, reports)
        problem_sets = {s.name for s in cfg.sources if is_problem_set(s)}
        ingested = sum(reports[f"ingest {n}"]["n_accepted"] for n in names if n not in problem_sets)
        problems = sum(reports[f"ingest {n}"]["n_accepted"] for n in names if n in problem_sets)
        verified = reports.get("verify", {}).get("n_verified", 0)
        to_sample = f", {problems:,} new problems to sample" if problem_sets & set(names) else ""
        say_done(f"pipeline: {ingested:,} new traces from {len(names)} source(s){to_sample}, {verified:,} answers verified; MLflow run {tracker.run_id}")
        return {"mlflow_run_id": tracker.run_id, "mlflow_url": tracker.ui_url(), "flow_run_id": tags["prefect.flow_run_id"],
                "reports": reports, "summary": markdown}


def _dry_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="show what the sources would ingest (first mapped rows, labels, empty fields, warnings); write nothing")
    parser.add_argument("--preview-rows", type=int, default=10_000, help="rows a dry run reads per source (default 10,000)")


def _check_or_preview(args: argparse.Namespace, cfg: PipelineConfig) -> int | None:
    cfg.check_sources(given_list(args.sources))  # a missing input fails before Prefect starts
    if not args.dry_run:
        return None
    from rubricate.ingest.preview import preview_source

    for source in cfg.sources:
        if is_problem_set(source) and (not args.sources or source.name in args.sources):
            print(f"{source.name} ({source.reader}, problems_only): a problem set, stored as problems for collect_traces; not previewed\n")
        elif not args.sources or source.name in args.sources:
            print(preview_source(source, max_rows=args.preview_rows).render(), end="\n\n")
    return 0


def _render(result: dict, args: argparse.Namespace, cfg: PipelineConfig) -> None:
    print()
    print(result["summary"])
    print("Look at what just ran:")
    print(f"  MLflow:  make ui-mlflow   then open {result['mlflow_url'] or cfg.tracking.ui_url}  (experiment "
          f"'{cfg.tracking.experiment}', run {result['mlflow_run_id']}; the experiment's own page opens MLflow 3's GenAI view, "
          "switch to 'Model training' top left for the runs table)")
    print(f"  Prefect: make ui-prefect  then open http://127.0.0.1:4200/runs  (flow 'pipeline', run {result['flow_run_id']})")
    target = cfg.store_target()
    print(f"  DuckDB:  {target}" if isinstance(target, Path) else f"  Lake:    {target.describe()}")


def main(argv: list[str] | None = None) -> int:
    return run_flow(pipeline, argv, render=_render, before=_check_or_preview, extra_options=_dry_run_options)


if __name__ == "__main__":
    sys.exit(main())
