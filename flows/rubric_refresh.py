"""Refresh the error rubric: describe new wrong traces, embed them, re-cluster, name, store a version, report.

Run locally:  python -m flows.rubric_refresh --config configs/demo.yaml [--domain math] [--force]
Deployed:     prefect.yaml deployment `rubric_refresh/rubric-refresh` (nightly, cron 03:00 UTC), also runnable from the UI
              with its parameters (scope, clustering, embedder, namer).
"""

from __future__ import annotations

import argparse
import sys
import time

from prefect import flow
from prefect.runtime import flow_run

from rubricate.config import PipelineConfig, load_config
from rubricate.errors import RubricateError
from rubricate.rubric.config import with_overrides
from tasks.common import start_temporary_server, tracked_flow_run
from tasks.rubric import build_rubric, describe_errors, embed_descriptions, report_rubric


def refresh_config(
    config_path: str,
    *,
    domain: str | None = None,
    datasets: list[str] | None = None,
    source: str | None = None,
    reduce: str | None = None,
    min_cluster_size: int | None = None,
    embedder: str | None = None,
    namer: str | None = None,
) -> PipelineConfig:
    """The config file with the run's parameters applied to its `rubric:` section."""
    cfg = load_config(config_path)
    rubric = with_overrides(
        cfg.rubric,
        domain=domain, datasets=datasets, source=source, **{
            "cluster.reduce": reduce, "cluster.min_cluster_size": min_cluster_size,
            "embedder.model": embedder, "naming.namer": namer,
        },
    )
    return cfg.model_copy(update={"rubric": rubric})


@flow(name="rubric_refresh", log_prints=True)
def rubric_refresh(
    config_path: str = "configs/demo.yaml",
    domain: str | None = None,
    datasets: list[str] | None = None,
    source: str | None = None,
    reduce: str | None = None,
    min_cluster_size: int | None = None,
    embedder: str | None = None,
    namer: str | None = None,
    force: bool = False,
) -> dict:
    """Build a new rubric version from the wrong traces in scope (only new traces are described and embedded).

    Parameters left empty keep the config file's `rubric:` values. source: dataset | llm; reduce: umap | pca |
    none; embedder: a sentence-transformers name or local folder; namer: offline | llm; force: build a version
    even when nothing changed.
    """
    cfg = refresh_config(
        config_path, domain=domain, datasets=datasets, source=source, reduce=reduce,
        min_cluster_size=min_cluster_size, embedder=embedder, namer=namer,
    )
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path, "rubric": cfg.rubric.rubric_name()}
    with tracked_flow_run(cfg, "rubric_refresh", tags=tags) as tracker:
        # Each stage's figures are logged as the stage ends, so a run that fails later still shows what finished.
        if cfg.rubric.embedder.model:  # a model path that does not exist fails here, before any work
            from rubricate.rubric.embed import Embedder

            Embedder(cfg.rubric.embedder)
        t0 = time.perf_counter()
        described = describe_errors(cfg)
        tracker.log_metrics({f"describe.{k}": described[k] for k in ("n_candidates", "n_ok", "n_error", "n_skipped")}
                            | {"time.describe_s": time.perf_counter() - t0})
        t0 = time.perf_counter()
        embedded = embed_descriptions(cfg, described["describer_id"])
        tracker.log_metrics({"embed.n_texts": embedded["n_texts"], "embed.n_new": embedded["n_new"], "time.embed_s": time.perf_counter() - t0})
        t0 = time.perf_counter()
        built = build_rubric(cfg, force)
        tracker.set_tags({"rubric.version_id": built["version_id"], "rubric.status": built["status"]})
        metrics = {f"rubric.{k}": v for k, v in built.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seconds"}
        metrics |= {f"rubric.changes.{k}": v for k, v in (built["changes"] or {}).items()}
        tracker.log_metrics(metrics | {"time.build_s": time.perf_counter() - t0})
        markdown = report_rubric(cfg, tracker, built["version_id"])
        return {
            "mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "describe": described,
            "embed": embedded, "build": built, "report": markdown,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.rubric_refresh", description=rubric_refresh.__doc__)
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--domain")
    parser.add_argument("--dataset", action="append", dest="datasets", help="only traces of this dataset (repeatable)")
    parser.add_argument("--source", choices=["dataset", "llm"])
    parser.add_argument("--reduce", choices=["umap", "pca", "none"])
    parser.add_argument("--min-cluster-size", type=int)
    parser.add_argument("--embedder")
    parser.add_argument("--namer", choices=["offline", "llm"])
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--export", metavar="PATH", help="also write the resulting rubric as JSON (the Rubric model)")
    args = parser.parse_args(argv)
    try:
        refresh_config(args.config, domain=args.domain, datasets=args.datasets)  # fail fast before Prefect starts
        start_temporary_server()  # before the flow: one server start at a time on a fresh PREFECT_HOME
        result = rubric_refresh(
            config_path=args.config, domain=args.domain, datasets=args.datasets, source=args.source, reduce=args.reduce,
            min_cluster_size=args.min_cluster_size, embedder=args.embedder, namer=args.namer, force=args.force,
        )
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print()
    print(result["report"])
    print(f"MLflow run {result['mlflow_run_id']}; Prefect flow run {result['flow_run_id']}")
    if args.export:
        if not result["build"]["n_items"]:
            print(f"not exported: version {result['build']['version_id']} has no items ({result['build']['message']})", file=sys.stderr)
            return 2
        from rubricate.rubric.versions import export_rubric
        from rubricate.store import open_store

        store = open_store(refresh_config(args.config).store_path())
        print(f"rubric written to {export_rubric(store, args.export, version=result['build']['version_id'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
