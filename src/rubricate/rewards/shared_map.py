"""Concurrent callers share one batch runner: what arrives while a batch runs goes out together next.

verl's reward loop and OpenRLHF call the online reward once per sample, from many threads at once, and the
rule-check pool (`VerifyPool.map`) runs one batch at a time. Without this, each call would wait its turn for
a batch of one sample, leaving all workers but one idle. Here the calls that arrive while a batch runs are
queued; when it ends, the first of them runs everything queued as one batch and the others wait for their
share. So a call waits for at most the batch in flight, then its own; no extra thread is started.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

__all__ = ["SharedMap"]

J = TypeVar("J")
R = TypeVar("R")


@dataclass
class _Call(Generic[J, R]):
    jobs: list[J]
    ready: threading.Event = field(default_factory=threading.Event)  # results in, or this call now leads
    leads: bool = False  # this call runs the next batch
    results: list[R] | None = None
    error: BaseException | None = None


class SharedMap(Generic[J, R]):
    """`map(jobs)` through `run(all queued jobs)`, one `run` at a time, results handed back per call in order."""

    def __init__(self, run: Callable[[list[J]], Sequence[R]]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._queued: list[_Call[J, R]] = []
        self._running = False
        self.batches = 0  # runs so far (for tests and monitoring)

    def map(self, jobs: Sequence[J]) -> list[R]:
        if not jobs:
            return []
        call: _Call[J, R] = _Call(list(jobs))
        with self._lock:
            self._queued.append(call)
            if not self._running:
                self._running = call.leads = True
        if not call.leads:
            call.ready.wait()
        if call.leads:
            self._run_queued()
        if call.error is not None:
            raise call.error
        assert call.results is not None
        return call.results

    def _run_queued(self) -> None:
        with self._lock:
            batch, self._queued = self._queued, []
        try:
            results = list(self._run([job for c in batch for job in c.jobs]))
            error: BaseException | None = None
            if len(results) != sum(len(c.jobs) for c in batch):
                error = RuntimeError(f"batch runner returned {len(results)} results for {sum(len(c.jobs) for c in batch)} jobs")
        except BaseException as exc:  # every caller of this batch gets the error, none is left waiting
            results, error = [], exc
        self.batches += 1
        start = 0
        for c in batch:
            c.error = error
            if error is None:
                c.results = results[start : start + len(c.jobs)]
            start += len(c.jobs)
            c.leads = False
            c.ready.set()
        with self._lock:  # hand the runner on to the first call that queued meanwhile
            if self._queued:
                self._queued[0].leads = True
                self._queued[0].ready.set()
            else:
                self._running = False
