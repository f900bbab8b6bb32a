"""Progress lines for long stages: a count, its total when known, the rate and the time left, at a steady pace.

Stage reports say how far they are (`progress()` on VerifyReport, JudgeReport, DescribeReport, ...); the Prefect
tasks hand each report to a ProgressLog, which returns a line at most every `every_s` seconds (and always when
the stage is done), so a 20-minute judge run says where it is without flooding the run log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None  # None: the stage does not know its total up front
    unit: str  # what is counted, in words: "traces judged", "answers verified"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressLog:
    """Turns progress reports into log lines at a steady pace (see the module docstring)."""

    def __init__(self, stage: str, *, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stage = stage
        self.every_s = every_s
        self._clock = clock
        self._t0 = clock()
        self._last: float | None = None

    def line(self, p: Progress) -> str | None:
        now = self._clock()
        finished = p.total is not None and p.done >= p.total
        if not finished and self._last is not None and now - self._last < self.every_s:
            return None
        self._last = now
        elapsed = now - self._t0
        rate = p.done / elapsed if elapsed > 0 else 0.0
        pace = f"{rate:.1f}/s" if rate >= 1 else (f"{rate * 60:.1f}/min" if rate > 0 else "starting")
        if p.total is None:
            return f"{self.stage}: {p.done:,} {p.unit}, {pace}, {_duration(elapsed)} so far"
        share = f"{p.done / p.total:.0%}" if p.total else "100%"
        left = f"about {_duration((p.total - p.done) / rate)} left" if 0 < rate and not finished else f"{_duration(elapsed)} in all"
        return f"{self.stage}: {p.done:,}/{p.total:,} {p.unit} ({share}), {pace}, {left}"
