from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.llm.backends import get_backend
from rubricate.verify.llm_addon import recover_false_negatives
from tasks.common import progress_logger, store_for


@task(name="llm-verify-rejections", cache_policy=NO_CACHE)
def llm_verify_rejections(cfg: PipelineConfig) -> dict:
    """TinyV addon: ask the LLM about the rule verifier's rejections only (nothing offline); returns counts."""
    store = store_for(cfg)
    report = recover_false_negatives(store, get_backend(cfg.llm, store=store), max_parse_retries=cfg.verify.llm_max_parse_retries,
                                     progress=progress_logger("llm verify"))
    return report.as_dict()
