"""The verify stage: rule verdicts for every stored trace that has a gold answer and no verdict yet.

Idempotent: a trace gets at most one verdict per VERIFIER_ID (primary key), so a re-run verifies only
what is new, and bumping VERIFIER_ID re-verifies everything. Traces without a gold answer are counted
("no_gold") and left unverified: the LLM judge, not the rules, is what can say something about them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import polars as pl

from rubricate.config import VerifyConfig
from rubricate.progress import Progress
from rubricate.store.db import Store, utcnow
from rubricate.verify.rules import VERIFIER_ID

log = logging.getLogger(__name__)

__all__ = ["VerifyReport", "verify_traces"]

VERDICT_SCHEMA: dict[str, Any] = {
    "trace_id": pl.Utf8,
    "verifier_id": pl.Utf8,
    "extracted_answer": pl.Utf8,
    "verdict": pl.Utf8,
    "reason": pl.Utf8,
    "decided_by": pl.Utf8,
    "elapsed_ms": pl.Float64,
    "created_at": pl.Datetime("us"),
}


@dataclass
class VerifyReport:
    verifier_id: str = VERIFIER_ID
    n_verified: int = 0  # verdicts written by this run
    correct: int = 0
    incorrect: int = 0
    no_answer: int = 0
    error: int = 0
    no_gold: int = 0  # traces without a gold answer, left unverified
    timeouts: int = 0  # items cut off by the hard per-item limit (counted in `error` too)
    worker_restarts: int = 0
    internal_errors: int = 0  # 'error' verdicts caused by a rubricate bug (counted in `error` too; logged with the traceback)
    pass_rate: float | None = None  # correct / verified in this run
    seconds: float = 0.0
    per_second: float = 0.0
    skipped: bool = False
    by_reason: dict[str, int] = field(default_factory=dict)  # error reasons, for the run log

    def progress(self) -> Progress:
        return Progress(self.n_verified, None, "answers verified")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify_traces(
    store: Store,
    cfg: VerifyConfig,
    *,
    progress: Callable[[VerifyReport], None] | None = None,
    pool: Any | None = None,
) -> VerifyReport:
    """Verify unverified traces in chunks of `cfg.chunk_size` with `cfg.workers` worker processes (default: one per core).

    `pool`: an already started VerifyPool to reuse (the stage starts and stops its own otherwise).
    """
    t0 = time.perf_counter()
    report = VerifyReport(verifier_id=VERIFIER_ID)
    report.no_gold = int(store.scalar("verify/count_traces_without_gold") or 0)
    if not cfg.enabled:
        report.skipped = True
        return report

    batches = store.iter_batches("verify/select_traces_to_verify", {"verifier_id": VERIFIER_ID}, batch_size=cfg.chunk_size)
    first = next(batches, None)
    if first is None or first.is_empty():
        report.seconds = round(time.perf_counter() - t0, 3)
        log.info("verify: nothing new to verify (%s traces without gold answer)", report.no_gold)
        return report

    from rubricate.verify.pool import VerifyPool  # starts processes: only when there is work

    own_pool = pool is None
    workers = cfg.workers or os.cpu_count() or 1
    active = pool or VerifyPool(workers, cfg.timeout_s, batch_size=max(1, cfg.chunk_size // (2 * workers)))
    timeouts0, restarts0 = active.timeouts, active.restarts
    try:
        if own_pool:
            active.start()
        chunk: pl.DataFrame | None = first
        while chunk is not None:
            if not chunk.is_empty():
                _verify_chunk(store, active, chunk, report)
                report.seconds = round(time.perf_counter() - t0, 3)
                report.per_second = round(report.n_verified / report.seconds, 2) if report.seconds else 0.0
                if progress:
                    progress(report)
            chunk = next(batches, None)
    finally:
        batches.close()
        report.timeouts = active.timeouts - timeouts0
        report.worker_restarts = active.restarts - restarts0
        if own_pool:
            active.close()
    report.pass_rate = round(report.correct / report.n_verified, 4) if report.n_verified else None
    report.seconds = round(time.perf_counter() - t0, 3)
    report.per_second = round(report.n_verified / report.seconds, 2) if report.seconds else 0.0
    log.info("verify: %s", report.as_dict())
    return report


def _verify_chunk(store: Store, pool: Any, chunk: pl.DataFrame, report: VerifyReport) -> None:
    ids = chunk["trace_id"].to_list()
    jobs = list(zip(chunk["gold_answer"].to_list(), chunk["response"].to_list()))
    verdicts = pool.map(jobs)
    now = utcnow()
    rows = []
    for trace_id, v in zip(ids, verdicts):
        rows.append(
            {
                "trace_id": trace_id,
                "verifier_id": VERIFIER_ID,
                "extracted_answer": v.extracted_answer,
                "verdict": v.verdict,
                "reason": v.reason,
                "decided_by": "rules",
                "elapsed_ms": float(v.elapsed_ms),
                "created_at": now,
            }
        )
        setattr(report, v.verdict, getattr(report, v.verdict) + 1)
        if v.internal_error is not None:
            if not report.internal_errors:  # the worker logged it too; the run log gets the first in full
                log.error("verify: a rubricate bug turned a verdict into an error (counted in internal_errors):\n%s", v.internal_error)
            report.internal_errors += 1
        elif v.verdict == "error":
            key = v.reason.split(" (")[0][:80]
            report.by_reason[key] = report.by_reason.get(key, 0) + 1
    store.insert_frame("verify/insert_answer_verdicts", pl.DataFrame(rows, schema=VERDICT_SCHEMA))
    report.n_verified += len(rows)
