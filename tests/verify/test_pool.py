"""The worker pool: a hang is cut off, a killed worker costs one item, order is kept.

The hang is a busy loop in the worker (stand_in_hang.py): the known real ones (sympy computing 9^(9^9)
exactly) are now refused before math-verify sees them (test_compare.py), and a hang of the same kind,
pure computation that never returns, is what only the pool's hard limit can stop.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from rubricate.verify.pool import VerifyPool
from rubricate.verify.rules import RuleVerdict
from tests.verify.stand_in_hang import hang_response, verify_or_hang

HANG = ("2", hang_response())
EASY = [("\\frac{1}{2}", "so it is \\boxed{0.5}"), ("12", "The answer is 13."), ("C", "Answer: (C)")] * 3
EXPECTED_EASY = ["correct", "incorrect", "correct"] * 3


def _pool(**kw: object) -> VerifyPool:
    # mv_timeout_s=None: math-verify's SIGALRM limit off, as in a Prefect worker thread
    return VerifyPool(workers=2, timeout_s=2.0, batch_size=4, fn=verify_or_hang, fn_kwargs={"mv_timeout_s": None}, **kw)  # type: ignore[arg-type]


def test_hang_is_cut_off_and_the_rest_is_verified() -> None:
    jobs = EASY[:4] + [HANG] + EASY[4:]
    with _pool() as pool:
        verdicts = pool.map(jobs)
        assert pool.timeouts == 1 and pool.restarts == 1
        # the replacement worker serves the next map as usual
        again = pool.map(EASY)
    assert all(isinstance(v, RuleVerdict) for v in verdicts)
    hang = verdicts[4]
    assert hang.verdict == "error" and hang.reason == "timeout after 2s (worker stopped)"
    assert [v.verdict for v in verdicts[:4] + verdicts[5:]] == EXPECTED_EASY
    assert [v.verdict for v in again] == EXPECTED_EASY


def test_hang_is_cut_off_when_called_from_a_worker_thread() -> None:
    """Prefect runs tasks in threads: the limit must not depend on being the main thread."""
    out: list[object] = []

    def task() -> None:
        try:
            with _pool() as pool:
                out.append(pool.map([HANG, EASY[0]]))
        except BaseException as exc:  # noqa: BLE001 - shown by the assertion
            out.append(exc)

    t = threading.Thread(target=task)
    t.start()
    t.join(120)
    assert out and isinstance(out[0], list), out
    hang, easy = out[0]
    assert hang.verdict == "error" and hang.reason.startswith("timeout after")
    assert easy.verdict == "correct"


def test_killed_worker_costs_one_item_not_the_map(tmp_path: Path) -> None:
    """A worker that dies (here: SIGKILL, as the OOM killer would) is an error verdict for its item."""
    with VerifyPool(workers=1, timeout_s=60.0, batch_size=8, fn=verify_or_hang, fn_kwargs={"mv_timeout_s": None}) as pool:
        pool.map([EASY[0]])  # worker is up and warm
        victim = pool.worker_pids()[0]

        ready = tmp_path / "inside-the-hang"

        def kill_when_inside_the_hang() -> None:
            deadline = time.monotonic() + 60
            while not ready.exists() and time.monotonic() < deadline:  # the worker says when it is in the hang
                time.sleep(0.01)
            os.kill(victim, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_inside_the_hang)
        killer.start()
        verdicts = pool.map([EASY[1], ("2", hang_response(ready)), *EASY[:3]])
        killer.join()
        assert pool.crashes == 1 and pool.restarts == 1 and victim not in pool.worker_pids()
    assert verdicts[1].verdict == "error" and "worker process died" in verdicts[1].reason
    assert [v.verdict for v in verdicts[:1] + verdicts[2:]] == ["incorrect", "correct", "incorrect", "correct"]


def test_empty_map_and_default_limits() -> None:
    pool = VerifyPool(workers=1, timeout_s=5.0)
    try:
        assert pool.map([]) == []
        # inside a worker math-verify runs on that process's main thread: its own limit sits under the hard one
        assert pool.fn_kwargs == {"mv_timeout_s": 4}
    finally:
        pool.close()


def test_worker_that_died_while_idle_is_replaced_without_blaming_an_item() -> None:
    with VerifyPool(workers=1, timeout_s=30.0, fn_kwargs={"mv_timeout_s": None}) as pool:
        pool.map([EASY[0]])
        victim = pool.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim in pool.worker_pids() and time.monotonic() < deadline:  # wait until it is gone
            time.sleep(0.05)
        verdicts = pool.map(EASY[:3])
        assert pool.crashes == 0 and pool.restarts == 1
    assert [v.verdict for v in verdicts] == EXPECTED_EASY[:3]
