from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.collect.rollouts import ingest_rollouts, sample_problem_set
from rubricate.config import PipelineConfig
from rubricate.ingest.problems import ingest_problem_set
from rubricate.llm.backends import get_backend
from tasks.common import progress_logger, run_logger, store_for


@task(name="ingest-problem-set", cache_policy=NO_CACHE)
def ingest_problems(cfg: PipelineConfig, source_name: str, limit: int | None = None) -> dict:
    """Store the problems of a configured problem-set source (`problems_only: true`); reruns add nothing."""
    source = next(s for s in cfg.sources if s.name == source_name)
    if limit is not None:
        source = source.model_copy(update={"limit": limit})
    return ingest_problem_set(store_for(cfg), source, config_hash=cfg.config_hash(), progress=progress_logger(f"problems {source_name}")).as_dict()


@task(name="sample-responses", cache_policy=NO_CACHE)
def sample_responses(cfg: PipelineConfig, source_path: str | None, limit: int | None) -> dict:
    """k responses per stored problem from the policy model (cached), written as a verl rollout file."""
    store = store_for(cfg)
    backend = get_backend(cfg.collect.policy, store=store)
    logger = run_logger()
    report = sample_problem_set(store, backend, cfg.collect, source_path=source_path, limit=limit,
                                output_dir=cfg.collect.output_dir or cfg.resolved_data_dir() / "collected",
                                progress=lambda done, total: logger.info("sampled %d/%d", done, total))
    return report.as_dict()


@task(name="ingest-rollouts", cache_policy=NO_CACHE)
def store_rollouts(cfg: PipelineConfig, rollout_path: str, name: str) -> dict:
    """The sampled responses become traces (verl reader): ids, duplicates and rejections as for any source."""
    return ingest_rollouts(store_for(cfg), rollout_path, name=name, config_hash=cfg.config_hash()).as_dict()
