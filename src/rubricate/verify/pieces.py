"""Verification cut into pieces that run elsewhere (a Dask cluster's workers), verdicts gathered back in order.

Two halves, both Prefect-free (tasks/verify.py wires them to Prefect tasks on a DaskTaskRunner):

- `verify_piece(jobs, timeout_s)` runs where the compute is (a Dask worker process). It keeps the stage's
  guarantees: the answers go through a VerifyPool of that process (one worker interpreter, started on the first
  piece and kept for the next ones), so the hard per-answer limit, the kill-and-replace of a stuck worker and a
  crash costing one 'error' verdict hold there exactly as on one machine.
- `PiecewisePool` stands in for a VerifyPool in `verify_traces`: its `map(jobs)` cuts a round of jobs into pieces,
  hands them to a `run_pieces` function (which submits them and returns their results in order) and joins the
  verdicts. The stage itself (reading rounds from the store, writing verdicts, the report) is unchanged and runs
  where the store is: in the flow.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

from rubricate.verify.pool import Job, VerifyPool
from rubricate.verify.rules import RuleVerdict

__all__ = ["PieceResult", "PiecewisePool", "verify_piece", "cut"]


@dataclass
class PieceResult:
    verdicts: list[RuleVerdict]
    timeouts: int = 0  # answers of this piece cut off by the hard limit
    restarts: int = 0  # worker restarts this piece cost


_POOLS: dict[float, VerifyPool] = {}
_POOLS_LOCK = threading.Lock()


def _close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


atexit.register(_close_pools)  # and if this process is killed, each worker exits on its pipe's end of file


def _process_pool(timeout_s: float) -> VerifyPool:
    with _POOLS_LOCK:
        pool = _POOLS.get(timeout_s)
        if pool is None:
            pool = _POOLS[timeout_s] = VerifyPool(1, timeout_s)
            pool.start()
        return pool


def verify_piece(jobs: Sequence[Job], timeout_s: float) -> PieceResult:
    """Verdicts for one piece of (gold, response) jobs, in order, through this process's own one-worker pool."""
    pool = _process_pool(float(timeout_s))
    t0, r0 = pool.timeouts, pool.restarts
    verdicts = pool.map(list(jobs))
    return PieceResult(verdicts, pool.timeouts - t0, pool.restarts - r0)


def cut(items: Sequence, size: int) -> list[list]:
    """`items` in consecutive pieces of at most `size`."""
    return [list(items[i : i + size]) for i in range(0, len(items), max(1, size))]


RunPieces = Callable[[list[list[Job]]], list[PieceResult]]  # pieces -> their results, in the same order


class PiecewisePool:
    """What `verify_traces` needs of a pool (`map`, `timeouts`, `restarts`), over pieces run by `run_pieces`."""

    def __init__(self, run_pieces: RunPieces, piece_size: int) -> None:
        self.run_pieces = run_pieces
        self.piece_size = max(1, piece_size)
        self.timeouts = 0
        self.restarts = 0

    def map(self, jobs: Sequence[Job]) -> list[RuleVerdict]:
        if not jobs:
            return []
        pieces = cut(jobs, self.piece_size)
        results = self.run_pieces(pieces)
        if len(results) != len(pieces):
            raise RuntimeError(f"run_pieces returned {len(results)} results for {len(pieces)} pieces")
        verdicts: list[RuleVerdict] = []
        for piece, result in zip(pieces, results):
            if len(result.verdicts) != len(piece):
                raise RuntimeError(f"a piece of {len(piece)} jobs came back with {len(result.verdicts)} verdicts")
            verdicts.extend(result.verdicts)
            self.timeouts += result.timeouts
            self.restarts += result.restarts
        return verdicts
