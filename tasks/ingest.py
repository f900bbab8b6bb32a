from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.ingest import ingest_source
from rubricate.ingest.problems import ingest_problem_set, is_problem_set
from tasks.common import progress_logger, run_logger, store_for


@task(name="ingest", cache_policy=NO_CACHE)
def ingest(cfg: PipelineConfig, source_name: str) -> dict:
    """Ingest one configured source (traces, or a problem set); returns its counts (in = accepted + rejected + duplicates)."""
    source = next(s for s in cfg.sources if s.name == source_name)
    progress = progress_logger(f"ingest {source_name}")
    if is_problem_set(source):
        report = ingest_problem_set(store_for(cfg), source, config_hash=cfg.config_hash(), progress=progress)
    else:
        report = ingest_source(store_for(cfg), source, config_hash=cfg.config_hash(), progress=progress)
    for warning in report.warnings:  # an absent path, files not read: shown in the Prefect run log
        run_logger().warning("ingest %s: %s", source_name, warning)
    return report.as_dict()
