from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.verify.stage import verify_traces
from tasks.common import progress_logger, store_for


@task(name="verify-answers", cache_policy=NO_CACHE)
def verify_answers(cfg: PipelineConfig) -> dict:
    """Rule-verify every trace with a gold answer that has no verdict from the current verifier."""
    return verify_traces(store_for(cfg), cfg.verify, progress=progress_logger("verify")).as_dict()
