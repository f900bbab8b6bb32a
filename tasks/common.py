"""What every task and flow needs: the config, the shared store, a progress logger, the frame of a flow run."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

from rubricate.config import PipelineConfig
from rubricate.runs import Lease, hold_lease, killed_reason, reap_stale_runs
from rubricate.store import Store, open_store
from rubricate.tracking import RunTracker, track_run


def store_for(cfg: PipelineConfig) -> Store:
    """The flow's store; while another process holds it, wait (store.lock_wait_s) and say so in the run log."""
    return open_store(cfg.store_target(), lock_wait_s=cfg.store.lock_wait_s, on_wait=run_logger().warning)


def run_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    try:
        return get_run_logger()
    except MissingContextError:  # called through .fn() outside a run
        return logging.getLogger("rubricate")


def say_done(line: str) -> None:
    """The one line a flow ends with: what it produced (counts, version ids, where the files went, its MLflow run)."""
    run_logger().info("%s", line)


def progress_logger(stage: str) -> Callable[[Any], None]:
    """A callback that logs a stage's progress to the Prefect run log: counts, rate and time left, every 10 s
    at most (rubricate.progress.ProgressLog); a report that cannot say how far it is is logged as it is."""
    from rubricate.progress import ProgressLog

    logger = run_logger()
    pace = ProgressLog(stage)

    def log_progress(report: Any) -> None:
        if hasattr(report, "progress"):
            line = pace.line(report.progress())
            if line is not None:
                logger.info("%s", line)
            return
        logger.info("%s progress: %s", stage, report.as_dict() if hasattr(report, "as_dict") else report)

    return log_progress


def stop_temporary_server_with_this_process() -> None:
    """Tie Prefect's temporary API server (started when no PREFECT_API_URL is set) to this process's life.

    Prefect stops it at exit, but a process killed with SIGKILL runs no exit handler and the server lives on,
    orphaned. A watchdog (rubricate.processes) stops it once this process is gone.
    """
    import sys

    if "prefect.server.api.server" not in sys.modules:  # this process started no temporary server (a worker's run)
        return
    from prefect.server.api.server import SubprocessASGIServer

    from rubricate.processes import stop_with_parent

    # `_instances` is Prefect's registry of the temporary servers it started (prefect 3.8.8); absent, nothing to tie.
    for server in list(getattr(SubprocessASGIServer, "_instances", {}).values()):
        if server.running and server.server_process is not None and server.server_process.poll() is None:
            stop_with_parent(server.server_process.pid)


def start_temporary_server() -> None:
    """Start Prefect's temporary API server now (when no PREFECT_API_URL is set), one process at a time.

    Called by each flow's command line before the flow: two first runs on a fresh PREFECT_HOME otherwise start
    two servers that migrate one SQLite database at once and break it (`no such column ...`, alembic
    `expected to match one row`). A file lock in PREFECT_HOME serialises the start; the flow then reuses this
    server (Prefect keeps one per process), and it is tied to this process's life from the start.
    """
    from pathlib import Path

    from prefect.settings import PREFECT_API_URL, PREFECT_HOME

    from rubricate.locks import file_lock

    if PREFECT_API_URL.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    home = Path(PREFECT_HOME.value())
    with file_lock(home / "temporary-server.lock", what="start of Prefect's temporary server"):
        SubprocessASGIServer().start()
    stop_temporary_server_with_this_process()


def crash_prefect_runs(leases: list[Lease]) -> None:
    """Set the Prefect flow run of each dead process's lease to Crashed (if it is not already final)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    ids = [lease for lease in leases if lease.prefect_flow_run_id]
    if not ids:
        return
    logger = run_logger()
    with get_client(sync_client=True) as client:
        for lease in ids:
            try:
                run = client.read_flow_run(UUID(lease.prefect_flow_run_id))
            except ObjectNotFound:  # recorded by another Prefect server or database
                logger.warning("stale run %s: its Prefect flow run %s is not on this Prefect API", lease.describe(), lease.prefect_flow_run_id)
                continue
            if run.state is None or not run.state.is_final():
                client.set_flow_run_state(run.id, Crashed(message=killed_reason(lease)), force=True)


@contextmanager
def tracked_flow_run(
    cfg: PipelineConfig,
    flow_name: str,
    *,
    tags: Mapping[str, Any] | None = None,
    extra_params: Mapping[str, Any] | None = None,
    run_name: str | None = None,
) -> Iterator[RunTracker]:
    """The frame of every flow run: one MLflow run (FAILED with the error if the body raises), and recovery.

    Before it starts, the runs of processes on this machine that died without ending (kill -9, OOM) are
    marked: MLflow KILLED with the tag `rubricate.end_reason`, Prefect Crashed. While it runs, a lease in
    <data_dir>/runs says which process runs it, and Prefect's temporary server is tied to this process.
    """
    from prefect.runtime import flow_run

    prefect_id = flow_run.get_id() or ""
    stop_temporary_server_with_this_process()
    logger = run_logger()
    reaped = reap_stale_runs(cfg)
    for lease in reaped:
        logger.warning("marked the run of a dead process as killed: %s (MLflow %s, Prefect %s)", lease.describe(),
                       lease.mlflow_run_id or "-", lease.prefect_flow_run_id or "-")
    crash_prefect_runs(reaped)
    all_tags = {"prefect.flow_run_id": prefect_id, **(tags or {})}
    with hold_lease(cfg, flow_name, prefect_id) as handle, track_run(cfg, flow_name, run_name=run_name, tags=all_tags, extra_params=extra_params) as tracker:
        handle.attach(tracker.run_id, cfg.tracking_uri() if tracker.enabled else None)
        if prefect_id:
            link_mlflow_run(tracker, flow_name)
        yield tracker


def link_mlflow_run(tracker: RunTracker, flow_name: str) -> None:
    """A link artifact on the Prefect flow run to its MLflow run's page (params, metrics, artifacts). Its description
    starts with the link too: the flow run's Artifacts tab shows descriptions, so the run is one click away there.
    Nothing when tracking is off."""
    from prefect.artifacts import create_link_artifact

    url = tracker.ui_url()
    if url is None:
        return
    run_logger().info("MLflow run %s: %s", tracker.run_id, url)  # the run's Logs tab (its first tab) shows it as a link
    create_link_artifact(
        link=url, link_text=f"MLflow run {tracker.run_id}", key=f"mlflow-{flow_name.replace('_', '-')}",
        description=f"[Open this {flow_name} run in MLflow]({url}): params, metrics and artifacts (MLflow UI at {tracker.ui_base}, `make ui-mlflow`)",
    )
