"""The DuckDB store: one embedded file, numbered idempotent migrations, one SQL statement per file.

SQL lives in ``sql/queries/<stage>/<name>.sql`` (rubricate.store.sqlfiles) and is called by name with bound
parameters only (``$name`` placeholders and a dict). A frame goes in through Arrow: passed as ``incoming``,
it is registered as the view ``incoming`` for the statement's duration.

One API: `Statements` runs named statements on one cursor; the `Store` runs each call on a fresh one, and
`Store.transaction()` / `Store.session()` hand out one cursor for several calls (all or nothing, or a
session setting such as a memory limit).

Two kinds of store behind the same API and the same SQL files: one DuckDB file (the default: one writer process at
a time), or a DuckLake lake (rubricate.store.lake: many writer processes on many machines; what differs is said there).
Several statements that must commit together and may meet another writer go through `Store.write(fn)`, which
runs `fn` again when the commit conflicts.

Results are always fully fetched (``fetchall``) and every call uses its own cursor, so threads (Prefect's task
runner) can share one Store; that is also what DuckDB 2.0 requires (see ../shared/STACK.md).
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
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import duckdb
import polars as pl

from rubricate.errors import StoreError
from rubricate.store.convert import written_by_newer_duckdb
from rubricate.store.lake import ALIAS, GUARD_PREFIX, Lake, guard_table, lake_ddl, retry_conflicts, write_target
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
T = TypeVar("T")

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
            if written_by_newer_duckdb(exc):
                raise StoreError(
                    f"cannot open the store {path}: it was written by a newer DuckDB than this one ({duckdb.__version__}; rubricate "
                    "pins 1.5.5 since the lake's extensions exist for it only). Convert it once, in place (the original is kept as a "
                    f"backup): python -m rubricate.store.convert {path}"
                ) from exc
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

    def __init__(self, cur: duckdb.DuckDBPyConnection, lake: Lake | None = None, on_wait: WaitFn | None = None) -> None:
        self._cur = cur
        self._lake = lake
        self._on_wait = on_wait
        self._in_transaction = False
        self._guarded: set[str] = set()  # tables whose write guard this transaction has bumped (lake only)

    # -- transactions ------------------------------------------------------------------------------
    def begin(self) -> None:
        self.sql("BEGIN TRANSACTION")
        self._in_transaction, self._guarded = True, set()

    def commit(self) -> None:
        self._in_transaction = False
        self.sql("COMMIT")

    def rollback(self) -> None:
        self._in_transaction = False
        try:
            self.sql("ROLLBACK")
        except duckdb.Error:  # a COMMIT that failed has already ended the transaction
            pass

    def _guard(self, table: str) -> None:
        """Lake only: bump `table`'s write guard in this transaction, so that two concurrent writes to the table
        conflict at commit (and one retries) instead of both appending the same keys (see rubricate.store.lake)."""
        if table not in self._guarded:
            self.sql(f'UPDATE "{guard_table(table)}" SET writes = writes + 1')
            self._guarded.add(table)

    def _run(self, name: str, run: Callable[[str], T]) -> T:
        """Run the named statement through `run`; on a lake a write is guarded, and outside a transaction it is its own
        transaction, tried again when its commit conflicts (the frame in `incoming` stays registered meanwhile)."""
        text = load_sql(name)
        table = write_target(text) if self._lake is not None else None
        if table is None or self._lake is None:
            return run(text)
        if self._in_transaction:
            self._guard(table)
            return run(text)

        def once() -> T:
            self.begin()
            try:
                self._guard(table)
                result = run(text)
            except BaseException:
                self.rollback()
                raise
            self.commit()
            return result

        return retry_conflicts(once, retries=self._lake.commit_retries, where=f"writing {table} ({name})", on_retry=self._on_wait)

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
            return self._run(name, lambda text: self.sql(text, params))

    def records(self, name: str, params: Params = None, *, incoming: Incoming = None) -> list[dict[str, Any]]:
        """Its rows as dicts keyed by the query's own column names."""
        def run(text: str) -> list[dict[str, Any]]:
            self._cur.execute(text, params or {})
            if not self._cur.description:
                return []
            columns = [d[0] for d in self._cur.description]
            return [dict(zip(columns, row, strict=True)) for row in self._cur.fetchall()]

        with self._incoming(incoming):
            return self._run(name, run)

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
        """Stream the result in Arrow batches (bounded memory). The reader lives as long as this cursor does.

        Through execute(), not a relation: on DuckDB 1.5.5 `relation.to_arrow_reader` runs the whole query before the
        first batch (1M export rows: 3.3 GB peak and 20 s to the first batch, against 1.2 GB and 4 s this way)."""
        return self._cur.execute(load_sql(name), params or {}).to_arrow_reader(batch_size)


class Store:
    """A migrated store: a DuckDB file (`target` a path) or a DuckLake lake (`target` a Lake). Safe to share between
    threads of one process.

    DuckDB lets one process write a file at a time. With `lock_wait_s` > 0, opening a file that another process
    holds waits for it (polling, bounded) instead of failing, so a scheduled flow and a manual run queue rather than
    collide; `on_wait` is told who holds it and for how long it has waited. A lake has no such lock: many processes
    write it at once, and `on_wait` hears of commits that conflicted and were tried again.
    """

    def __init__(self, target: str | Path | Lake, *, read_only: bool = False, lock_wait_s: float = 0.0, on_wait: WaitFn | None = None) -> None:
        self.lake = target if isinstance(target, Lake) else None
        self._on_wait = on_wait
        if self.lake is not None:
            self.path = self.lake.describe()
            self._con = duckdb.connect(":memory:")  # the lake is attached to an in-memory DuckDB and made the default
            try:
                self.lake.attach(self._con, read_only=read_only)
            except BaseException:
                self._con.close()
                raise
        else:
            self.path = str(target)
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
            cur = self._con.cursor()
        if self.lake is not None:
            cur.execute(f"USE {ALIAS}")  # the default database is per cursor: unqualified names mean the lake's tables
        return cur

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
            yield Statements(cur, self.lake, self._on_wait)
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[Statements]:
        """Several statements, all or nothing: COMMIT when the block ends, ROLLBACK when it raises. On a lake the COMMIT
        may conflict with another writer and raise: use `write`, which runs the block again."""
        with self.session() as statements:
            statements.begin()
            try:
                yield statements
            except BaseException:
                statements.rollback()
                raise
            statements.commit()

    def write(self, work: Callable[[Statements], T], *, what: str = "a transaction") -> T:
        """`work` in one transaction, run again (bounded: the lake's commit_retries, 3 on a file) while its commit
        conflicts with another writer's; `what` names it in the message when it gives up."""

        def once() -> T:
            with self.transaction() as tx:
                return work(tx)

        retries = self.lake.commit_retries if self.lake is not None else 3
        return retry_conflicts(once, retries=retries, where=f"{what} on {self.path}", on_retry=self._on_wait)

    # -- schema --------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their versions. On a lake the same files run without their
        PRIMARY KEY clauses (lake_ddl), and each table gets its write guard. Two processes migrating one lake at once
        conflict at commit; the loser tries again and finds the migration done."""
        ddl = lake_ddl if self.lake is not None else (lambda sql: sql)
        self.write(lambda tx: tx.sql(ddl("CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")),
                   what="creating schema_migrations")
        with self.session() as s:
            done = {row[0] for row in s.sql("SELECT version FROM schema_migrations")}
        applied = []
        for version, sql in migration_files():
            if version in done:
                continue

            def apply(tx: Statements, version: str = version, sql: str = sql) -> bool:
                if tx.sql("SELECT 1 FROM schema_migrations WHERE version = $v", {"v": version}):
                    return False  # another process applied it meanwhile
                tx.sql(ddl(sql))
                tx.sql("INSERT INTO schema_migrations VALUES ($v, $t)", {"v": version, "t": utcnow()})
                return True

            try:
                if self.write(apply, what=f"migration {version}"):
                    applied.append(version)
            except duckdb.Error as exc:
                raise StoreError(f"migration {version} failed on {self.path}: {exc}") from exc
        if self.lake is not None:
            self._create_guards()
        return applied

    def _create_guards(self) -> None:
        """One single-row guard table per table of the lake (see rubricate.store.lake), made once."""
        with self.session() as s:
            tables = {r[0] for r in s.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = $db", {"db": ALIAS})}
        for table in sorted(t for t in tables if not t.startswith(GUARD_PREFIX) and guard_table(t) not in tables):
            guard = guard_table(table)

            def create(tx: Statements, guard: str = guard) -> None:
                tx.sql(f'CREATE TABLE IF NOT EXISTS "{guard}" (writes BIGINT NOT NULL)')
                tx.sql(f'INSERT INTO "{guard}" SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM "{guard}")')

            self.write(create, what=f"creating the write guard of {table}")

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
            known = {r[0] for r in s.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()")}
            return {t: int(s.sql(f'SELECT count(*) FROM "{t}"')[0][0]) for t in tables if t in known}


_OPEN: dict[str, Store] = {}
_OPEN_LOCK = threading.Lock()


def open_store(target: str | Path | Lake, *, lock_wait_s: float = 0.0, on_wait: WaitFn | None = None) -> Store:
    """The process-wide Store for `target` (a DuckDB file's path or a Lake): DuckDB allows one writer process per
    file, so tasks of one flow share it; a lake is attached once per process too.

    lock_wait_s: how long to wait while another process holds the file (see Store).
    """
    key = target.key() if isinstance(target, Lake) else str(Path(target).resolve())
    with _OPEN_LOCK:
        store = _OPEN.get(key)
        if store is None:
            store = _OPEN[key] = Store(target if isinstance(target, Lake) else key, lock_wait_s=lock_wait_s, on_wait=on_wait)
        return store


def close_all() -> None:
    """Close every store opened through `open_store` (tests, end of a CLI command)."""
    with _OPEN_LOCK:
        for store in _OPEN.values():
            store.close()
        _OPEN.clear()


# Close cleanly at exit: DuckDB checkpoints its WAL, and its bindings do not report leaks.
atexit.register(close_all)
