"""The DuckDB store: one embedded file, numbered idempotent migrations, one SQL statement per file.

SQL lives in ``rubricate/sql/queries/<name>.sql`` and is called by name with bound parameters only
(``$name`` placeholders and a dict). Frames go in through Arrow: ``insert_frame`` registers the frame
as the view ``incoming`` for the statement's duration.

DuckDB 2.0 notes (see ../shared/STACK.md): results are always fully fetched (``fetchall``) and every
call uses its own cursor, so threads (Prefect's task runner) can share one Store.
"""

from __future__ import annotations

import atexit
import threading
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

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


class Store:
    """A migrated DuckDB database. Safe to share between threads of one process."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:  # typically: another process holds the write lock
            raise StoreError(
                f"cannot open the store {self.path}: {exc}. Another process (a running flow, a notebook) may hold it; "
                "close it or point `store.path` at another file."
            ) from exc
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


def open_store(path: str | Path) -> Store:
    """The process-wide Store for `path`: DuckDB allows one writer process, so tasks of one flow share it."""
    key = str(Path(path).resolve())
    with _OPEN_LOCK:
        store = _OPEN.get(key)
        if store is None:
            store = _OPEN[key] = Store(key)
        return store


def close_all() -> None:
    """Close every store opened through `open_store` (tests, end of a CLI command)."""
    with _OPEN_LOCK:
        for store in _OPEN.values():
            store.close()
        _OPEN.clear()


# Close cleanly at exit: DuckDB checkpoints its WAL, and its bindings do not report leaks.
atexit.register(close_all)
