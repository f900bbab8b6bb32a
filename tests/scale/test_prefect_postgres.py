"""Prefect's server on PostgreSQL with two workers on one process pool (issue 13, item 2).

Everything is real and local: a PostgreSQL cluster in a temp folder on a free loopback port (rubricate.postgres,
what `make ui-prefect-pg` runs), `prefect server start` on it, a deployment of a tiny flow in a process work pool,
two `prefect worker start` processes polling that pool, and several flow runs triggered at once.

What is asserted: every run completes, and both workers ran some. Each worker is started with `--limit 1` (one
flow run at a time) and polls every second, and each run lasts a few seconds (a flow run's own process takes
about 3 s to start here, plus a 2 s sleep): while one worker is busy with its one run, the next scheduled run
can only go to the other, so "both took runs" does not depend on which worker polls first. A run's flow writes
its parent process id, which is the worker that started it (Prefect's process worker runs each flow run as its
own child process).

Everything started is stopped at the end, also on failure: workers and server (their process groups: SIGINT,
then SIGKILL), then PostgreSQL (pg_ctl stop), then the folder. Skips only when PostgreSQL's binaries are absent, and
fails instead when RUBRICATE_REQUIRE_POSTGRES is set (CI).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from rubricate.processes import free_port, stop_process_group
from tests.helpers import throwaway_postgres

pytestmark = pytest.mark.slow

N_RUNS = 4
PREFECT = str(Path(sys.executable).with_name("prefect"))

TINY_FLOW = textwrap.dedent('''
    import json, os, pathlib, time
    from prefect import flow
    from prefect.runtime import flow_run

    @flow(name="tiny")
    def tiny(out_dir: str, seconds: float = 2.0) -> int:
        time.sleep(seconds)
        pathlib.Path(out_dir, f"{flow_run.get_id()}.json").write_text(json.dumps({"worker_pid": os.getppid()}))
        return os.getppid()
''')

# Deploys the tiny flow, triggers N runs at once, waits until all are final; prints their final states as JSON.
DRIVER = textwrap.dedent('''
    import json, sys, time
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    src, out_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    flow.from_source(source=src, entrypoint="tiny.py:tiny").deploy(name="tiny", work_pool_name="scale", print_next_steps=False)
    ids = [run_deployment("tiny/tiny", parameters={"out_dir": out_dir}, timeout=0).id for _ in range(n)]
    deadline = time.monotonic() + 240
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                break
            time.sleep(1)
    print(json.dumps({str(r.id): r.state.type.value if r.state else None for r in runs}))
''')


def _stop_group(proc: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGINT to the process group (a Prefect worker ignores SIGTERM while it waits on the API), then SIGKILL."""
    if proc.poll() is None:
        stop_process_group(proc, ((signal.SIGINT, grace_s), (signal.SIGKILL, 10.0)))


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prefect server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"prefect server not healthy after {timeout_s:g}s:\n{log.read_text()[-3000:]}")


def test_two_workers_share_runs_on_a_postgres_backed_server():
    procs: list[subprocess.Popen] = []
    with throwaway_postgres("prefect") as (pg, db_url):
        root = pg.folder.parent
        assert db_url.startswith("postgresql+asyncpg://") and pg.running()
        try:
            home, out_dir, src = root / "prefect-home", root / "out", root / "src"
            for d in (home, out_dir, src):
                d.mkdir()
            (src / "tiny.py").write_text(TINY_FLOW)
            port = free_port()
            api = f"http://127.0.0.1:{port}/api"
            env = {
                **os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_API_DATABASE_CONNECTION_URL": db_url, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "0",
            }

            def start(args: list[str], log: Path) -> subprocess.Popen:
                proc = subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=root,
                                        start_new_session=True)
                procs.append(proc)
                return proc

            server_log = root / "server.log"
            server = start([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_log)
            _wait_healthy(api, server, server_log)
            subprocess.run([PREFECT, "work-pool", "create", "scale", "--type", "process"], env=env, check=True, capture_output=True, timeout=120)

            workers = [start([PREFECT, "worker", "start", "--pool", "scale", "--name", f"w{i}", "--limit", "1"], root / f"worker{i}.log") for i in (1, 2)]
            driver = subprocess.run([sys.executable, "-c", DRIVER, str(src), str(out_dir), str(N_RUNS)], env=env, capture_output=True, text=True,
                                    timeout=360)
            logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(root.glob("*.log")))
            assert driver.returncode == 0, f"{driver.stderr[-3000:]}\n{logs}"
            states = json.loads(driver.stdout.strip().splitlines()[-1])
            assert len(states) == N_RUNS
            assert set(states.values()) == {"COMPLETED"}, f"{states}\n{logs}"

            ran_by = {json.loads(p.read_text())["worker_pid"] for p in out_dir.glob("*.json")}
            assert len(list(out_dir.glob("*.json"))) == N_RUNS
            assert ran_by == {w.pid for w in workers}, f"runs by {ran_by}, workers {[w.pid for w in workers]}\n{logs}"
            assert all(w.poll() is None for w in workers)  # both still polling at the end
        finally:
            for proc in reversed(procs):  # workers first, then the server
                _stop_group(proc)
    with socket.socket() as s:  # PostgreSQL is gone: nothing listens on its port
        assert s.connect_ex(("127.0.0.1", pg.port)) != 0
