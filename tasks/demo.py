from __future__ import annotations

import random

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.judge.stage import load_traces
from tasks.common import store_for


@task(name="pick-held-out", cache_policy=NO_CACHE)
def pick_held_out(cfg: PipelineConfig, eval_ids: list[str], n: int, seed: int) -> list[str]:
    """A seeded sample of `n` held-out traces, half gold-wrong and half gold-right (fewer when a side runs out):
    on a CPU model each judged trace costs seconds, so the demo judges a few and says which."""
    traces = load_traces(store_for(cfg), eval_ids)
    rng = random.Random(seed)
    wrong = sorted(t.trace_id for t in traces if t.label_correct is False)
    right = sorted(t.trace_id for t in traces if t.label_correct)
    rng.shuffle(wrong)
    rng.shuffle(right)
    return sorted(wrong[: n - n // 2] + right[: n // 2])
