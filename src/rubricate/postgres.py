"""A local PostgreSQL cluster for Prefect's server: initialised once in a folder, started on a loopback port.

Prefect's server keeps its state in SQLite by default, which is right for one user and one worker; several
workers polling and reporting at once want PostgreSQL (`PREFECT_API_DATABASE_CONNECTION_URL=
postgresql+asyncpg://...`). This module runs the PostgreSQL 15 binaries found on the machine (`initdb`,
`pg_ctl`, `postgres`; /usr/lib/postgresql/*/bin is searched too):

    python -m rubricate.postgres start --dir data/postgres --port 5433 --database prefect   # prints the URL
    python -m rubricate.postgres url   --dir data/postgres                                  # the URL again
    python -m rubricate.postgres stop  --dir data/postgres

`make ui-prefect-pg` is that `start`, then `prefect server start` on the printed URL.

The cluster trusts local connections only (listen_addresses 127.0.0.1, no Unix socket, `trust` for the
loopback address): it is a private database behind Prefect's API, not a shared service; workers on other
machines talk to the Prefect API, never to PostgreSQL. `initdb` and `postgres` refuse to run as root: under
root (CI, a container) the cluster is owned by and run as the `postgres` user when there is one, else `nobody`,
through `runuser`; the folder is handed to that user, and every folder above it must let that user through.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rubricate.errors import RubricateError

__all__ = ["PostgresError", "LocalPostgres", "find_binary"]

SUPERUSER = "rubricate"
_STATE = "rubricate-postgres.json"  # port and database of the running cluster, beside its data folder


class PostgresError(RubricateError):
    """The PostgreSQL binaries are missing, or the cluster cannot be initialised or started."""


def find_binary(name: str) -> str | None:
    """`name` (initdb, pg_ctl, postgres) on PATH, else in the newest /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if (folder / name).is_file():
            return str(folder / name)
    return None


def missing_binaries() -> list[str]:
    return [name for name in ("initdb", "pg_ctl", "postgres") if find_binary(name) is None]


def _run_as() -> str | None:
    """The user the cluster runs as when we are root (initdb refuses root), or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresError("running as root, and there is neither a 'postgres' nor a 'nobody' user to run PostgreSQL as (initdb refuses root)")


@dataclass
class LocalPostgres:
    """One cluster in `folder` (its data in folder/data, its log in folder/postgres.log)."""

    folder: Path
    port: int = 5433
    database: str = "prefect"

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).resolve()

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def url(self) -> str:
        """What Prefect's PREFECT_API_DATABASE_CONNECTION_URL takes."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{self.database}"

    # -- commands ----------------------------------------------------------------------------------
    def _cmd(self, name: str, *args: str) -> list[str]:
        binary = find_binary(name)
        if binary is None:
            raise PostgresError(f"PostgreSQL's `{name}` is not installed (looked on PATH and in /usr/lib/postgresql/*/bin); "
                                "install PostgreSQL 15 (apt-get install postgresql-15) or use the SQLite server (make ui-prefect)")
        user = _run_as()
        return (["runuser", "-u", user, "--"] if user else []) + [binary, *args]

    def _run(self, name: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        # Run from a folder the cluster's user may enter: PostgreSQL's tools chdir back to the working directory.
        proc = subprocess.run(self._cmd(name, *args), capture_output=True, text=True, timeout=timeout, cwd=self.folder, stdin=subprocess.DEVNULL)
        return proc

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def init(self) -> bool:
        """Create the cluster once (False when it already exists)."""
        if self.initialised():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user:
            shutil.chown(self.folder, user=user)
            self._check_reachable(user)
        proc = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions")
        if proc.returncode != 0:
            raise PostgresError(f"initdb failed in {self.data} (exit {proc.returncode}):\n{(proc.stderr or proc.stdout).strip()[-2000:]}")
        return True

    def _check_reachable(self, user: str) -> None:
        probe = subprocess.run(["runuser", "-u", user, "--", "test", "-w", str(self.folder)], capture_output=True)
        if probe.returncode != 0:
            raise PostgresError(
                f"PostgreSQL runs as the user '{user}' here (initdb refuses root), and '{user}' cannot write {self.folder}: "
                "a folder above it does not let others through (chmod o+x it), or put the cluster elsewhere (--dir / PG_DIR)"
            )

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def start(self, timeout_s: float = 60.0) -> str:
        """Initialise once, start on 127.0.0.1:`port` (unless running), create the database; returns the URL.

        A cluster already running keeps the port it was started with (read from its state file)."""
        self.init()
        if self.running():
            state = self._read_state()
            if state:
                self.port = int(state["port"])
        else:
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' -c max_connections=200"
            proc = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout_s)), "-o", options, "start",
                             timeout=timeout_s + 30)
            if proc.returncode != 0:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise PostgresError(f"PostgreSQL did not start on 127.0.0.1:{self.port} (exit {proc.returncode}): "
                                    f"{(proc.stderr or proc.stdout).strip()[-1000:]}\n{self.log}:\n{tail}")
            (self.folder / _STATE).write_text(json.dumps({"port": self.port}))
        self.create_database()
        return self.url

    def _read_state(self) -> dict | None:
        try:
            return json.loads((self.folder / _STATE).read_text())
        except (OSError, ValueError):
            return None

    def create_database(self) -> bool:
        """Create `database` unless it exists (True when created). Through asyncpg, the driver Prefect uses."""
        import asyncio

        import asyncpg

        async def create() -> bool:
            deadline = time.monotonic() + 30
            while True:
                try:
                    conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, database="postgres", timeout=10)
                    break
                except (OSError, asyncpg.CannotConnectNowError):  # just started: not accepting connections yet
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
            try:
                if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database):
                    return False
                await conn.execute(f'CREATE DATABASE "{self.database}"')
                return True
            finally:
                await conn.close()

        return asyncio.run(create())

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the cluster (fast shutdown: open sessions are ended). False when it was not running."""
        if not self.running():
            return False
        proc = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(int(timeout_s)), "stop", timeout=timeout_s + 30)
        if proc.returncode != 0:
            raise PostgresError(f"pg_ctl stop failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-1000:]}")
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rubricate.postgres", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "url", "status"])
    parser.add_argument("--dir", required=True, help="the cluster's folder (its data in <dir>/data)")
    parser.add_argument("--port", type=int, default=5433, help="loopback port to start on (default 5433)")
    parser.add_argument("--database", default="prefect", help="database to create (default prefect)")
    args = parser.parse_args(argv)
    pg = LocalPostgres(Path(args.dir), port=args.port, database=args.database)
    try:
        if args.command == "start":
            print(pg.start())
        elif args.command == "stop":
            print("stopped" if pg.stop() else "not running", file=sys.stderr)
        elif args.command == "url":
            state = pg._read_state()
            if state:
                pg.port = int(state["port"])
            print(pg.url)
        else:
            up = pg.running()
            print("running" if up else "not running")
            return 0 if up else 3
    except PostgresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
