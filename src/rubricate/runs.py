"""Run leases: which flow runs the processes of this machine are running, so that the next run can tell which died.

A flow run writes a lease file under `<data_dir>/runs/` when it starts and removes it when it ends, whether it
finished or failed. kill -9, an OOM kill or a power cut leaves the file behind. The next flow run on the same
machine finds the leases whose process is gone (or whose PID now belongs to another process: the start times
differ), marks their MLflow run KILLED with a tag that says why, and hands them back so that the flow layer
can mark their Prefect run Crashed (the core does not import Prefect).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from rubricate.config import PipelineConfig
from rubricate.processes import process_identity

log = logging.getLogger(__name__)

END_REASON_TAG = "rubricate.end_reason"


@dataclass(frozen=True)
class Lease:
    flow: str
    pid: int
    host: str
    identity: str
    started_at: str
    prefect_flow_run_id: str | None = None
    mlflow_run_id: str | None = None
    tracking_uri: str | None = None
    path: str = field(default="", compare=False)

    def describe(self) -> str:
        return f"flow {self.flow} (PID {self.pid} on {self.host}, started {self.started_at})"


def leases_dir(cfg: PipelineConfig) -> Path:
    return cfg.resolved_data_dir() / "runs"


def _write(lease: Lease) -> None:
    path = Path(lease.path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: v for k, v in asdict(lease).items() if k != "path"}), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader never sees half a lease


class LeaseHandle:
    """The lease of the running flow; `attach` records its MLflow run once it exists."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease

    def attach(self, mlflow_run_id: str | None, tracking_uri: str | None) -> None:
        self.lease = replace(self.lease, mlflow_run_id=mlflow_run_id, tracking_uri=tracking_uri)
        _write(self.lease)


@contextmanager
def hold_lease(cfg: PipelineConfig, flow: str, prefect_flow_run_id: str | None) -> Iterator[LeaseHandle]:
    """Register this process's flow run for the block; the file stays only if the process dies inside it."""
    folder = leases_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    path = folder / f"{socket.gethostname()}-{pid}-{uuid.uuid4().hex[:8]}.json"
    lease = Lease(flow=flow, pid=pid, host=socket.gethostname(), identity=process_identity(pid) or f"pid:{pid}",
                  started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  prefect_flow_run_id=prefect_flow_run_id or None, path=str(path))
    _write(lease)
    try:
        yield LeaseHandle(lease)
    finally:
        path.unlink(missing_ok=True)


def stale_leases(cfg: PipelineConfig) -> list[Lease]:
    """Leases of this machine whose process is gone. Leases of other machines are left to those machines."""
    folder = leases_dir(cfg)
    if not folder.is_dir():
        return []
    host, found = socket.gethostname(), []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            lease = Lease(**data, path=str(path))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring unreadable run lease %s: %s", path, exc)
            continue
        if lease.host == host and process_identity(lease.pid) != lease.identity:
            found.append(lease)
    return found


def reap_stale_runs(cfg: PipelineConfig) -> list[Lease]:
    """Mark the MLflow run of every dead process's lease KILLED (with a tag saying why), remove the leases, return them.

    Two flows starting at once may both find a lease: removing the file is the claim, so each is reaped once.
    """
    from rubricate.tracking import mark_run_killed

    reaped = []
    for lease in stale_leases(cfg):
        try:
            Path(lease.path).unlink()
        except FileNotFoundError:
            continue  # another run claimed it
        if lease.mlflow_run_id and lease.tracking_uri:
            mark_run_killed(lease.tracking_uri, lease.mlflow_run_id, killed_reason(lease))
        reaped.append(lease)
    return reaped


def killed_reason(lease: Lease) -> str:
    return (f"process ended without finishing the run (killed or crashed): {lease.describe()} is gone; "
            f"found by PID {os.getpid()} at {datetime.now(timezone.utc).isoformat(timespec='seconds')}")
