"""The DuckDB store: one embedded file, numbered idempotent migrations, one SQL statement per file.

SQL lives in ``rubricate/sql/queries/<name>.sql`` and is called by name with bound parameters only
(``$name`` placeholders and a dict). Frames go in through Arrow: ``insert_frame`` registers the frame
as the view ``incoming`` for the statement's duration.

DuckDB 2.0 notes (see ../shared/STACK.md): results are always fully fetched (``fetchall``) and every
call uses its own cursor, so threads (Prefect's task runner) can share one Store.
"""

from __future__ import annotations

import atexit
import re
import threading
import time
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import polars as pl

from rubricate.errors import StoreError

_SQL_ROOT = resources.files("rubricate") / "sql"


@cache
def load_sql(name: str) -> str:
    """Text of ``sql/queries/<name>.sql``."""
    path = _SQL_ROOT / "queries" / f"{name}.sql"
    if not path.is_file():
        raise StoreError(f"no SQL file queries/{name}.sql in the rubricate package; add it or fix the name")
    return path.read_text(encoding="utf-8")


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in order of their numeric prefix."""
    entries = [p for p in (_SQL_ROOT / "migrations").iterdir() if p.name.endswith(".sql")]
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in sorted(entries, key=lambda p: p.name)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


WaitFn = Callable[[str], None]

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


def lock_holder(message: str) -> str | None:
    """'PID 123 (python -m flows.pipeline --config c.yaml)' from DuckDB's lock error, or None when it is another error."""
    match = _LOCK_HOLDER.search(message)
    if match is None:
        return None
    pid = match["pid"]
    try:  # the command line says which flow or notebook it is; DuckDB only names the executable
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = ""
    return f"PID {pid} ({command or match['exe']})"


def _connect(path: str, read_only: bool, lock_wait_s: float, on_wait: WaitFn | None) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to lock_wait_s while another process holds the file; on_wait hears why, every 30 s."""
    t0 = time.monotonic()
    next_report, pause = 0.0, 0.2
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:  # typically: another process holds the write lock
            holder = lock_holder(str(exc))
            waited = time.monotonic() - t0
            if holder is None or waited >= lock_wait_s:
                held = f"it is held by {holder}" if holder else str(exc)
                waiting = f" after waiting {waited:.0f} s (store.lock_wait_s = {lock_wait_s:g})" if lock_wait_s and holder else ""
                raise StoreError(
                    f"cannot open the store {path}{waiting}: {held}. Another process (a running flow, a notebook) may hold it; "
                    "let it finish or close it, raise `store.lock_wait_s`, or point `store.path` at another file."
                ) from exc
            if on_wait is not None and waited >= next_report:
                on_wait(f"waiting for the store {path}: it is held by {holder}; waited {waited:.0f} s of at most {lock_wait_s:g} s")
                next_report = waited + 30.0
            time.sleep(min(pause, max(lock_wait_s - waited, 0.0)))
            pause = min(pause * 2, 2.0)


class Store:
    """A migrated DuckDB database. Safe to share between threads of one process.

    DuckDB lets one process write a file at a time. With `lock_wait_s` > 0, opening a store that another
    process holds waits for it (polling, bounded) instead of failing, so a scheduled flow and a manual run
    queue rather than collide; `on_wait` is told who holds it and for how long it has waited.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, lock_wait_s: float = 0.0, on_wait: WaitFn | None = None) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = _connect(self.path, read_only, lock_wait_s, on_wait)
        self._lock = threading.Lock()
        if not read_only:
            self.migrate()

    # -- connection handling -------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their versions."""
        cur = self.cursor()
        try:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
            )
            done = {row[0] for row in cur.execute("SELECT version FROM schema_migrations").fetchall()}
            applied = []
            for version, sql in migration_files():
                if version in done:
                    continue
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute(sql)
                    cur.execute("INSERT INTO schema_migrations VALUES ($v, $t)", {"v": version, "t": utcnow()})
                    cur.execute("COMMIT")
                except Exception as exc:
                    cur.execute("ROLLBACK")
                    raise StoreError(f"migration {version} failed on {self.path}: {exc}") from exc
                applied.append(version)
            return applied
        finally:
            cur.close()

    # -- statements ----------------------------------------------------------------------------
    def execute(self, name: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """Run the named statement with bound parameters; returns all rows (empty for DML)."""
        cur = self.cursor()
        try:
            cur.execute(load_sql(name), params or {})
            return cur.fetchall() if cur.description else []
        finally:
            cur.close()

    def frame(self, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run the named query and return a Polars frame."""
        cur = self.cursor()
        try:
            # A relation (not a DB-API result) gives Polars without an extra Arrow copy in DuckDB 2.0.
            return cur.sql(load_sql(name), params=params or {}).pl()
        finally:
            cur.close()

    def scalar(self, name: str, params: dict[str, Any] | None = None) -> Any:
        rows = self.execute(name, params)
        return rows[0][0] if rows else None

    def insert_frame(self, name: str, frame: pl.DataFrame, params: dict[str, Any] | None = None) -> int:
        """Run a statement that reads the view ``incoming`` (the frame); returns the number of rows changed."""
        if frame.is_empty():
            return 0
        cur = self.cursor()
        try:
            cur.register("incoming", frame.to_arrow())
            rows = cur.execute(load_sql(name), params or {}).fetchall()
            cur.unregister("incoming")
            return int(rows[0][0]) if rows and rows[0] and isinstance(rows[0][0], int) else 0
        finally:
            cur.close()

    def iter_batches(self, name: str, params: dict[str, Any] | None = None, batch_size: int = 100_000) -> Iterator[pl.DataFrame]:
        """Stream a query's result in Polars batches (bounded memory)."""
        cur = self.cursor()
        try:
            reader = cur.sql(load_sql(name), params=params or {}).to_arrow_reader(batch_size)
            for batch in reader:
                yield pl.from_arrow(batch)  # type: ignore[misc]
        finally:
            cur.close()

    def table_counts(self, tables: list[str]) -> dict[str, int]:
        cur = self.cursor()
        try:
            known = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            return {t: int(cur.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]) for t in tables if t in known}
        finally:
            cur.close()


_OPEN: dict[str, Store] = {}
_OPEN_LOCK = threading.Lock()


def open_store(path: str | Path, *, lock_wait_s: float = 0.0, on_wait: WaitFn | None = None) -> Store:
    """The process-wide Store for `path`: DuckDB allows one writer process, so tasks of one flow share it.

    lock_wait_s: how long to wait while another process holds the file (see Store).
    """
    key = str(Path(path).resolve())
    with _OPEN_LOCK:
        store = _OPEN.get(key)
        if store is None:
            store = _OPEN[key] = Store(key, lock_wait_s=lock_wait_s, on_wait=on_wait)
        return store


def close_all() -> None:
    """Close every store opened through `open_store` (tests, end of a CLI command)."""
    with _OPEN_LOCK:
        for store in _OPEN.values():
            store.close()
        _OPEN.clear()


# Close cleanly at exit: DuckDB checkpoints its WAL, and its bindings do not report leaks.
atexit.register(close_all)
