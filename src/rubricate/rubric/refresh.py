"""What a rubric refresh run does before any work: apply the run's parameters to the config, and check the inputs
that would otherwise fail only after the descriptions were paid for."""

from __future__ import annotations

from rubricate.config import PipelineConfig, load_config
from rubricate.rubric.config import with_overrides


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
    """The config file with the run's parameters applied to its `rubric:` section (None keeps the file's value)."""
    cfg = load_config(config_path)
    rubric = with_overrides(
        cfg.rubric,
        domain=domain, datasets=datasets, source=source, **{
            "cluster.reduce": reduce, "cluster.min_cluster_size": min_cluster_size,
            "embedder.model": embedder, "naming.namer": namer,
        },
    )
    return cfg.model_copy(update={"rubric": rubric})


def check_refresh_inputs(cfg: PipelineConfig) -> None:
    """Raise EmbedderError now when the configured embedding model does not exist (describing comes first and may
    cost LLM calls; a bad model path should not wait for it)."""
    if cfg.rubric.embedder.model:
        from rubricate.rubric.embed import Embedder

        Embedder(cfg.rubric.embedder)
