"""The DuckDB store: one embedded file, numbered idempotent migrations, one SQL statement per file.

SQL lives in ``sql/queries/<stage>/<name>.sql`` (rubricate.store.sqlfiles) and is called by name with bound
parameters only (``$name`` placeholders and a dict). A frame goes in through Arrow: passed as ``incoming``,
it is registered as the view ``incoming`` for the statement's duration.

One API: `Statements` runs named statements on one cursor; the `Store` runs each call on a fresh one, and
`Store.transaction()` / `Store.session()` hand out one cursor for several calls (all or nothing, or a
session setting such as a memory limit).

DuckDB 2.0 notes (see ../shared/STACK.md): results are always fully fetched (``fetchall``) and every
call uses its own cursor, so threads (Prefect's task runner) can share one Store.
"""

from __future__ import annotations

import atexit
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb
import polars as pl

from rubricate.errors import StoreError
from rubricate.store.sqlfiles import load_sql, migration_files

if TYPE_CHECKING:
    import pyarrow as pa

Params = dict[str, Any] | None
# DuckDB's out-of-memory error, for callers that turn it into advice (a memory limit to raise) without importing duckdb.
OutOfMemory = duckdb.OutOfMemoryException
# A frame the statement reads as the view `incoming`; quoted (pyarrow is imported for type checking only).
Incoming: TypeAlias = "pl.DataFrame | pa.Table | None"


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


class Statements:
    """Named statements from sql/queries on one cursor. `incoming`: a frame the statement reads as the view `incoming`."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self._cur = cur

    @contextmanager
    def _incoming(self, frame: Incoming) -> Iterator[None]:
        if frame is None:
            yield
            return
        self._cur.register("incoming", frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame)
        try:
            yield
        finally:
            self._cur.unregister("incoming")

    def sql(self, text: str, params: Params = None) -> list[tuple]:
        """SQL text that is no named query: the migrations and the store's own bookkeeping only."""
        self._cur.execute(text, params or {})
        return self._cur.fetchall() if self._cur.description else []

    def execute(self, name: str, params: Params = None, *, incoming: Incoming = None) -> list[tuple]:
        """Run the statement; all its rows as tuples (empty for DML)."""
        with self._incoming(incoming):
            return self.sql(load_sql(name), params)

    def records(self, name: str, params: Params = None, *, incoming: Incoming = None) -> list[dict[str, Any]]:
        """Its rows as dicts keyed by the query's own column names."""
        with self._incoming(incoming):
            self._cur.execute(load_sql(name), params or {})
            if not self._cur.description:
                return []
            columns = [d[0] for d in self._cur.description]
            return [dict(zip(columns, row, strict=True)) for row in self._cur.fetchall()]

    def scalar(self, name: str, params: Params = None, *, incoming: Incoming = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = self.execute(name, params, incoming=incoming)
        return rows[0][0] if rows else None

    def frame(self, name: str, params: Params = None, *, incoming: Incoming = None) -> pl.DataFrame:
        """The query's result as a Polars frame."""
        with self._incoming(incoming):
            # A relation (not a DB-API result) gives Polars without an extra Arrow copy in DuckDB 2.0.
            result = self._cur.sql(load_sql(name), params=params or {}).pl()
            assert isinstance(result, pl.DataFrame)
            return result

    def insert_frame(self, name: str, frame: pl.DataFrame, params: Params = None) -> int:
        """Run a statement that reads the view `incoming` (the frame); the number of rows it changed."""
        if frame.is_empty():
            return 0
        rows = self.execute(name, params, incoming=frame)
        return int(rows[0][0]) if rows and rows[0] and isinstance(rows[0][0], int) else 0

    def arrow_reader(self, name: str, params: Params = None, batch_size: int = 100_000) -> pa.RecordBatchReader:
        """Stream the result in Arrow batches (bounded memory; `execute(...).to_arrow_reader` would copy it all first).
        The reader lives as long as this cursor does."""
        return self._cur.sql(load_sql(name), params=params or {}).to_arrow_reader(batch_size)


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
        """A raw cursor of its own (for ad-hoc SQL in notebooks and benchmarks; the code uses the methods below)."""
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Statements]:
        """Several statements on one cursor (session settings such as a memory limit hold across them)."""
        cur = self.cursor()
        try:
            yield Statements(cur)
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """Several statements, all or nothing: COMMIT when the block ends, ROLLBACK when it raises."""
        with self.session() as statements:
            statements.sql("BEGIN TRANSACTION")
            try:
                yield statements
            except BaseException:
                statements.sql("ROLLBACK")
                raise
            statements.sql("COMMIT")

    # -- schema --------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their versions."""
        with self.session() as s:
            s.sql("CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
            done = {row[0] for row in s.sql("SELECT version FROM schema_migrations")}
        applied = []
        for version, sql in migration_files():
            if version in done:
                continue
            try:
                with self.transaction() as tx:
                    tx.sql(sql)
                    tx.sql("INSERT INTO schema_migrations VALUES ($v, $t)", {"v": version, "t": utcnow()})
            except duckdb.Error as exc:
                raise StoreError(f"migration {version} failed on {self.path}: {exc}") from exc
            applied.append(version)
        return applied

    # -- one statement each, on a fresh cursor (see Statements) ----------------------------------
    def execute(self, name: str, params: Params = None, *, incoming: Incoming = None) -> list[tuple]:
        with self.session() as s:
            return s.execute(name, params, incoming=incoming)

    def records(self, name: str, params: Params = None, *, incoming: Incoming = None) -> list[dict[str, Any]]:
        with self.session() as s:
            return s.records(name, params, incoming=incoming)

    def scalar(self, name: str, params: Params = None, *, incoming: Incoming = None) -> Any:
        with self.session() as s:
            return s.scalar(name, params, incoming=incoming)

    def frame(self, name: str, params: Params = None, *, incoming: Incoming = None) -> pl.DataFrame:
        with self.session() as s:
            return s.frame(name, params, incoming=incoming)

    def insert_frame(self, name: str, frame: pl.DataFrame, params: Params = None) -> int:
        with self.session() as s:
            return s.insert_frame(name, frame, params)

    def iter_batches(self, name: str, params: Params = None, batch_size: int = 100_000) -> Generator[pl.DataFrame, None, None]:
        """Stream a query's result in Polars batches (bounded memory). A generator: close() ends the session early."""
        with self.session() as s:
            for batch in s.arrow_reader(name, params, batch_size):
                frame = pl.from_arrow(batch)
                assert isinstance(frame, pl.DataFrame)  # a RecordBatch becomes a DataFrame (an Array a Series)
                yield frame

    def table_counts(self, tables: list[str]) -> dict[str, int]:
        with self.session() as s:
            known = {r[0] for r in s.sql("SELECT table_name FROM duckdb_tables()")}
            return {t: int(s.sql(f'SELECT count(*) FROM "{t}"')[0][0]) for t in tables if t in known}


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
