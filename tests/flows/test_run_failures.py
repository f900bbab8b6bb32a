"""Runs that fail or die (issue 10, items 17, 18 and 20), with real processes, real Prefect, DuckDB and MLflow.

A failed flow keeps the counts of the stages that finished; a flow killed with SIGKILL leaves no Prefect
server behind and its runs are marked by the next run; a second flow on a busy store waits for it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO


def _config(tmp_path: Path, n_problems: int = 6) -> tuple[Path, Path]:
    data = tmp_path / "data"
    cfg = {
        "data_dir": str(data),
        "sources": [
            {"name": "first", "reader": "sample", "options": {"n_problems": n_problems, "seed": 1}},
            {"name": "second", "reader": "sample", "options": {"n_problems": n_problems, "seed": 2}},
        ],
        "verify": {"workers": 1, "timeout_s": 5},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, data


@pytest.mark.slow
def test_failed_flow_keeps_the_counts_of_what_finished(prefect_harness, tmp_path: Path, monkeypatch):
    """Item 17: the verify stage crashes after both sources were ingested; the FAILED run still shows their counts."""
    from mlflow.tracking import MlflowClient

    import flows.pipeline as pipeline_module
    from rubricate.config import load_config
    from rubricate.store import close_all

    def crashing_verify(cfg):  # fault injection: the stage after ingest dies
        raise RuntimeError("verify crashed")

    monkeypatch.setattr(pipeline_module, "verify_stage", crashing_verify)
    path, _ = _config(tmp_path)
    cfg = load_config(path)
    with pytest.raises(RuntimeError, match="verify crashed"):
        pipeline_module.pipeline(config_path=str(path))
    close_all()
    client = MlflowClient(tracking_uri=cfg.tracking_uri())
    [run] = client.search_runs([client.get_experiment_by_name(cfg.tracking.experiment).experiment_id])
    assert run.info.status == "FAILED"
    for source in ("first", "second"):
        assert run.data.metrics.get(f"ingest.{source}.n_accepted", 0) > 0, run.data.metrics
        assert run.data.metrics[f"ingest.{source}.n_rejected"] == 0
    assert run.data.tags["error"] == "RuntimeError: verify crashed"


def _env(data: Path) -> dict[str, str]:
    # A user's shell: none of the test harness's Prefect settings, the Makefile's environment otherwise.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "RUBRICATE_"))}
    return env | {"PREFECT_HOME": str(data / "prefect"), "RUBRICATE_DATA_DIR": str(data), "PYTHONPATH": str(REPO),
                  "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                  "MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _start_flow(config: Path, data: Path, log: Path) -> subprocess.Popen:
    (data / "prefect").mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "flows.pipeline", "--config", str(config)], cwd=REPO, env=_env(data),
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None, log: Path | None = None, limit_s: float = 300) -> None:
    """Poll until condition() holds (a hang guard, not a timing claim)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the flow ended (rc {proc.returncode}) before {what}:\n{log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {limit_s} s:\n{log.read_text()[-3000:] if log else ''}")
        time.sleep(0.5)


def _children_serving_prefect(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmd = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"prefect.server.api.server:create_app" in cmd:
            found.append(int(stat.parent.name))
    return found


def _leases(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data / "runs").glob("*.json"))] if (data / "runs").is_dir() else []


@pytest.mark.slow
def test_kill_9_leaves_no_server_and_the_next_run_marks_the_dead_runs(tmp_path: Path):
    """Item 18: kill -9 mid-flow; its temporary Prefect server goes too; the next run marks MLflow KILLED, Prefect Crashed."""
    from mlflow.tracking import MlflowClient

    from rubricate.config import load_config
    from rubricate.processes import process_identity
    from rubricate.store import Store

    config, data = _config(tmp_path, n_problems=3)
    cfg = load_config(config)
    holder = Store(cfg.store_path())  # the flow will wait for the store inside its first task: a run in progress
    log = tmp_path / "killed.log"
    proc = _start_flow(config, data, log)
    try:
        _wait_for(lambda: "waiting for the store" in log.read_text() and any(lease.get("mlflow_run_id") for lease in _leases(data)),
                  "flow waiting inside its run", proc, log)
        [lease] = _leases(data)
        servers = _children_serving_prefect(proc.pid)
        assert servers, "the flow started no temporary Prefect server: nothing to check"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        holder.close()
    _wait_for(lambda: all(process_identity(pid) is None for pid in servers), "end of the orphaned Prefect server", limit_s=60)

    client = MlflowClient(tracking_uri=cfg.tracking_uri())
    assert client.get_run(lease["mlflow_run_id"]).info.status == "RUNNING"  # nothing ended it: the process had no chance

    log2 = tmp_path / "next.log"
    nxt = _start_flow(config, data, log2)
    assert nxt.wait(timeout=600) == 0, log2.read_text()[-3000:]

    killed = client.get_run(lease["mlflow_run_id"])
    assert killed.info.status == "KILLED"
    reason = killed.data.tags["rubricate.end_reason"]
    assert f"PID {proc.pid}" in reason and "killed or crashed" in reason
    with sqlite3.connect(data / "prefect" / "prefect.db") as db:
        rows = db.execute("SELECT id, state_type FROM flow_run").fetchall()
    wanted = lease["prefect_flow_run_id"].replace("-", "")
    states = [state for run_id, state in rows if str(run_id).replace("-", "") == wanted]
    assert states == ["CRASHED"]
    assert _leases(data) == []  # the dead run's lease was claimed, the finished run's removed


@pytest.mark.slow
def test_two_flows_on_one_store_queue_instead_of_failing(tmp_path: Path):
    """Item 20: a second flow (a schedule firing during a manual run) waits for the store and then runs."""
    from mlflow.tracking import MlflowClient

    from rubricate.config import load_config
    from rubricate.store import Store

    config, data = _config(tmp_path, n_problems=3)
    cfg = load_config(config)
    (data / "prefect").mkdir(parents=True)
    holder = Store(cfg.store_path())  # both flows find the store busy, so they overlap for sure
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [_start_flow(config, data, log) for log in logs]
    try:
        for proc, log in zip(procs, logs):
            _wait_for(lambda log=log: "waiting for the store" in log.read_text(), "wait for the store", proc, log)
    finally:
        holder.close()
    for proc, log in zip(procs, logs):
        assert proc.wait(timeout=600) == 0, log.read_text()[-3000:]
    client = MlflowClient(tracking_uri=cfg.tracking_uri())
    runs = client.search_runs([client.get_experiment_by_name(cfg.tracking.experiment).experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"]
    # The store was held by this test, then by one flow: the other one's log names who it waited for.
    assert any(f"held by PID {os.getpid()}" in log.read_text() for log in logs)


_START_SERVER = """
import sys, time
from pathlib import Path
import httpx
from prefect.server.api.server import SubprocessASGIServer
from tasks.common import start_temporary_server
go = Path(sys.argv[1])
while not go.exists():  # every process starts its server at the same moment
    time.sleep(0.01)
start_temporary_server()
print("STATUS", httpx.post(f"{SubprocessASGIServer().api_url}/flows/", json={"name": "x"}).status_code, flush=True)
"""


@pytest.mark.slow
def test_first_runs_on_a_fresh_prefect_home_do_not_race(tmp_path: Path):
    """Three flows starting at once on an empty PREFECT_HOME: Prefect's temporary servers migrated one SQLite file
    together (`no such column: flow_runner_type`, alembic `expected to match one row`); now one starts at a time."""
    data, go = tmp_path / "data", tmp_path / "go"
    (data / "prefect").mkdir(parents=True)
    procs = [subprocess.Popen([sys.executable, "-c", _START_SERVER, str(go)], cwd=REPO, env=_env(data),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    time.sleep(8)  # let each import Prefect and wait at the start line (the race needs them together)
    go.touch()
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(o[-2000:] for o in outs)
    for out in outs:
        assert "Error" not in out and "Traceback" not in out, out[-3000:]
        assert "STATUS 20" in out
