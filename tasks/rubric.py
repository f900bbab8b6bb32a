"""Rubric mining tasks: each calls one plain function of rubricate.rubric and returns plain data."""

from __future__ import annotations

import re
import tempfile

import numpy as np
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.rubric.build import build_rubric_version
from rubricate.rubric.config import EmbedderConfig
from rubricate.rubric.descriptions import describe_new_traces
from rubricate.rubric.embed import PiecewiseEncoder, embed_new_descriptions, encode_piece
from rubricate.rubric.report import write_report
from rubricate.tracking import RunTracker
from tasks.common import progress_logger, store_for
from tasks.compute import LazyRunner


@task(name="describe-errors", cache_policy=NO_CACHE)
def describe_errors(cfg: PipelineConfig) -> dict:
    """Describe the first error of every wrong trace in scope that has no description yet."""
    return describe_new_traces(store_for(cfg), cfg.rubric, cfg.llm, progress=progress_logger("describe")).as_dict()


@task(name="embed-descriptions", cache_policy=NO_CACHE)
def embed_descriptions(cfg: PipelineConfig, describer_id: str) -> dict:
    """Embed the descriptions that have no embedding from the configured model yet."""
    return embed_new_descriptions(store_for(cfg), cfg.rubric, describer_id, progress=progress_logger("embed")).as_dict()


@task(name="embed-piece", cache_policy=NO_CACHE)
def embed_piece_task(piece: list[str], embedder: EmbedderConfig) -> np.ndarray:
    """Embeddings of one piece of texts, where the task runner runs it (a Dask worker; the model loads once per worker)."""
    return encode_piece(embedder, piece)


def embed_stage(cfg: PipelineConfig, describer_id: str) -> dict:
    """Embedding where `cfg.compute` says: the embed-descriptions task, or on a Dask cluster: the texts to embed cut
    into embed-piece tasks, the embeddings written here, in the flow's process. The cluster starts only when
    something needs embedding."""
    if cfg.compute.runner == "local":
        return embed_descriptions(cfg, describer_id)
    with LazyRunner(cfg.compute) as runner:
        encoder = PiecewiseEncoder(cfg.rubric.embedder, lambda pieces: runner.run(embed_piece_task, pieces, embedder=cfg.rubric.embedder),
                                   cfg.compute.piece_size)
        return embed_new_descriptions(store_for(cfg), cfg.rubric, describer_id, embedder=encoder, progress=progress_logger("embed")).as_dict()


@task(name="build-rubric", cache_policy=NO_CACHE)
def build_rubric(cfg: PipelineConfig, force: bool = False) -> dict:
    """Cluster, name and store a new rubric version (or report that nothing changed)."""
    return build_rubric_version(store_for(cfg), cfg.rubric, cfg.llm, force=force).as_dict()


@task(name="report-rubric", cache_policy=NO_CACHE)
def report_rubric(cfg: PipelineConfig, tracker: RunTracker, version_id: str) -> str:
    """Write the version's report, log it to MLflow under rubric/, show it as a Prefect artifact. Returns Markdown."""
    out = tempfile.mkdtemp(prefix="rubricate-rubric-")
    report = write_report(store_for(cfg), version_id, out)
    for path in report.files.values():
        tracker.log_artifact(path, "rubric")
    key = re.sub(r"[^a-z0-9-]+", "-", f"rubric-{cfg.rubric.rubric_name()}".lower())
    # The Prefect artifact also shows the plots, served by the MLflow UI (tracking.ui_url), each linked to the run's page.
    plots = tracker.images_markdown([f"rubric/{name}" for name in report.files if name.endswith(".png")])
    shown = report.markdown + (f"\n\n## Plots (from the MLflow UI at {tracker.ui_base})\n\n{plots}" if plots else "")
    create_markdown_artifact(markdown=shown, key=key, description=f"Rubric version {version_id}")
    return report.markdown
