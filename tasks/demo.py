from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.judge.heldout import balanced_pick
from rubricate.judge.stage import load_traces
from tasks.common import store_for


@task(name="pick-held-out", cache_policy=NO_CACHE)
def pick_held_out(cfg: PipelineConfig, eval_ids: list[str], n: int, seed: int) -> list[str]:
    """A seeded sample of `n` held-out traces, half gold-wrong and half gold-right (rubricate.judge.heldout.balanced_pick)."""
    return balanced_pick(load_traces(store_for(cfg), eval_ids), n, seed)
