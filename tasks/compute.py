"""Where the CPU-heavy stages compute: the config's `compute:` section as a Prefect task runner.

`compute.runner: local` (the default) uses no runner: each stage's task computes in the flow's machine as before.
`compute.runner: dask` gives a DaskTaskRunner (prefect-dask): a local cluster of `n_workers` processes started for
the stage and stopped after it, or the running cluster at `dask_address`. The stage cuts its work into pieces
and submits each as a Prefect task to that runner (so each piece shows as a task run in the flow's run), and the
flow writes what comes back: the store is only ever touched by the flow's process.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator, Sequence

from prefect.task_runners import TaskRunner
from prefect.tasks import Task

from rubricate.config import ComputeConfig
from tasks.common import run_logger


@contextmanager
def dask_runner(compute: ComputeConfig) -> Iterator[TaskRunner]:
    """A started DaskTaskRunner for `compute` (a local cluster is closed on exit; a remote one is left running)."""
    from prefect_dask import DaskTaskRunner

    if compute.dask_address:
        runner = DaskTaskRunner(address=compute.dask_address)
        where = f"the Dask cluster at {compute.dask_address}"
    else:
        n = compute.n_workers or os.cpu_count() or 1
        # One thread per worker process: the pieces are CPU-bound Python (the GIL), parallel only across processes.
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": n, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
        where = f"a local Dask cluster of {n} worker process(es)"
    run_logger().info("compute: pieces of %s run on %s", compute.piece_size, where)
    with runner:
        yield runner


def run_pieces(runner: TaskRunner, task: Task, pieces: Sequence[Any], **params: Any) -> list[Any]:
    """Submit `task(piece=<piece>, **params)` for every piece at once; their results in the pieces' order.
    A piece whose task failed (after Dask's own retries on a lost worker) raises here: the stage stops, what the
    flow wrote before stays, and a rerun does only the rest."""
    futures = [runner.submit(task, parameters={"piece": piece, **params}) for piece in pieces]
    return [future.result() for future in futures]


class LazyRunner:
    """`with LazyRunner(compute) as lazy:` ... `lazy.run(task, pieces, ...)`: the cluster starts on the first pieces
    (a stage with nothing to do starts none) and stops when the block ends."""

    def __init__(self, compute: ComputeConfig) -> None:
        self.compute = compute
        self._stack = ExitStack()
        self._runner: TaskRunner | None = None

    def __enter__(self) -> "LazyRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, task: Task, pieces: Sequence[Any], **params: Any) -> list[Any]:
        if self._runner is None:
            self._runner = self._stack.enter_context(dask_runner(self.compute))
        return run_pieces(self._runner, task, pieces, **params)
