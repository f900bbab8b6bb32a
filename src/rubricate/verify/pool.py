"""Run rule verification in worker processes with a hard time limit per item.

math-verify's own timeouts use SIGALRM, which works only on a main thread; Prefect runs tasks in
worker threads, and sympy can also spin in code that never returns to the interpreter. So the limit
is enforced from outside: each worker process gets batches of items and sends back one result per
item; the parent knows which item a worker is on (the one after its last result) and since when. An
item that overruns the limit gets the verdict 'error' ("timeout after Xs"), the worker is killed and
replaced, and the rest of its batch goes to the replacement. A worker that dies (segfault, OOM kill)
costs an 'error' verdict for the item it held, never the stage.

Workers are fresh interpreters (``python -m rubricate.verify.worker``, see worker.py for why not
multiprocessing); each start costs about a second of imports (math-verify, sympy), paid at pool start
and again only after a timeout or a crash.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence

from rubricate.errors import RubricateError
from rubricate.verify.rules import RuleVerdict, verify_response

log = logging.getLogger(__name__)

__all__ = ["VerifyPool", "VerifyPoolError"]

Job = tuple[str | None, str]  # (gold answer, response)
_Item = tuple[int, str | None, str]


class VerifyPoolError(RubricateError):
    """The worker processes cannot be started at all (not: an item failed, which is a verdict)."""


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    conn: Connection  # parent reads results here
    inbox: Connection  # parent sends batches here
    spawned_at: float
    ready: bool = False
    pid: int | None = None
    batch: deque[_Item] = field(default_factory=deque)
    item_since: float = 0.0  # when the item now at the head of `batch` started

    def deadline(self, timeout_s: float, startup_s: float) -> float:
        if not self.ready:
            return self.spawned_at + startup_s
        return self.item_since + timeout_s


class VerifyPool:
    """A pool of `workers` processes running `fn(gold, response, **fn_kwargs)` with a hard limit per item.

    `fn` must be a module-level function (it is pickled by name); the default is
    `rubricate.verify.rules.verify_response` with math-verify's own limit set a little under the hard one
    (inside a worker it runs on that process's main thread, where SIGALRM works), so most slow items end
    as a clean math-verify timeout and only real hangs cost a worker restart.
    """

    def __init__(
        self,
        workers: int = 2,
        timeout_s: float = 5.0,
        *,
        batch_size: int = 8,
        fn: Callable[..., RuleVerdict] = verify_response,
        fn_kwargs: dict[str, Any] | None = None,
        startup_timeout_s: float = 120.0,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.workers = workers
        self.timeout_s = float(timeout_s)
        self.batch_size = max(1, batch_size)
        self.fn = fn
        if fn_kwargs is None and fn is verify_response:
            inner = math.floor(self.timeout_s * 0.8)
            fn_kwargs = {"mv_timeout_s": inner if inner >= 1 else None}
        self.fn_kwargs = fn_kwargs or {}
        self.startup_timeout_s = startup_timeout_s
        self._slots: list[_Worker] = []
        self._lock = threading.Lock()
        self.restarts = 0
        self.timeouts = 0
        self.crashes = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "VerifyPool":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        while len(self._slots) < self.workers:
            self._slots.append(self._spawn())

    def close(self) -> None:
        for w in self._slots:
            self._send(w, None)
        deadline = time.monotonic() + 3.0
        for w in self._slots:
            try:
                w.proc.wait(max(0.01, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait(5.0)
            w.conn.close()
            w.inbox.close()
        self._slots = []

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring, and for tests that kill one)."""
        return [w.proc.pid for w in self._slots if w.proc.poll() is None]

    def _spawn(self) -> _Worker:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        # the child must import what the parent can (rubricate from a source tree, a test's fn)
        env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rubricate.verify.worker", str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise VerifyPoolError(f"cannot start a verifier worker ({sys.executable} -m rubricate.verify.worker): {exc}") from exc
        os.close(to_child_r)
        os.close(from_child_w)
        w = _Worker(proc=proc, conn=Connection(from_child_r, writable=False), inbox=Connection(to_child_w, readable=False), spawned_at=time.monotonic())
        self._send(w, (self.fn, self.fn_kwargs))
        return w

    @staticmethod
    def _send(w: _Worker, msg: Any) -> None:
        try:
            w.inbox.send(msg)
        except (OSError, ValueError):
            pass  # the worker is gone; the map loop sees it dead and deals with its batch

    def _replace(self, w: _Worker) -> _Worker:
        if w.proc.poll() is None:
            w.proc.kill()
        try:
            w.proc.wait(5.0)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait for the process
            pass
        w.conn.close()
        w.inbox.close()
        self.restarts += 1
        fresh = self._spawn()
        self._slots[self._slots.index(w)] = fresh
        return fresh

    # -- work -----------------------------------------------------------------------------------
    def map(self, jobs: Sequence[Job]) -> list[RuleVerdict]:
        """Verdicts for `jobs`, in order. Never raises for an item; raises VerifyPoolError only when
        no worker can be started."""
        with self._lock:  # one map at a time: the workers' protocol is strictly per batch
            return self._map(jobs)

    def _map(self, jobs: Sequence[Job]) -> list[RuleVerdict]:
        n = len(jobs)
        if n == 0:
            return []
        self.start()
        results: list[RuleVerdict | None] = [None] * n
        # Small batches keep both workers busy and bound what a restart has to resend.
        size = max(1, min(self.batch_size, math.ceil(n / (2 * self.workers))))
        pending: deque[list[_Item]] = deque(
            [(i, g, r) for i, (g, r) in enumerate(jobs[s : s + size], start=s)] for s in range(0, n, size)
        )
        remaining = n
        failed_starts = 0

        def give(w: _Worker) -> None:
            if not w.batch and pending:
                if w.proc.poll() is not None:  # died while idle (OOM killer between maps): not an item's fault
                    w = self._replace(w)
                batch = pending.popleft()
                w.batch.extend(batch)
                w.item_since = time.monotonic()
                self._send(w, batch)

        def resend(w: _Worker) -> None:
            if w.batch:
                w.item_since = time.monotonic()
                self._send(w, list(w.batch))

        def fail_head(w: _Worker, reason: str, elapsed_ms: float) -> None:
            nonlocal remaining
            idx, _, _ = w.batch.popleft()
            if results[idx] is None:
                results[idx] = RuleVerdict(None, "error", reason, round(elapsed_ms, 3))
                remaining -= 1

        while remaining:
            for w in list(self._slots):
                give(w)
            busy = [w for w in self._slots if w.batch]
            if not busy:  # pragma: no cover - remaining > 0 implies some batch is out
                break
            now = time.monotonic()
            wake = min(w.deadline(self.timeout_s, self.startup_timeout_s) for w in busy)
            # a dead worker's pipe reads as EOF, so waiting on the pipes also notices deaths
            wait([w.conn for w in busy], timeout=max(0.0, wake - now) + 0.01)

            for w in busy:
                died = False
                while True:
                    try:
                        if not w.conn.poll():
                            break
                        msg = w.conn.recv()
                    except (EOFError, OSError):
                        died = True
                        break
                    if msg[0] == "ready":
                        w.ready, w.pid = True, msg[1]
                        w.item_since = time.monotonic()
                        failed_starts = 0
                    elif msg[0] == "done":
                        _, idx, verdict = msg
                        if w.batch and w.batch[0][0] == idx:
                            w.batch.popleft()
                        if results[idx] is None:
                            results[idx] = verdict
                            remaining -= 1
                        w.item_since = time.monotonic()
                if died:
                    try:
                        code = w.proc.wait(2.0)
                    except subprocess.TimeoutExpired:
                        code = None
                    if not w.ready:
                        failed_starts += 1
                        if failed_starts > 3:
                            self.close()
                            raise VerifyPoolError(
                                f"verifier worker processes die at start (exit code {code}); their error is on stderr "
                                f"above; `{sys.executable} -m rubricate.verify.worker` must be able to import rubricate "
                                "and math_verify"
                            )
                        log.warning("verifier worker died at start (exit code %s); starting another", code)
                    elif w.batch:
                        self.crashes += 1
                        fail_head(w, f"worker process died (exit code {code}) on this item", (time.monotonic() - w.item_since) * 1000)
                        log.warning("verifier worker died (exit code %s); item marked error, worker replaced", code)
                    fresh = self._replace(w)
                    fresh.batch = w.batch
                    resend(fresh)

            now = time.monotonic()
            for w in list(self._slots):
                if not w.batch or now <= w.deadline(self.timeout_s, self.startup_timeout_s):
                    continue
                if not w.ready:
                    failed_starts += 1
                    if failed_starts > 3:
                        self.close()
                        raise VerifyPoolError(
                            f"verifier workers did not start within {self.startup_timeout_s:g}s; the machine may be "
                            "overloaded, or math_verify's import hangs"
                        )
                else:
                    self.timeouts += 1
                    fail_head(w, f"timeout after {self.timeout_s:g}s (worker stopped)", (now - w.item_since) * 1000)
                fresh = self._replace(w)
                fresh.batch = w.batch
                resend(fresh)
        return [r if r is not None else RuleVerdict(None, "error", "not verified (internal)", 0.0) for r in results]
