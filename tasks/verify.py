from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.verify.pieces import PieceResult, PiecewisePool, verify_piece
from rubricate.verify.stage import verify_traces
from tasks.common import progress_logger, store_for
from tasks.compute import LazyRunner


@task(name="verify-answers", cache_policy=NO_CACHE)
def verify_answers(cfg: PipelineConfig) -> dict:
    """Rule-verify every trace with a gold answer that has no verdict from the current verifier."""
    return verify_traces(store_for(cfg), cfg.verify, progress=progress_logger("verify")).as_dict()


@task(name="verify-piece", cache_policy=NO_CACHE)
def verify_piece_task(piece: list[Any], timeout_s: float) -> PieceResult:
    """Rule verdicts for one piece of (gold answer, response) pairs, where the task runner runs it (a Dask worker)."""
    return verify_piece([(gold, response) for gold, response in piece], timeout_s)


def verify_stage(cfg: PipelineConfig) -> dict:
    """Rule verification where `cfg.compute` says: the verify-answers task (its local pool), or on a Dask cluster:
    each round of traces read from the store cut into verify-piece tasks, the verdicts written here, in the flow's
    process (the same stage, the same reads, writes and report as with the local pool)."""
    if cfg.compute.runner == "local":
        return verify_answers(cfg)
    with LazyRunner(cfg.compute) as runner:
        pool = PiecewisePool(lambda pieces: runner.run(verify_piece_task, pieces, timeout_s=cfg.verify.timeout_s), cfg.compute.piece_size)
        return verify_traces(store_for(cfg), cfg.verify, progress=progress_logger("verify"), pool=pool).as_dict()
