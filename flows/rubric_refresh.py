"""Refresh the error rubric: describe new wrong traces, embed them, re-cluster, name, store a version, report.

Run locally:  python -m flows.rubric_refresh --config configs/demo.yaml [--domain math] [--force] [--export rubric.json]
Deployed:     prefect.yaml deployment `rubric_refresh/rubric-refresh` (nightly, cron 03:00 UTC), also runnable from the UI
              with its parameters (scope, clustering, embedder, namer).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any, Literal

from prefect import flow
from prefect.runtime import flow_run

from flows._cli import given, given_list, run_flow
from rubricate.config import PipelineConfig
from rubricate.rubric.refresh import check_refresh_inputs, refresh_config
from tasks.common import say_done, tracked_flow_run
from tasks.rubric import build_rubric, describe_errors, embed_stage, report_rubric


@flow(name="rubric_refresh", log_prints=True)
def rubric_refresh(
    config_path: str = "configs/demo.yaml",
    domain: str = "",
    datasets: Sequence[str] = (),
    source: Literal["config", "dataset", "llm"] = "config",
    reduce: Literal["config", "umap", "pca", "none"] = "config",
    min_cluster_size: int = 0,
    embedder: str = "",
    namer: Literal["config", "offline", "llm"] = "config",
    force: bool = False,
) -> dict:
    """Build a new rubric version from the wrong traces in scope (only new traces are described and embedded).

    Args:
        config_path: The pipeline config file (YAML). Parameters left at their default keep its `rubric:` values.
        domain: Only wrong traces of this domain (math, physics, ...); empty: rubric.domain (default every domain).
        datasets: Only wrong traces of these datasets; empty: rubric.datasets (default every dataset).
        source: Where error descriptions come from: the dataset's own error text, or the LLM describer; config: rubric.source.
        reduce: Dimension reduction before clustering: umap, pca or none; config: rubric.cluster.reduce.
        min_cluster_size: The smallest cluster that becomes a rubric item (2 or more); 0: rubric.cluster.min_cluster_size (default scaled to the data).
        embedder: A sentence-transformers model name or local folder; empty: rubric.embedder.model (default the packaged all-MiniLM-L6-v2).
        namer: How items are named: offline (keywords) or by the LLM; config: rubric.naming.namer.
        force: Build a version even when nothing changed since the last one.
    """
    cfg = refresh_config(config_path, **_overrides(domain, datasets, source, reduce, min_cluster_size, embedder, namer))
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path, "rubric": cfg.rubric.rubric_name()}
    with tracked_flow_run(cfg, "rubric_refresh", tags=tags) as tracker:
        # Each stage's figures are logged as the stage ends, so a run that fails later still shows what finished.
        check_refresh_inputs(cfg)
        t0 = time.perf_counter()
        described = describe_errors(cfg)
        tracker.log_report("describe", described, only=("n_candidates", "n_ok", "n_error", "n_skipped"))
        tracker.log_metrics({"time.describe_s": time.perf_counter() - t0})
        t0 = time.perf_counter()
        embedded = embed_stage(cfg, described["describer_id"])
        tracker.log_report("embed", embedded, only=("n_texts", "n_new"))
        tracker.log_metrics({"time.embed_s": time.perf_counter() - t0})
        t0 = time.perf_counter()
        built = build_rubric(cfg, force)
        tracker.set_tags({"rubric.version_id": built["version_id"], "rubric.status": built["status"]})
        tracker.log_report("rubric", {k: v for k, v in built.items() if k != "seconds"})
        tracker.log_report("rubric.changes", built["changes"] or {})
        tracker.log_metrics({"time.build_s": time.perf_counter() - t0})
        markdown = report_rubric(cfg, tracker, built["version_id"])
        say_done(f"rubric_refresh: version {built['version_id']} ({built['status']}), {built['n_items']} items from "
                 f"{built['n_descriptions']:,} descriptions; MLflow run {tracker.run_id}")
        return {
            "mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "describe": described,
            "embed": embedded, "build": built, "report": markdown,
        }


def _overrides(domain: str, datasets: Sequence[str] | None, source: str, reduce: str, min_cluster_size: int,
               embedder: str, namer: str) -> dict[str, Any]:
    """The parameters as `rubric:` overrides: None for each one left at its default (the config's value)."""
    return {"domain": given(domain), "datasets": given_list(datasets), "source": given(source), "reduce": given(reduce),
            "min_cluster_size": given(min_cluster_size), "embedder": given(embedder), "namer": given(namer)}


def _export_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--export", metavar="PATH", help="also write the resulting rubric as JSON (the Rubric model)")


def _check(args: argparse.Namespace, cfg: PipelineConfig) -> None:
    overrides = ("domain", "datasets", "source", "reduce", "min_cluster_size", "embedder", "namer")
    refresh_config(args.config_path, **_overrides(*(getattr(args, k) for k in overrides)))  # a bad override fails before Prefect starts


def _render(result: dict, args: argparse.Namespace, cfg: PipelineConfig) -> int:
    print()
    print(result["report"])
    print(f"MLflow run {result['mlflow_run_id']}; Prefect flow run {result['flow_run_id']}")
    if args.export:
        if not result["build"]["n_items"]:
            print(f"not exported: version {result['build']['version_id']} has no items ({result['build']['message']})", file=sys.stderr)
            return 2
        from rubricate.rubric.versions import export_rubric
        from rubricate.store import open_store

        store = open_store(cfg.store_target())
        print(f"rubric written to {export_rubric(store, args.export, version=result['build']['version_id'])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_flow(rubric_refresh, argv, render=_render, before=_check, extra_options=_export_option)


if __name__ == "__main__":
    sys.exit(main())
