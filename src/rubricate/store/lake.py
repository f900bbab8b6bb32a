"""The store as a DuckLake lake: the catalog in a database (PostgreSQL for many machines, a local DuckDB or SQLite
file for one), the data as Parquet files under a folder every machine sees.

What differs from the single DuckDB file, and why (the README's "Running on more than one machine" says it to users):

- DuckLake has no PRIMARY KEY or UNIQUE constraints. The migrations are the same files; `lake_ddl` drops their key
  clauses when they run on a lake. Every keyed write is a MERGE (an anti-join insert, or an upsert) that works on
  both stores, so a re-run adds nothing on either.
- Commits are optimistic: two writers that touch the same table may conflict at COMMIT; the loser retries the whole
  transaction (`Store.write`, bounded by `commit_retries`).
- Two transactions that only *append* to a table never conflict in DuckLake, so two writers could both insert the
  same content-hash id. Every write to a table therefore also bumps that table's one-row guard table
  (`lake_writes_<table>`): two writes to the same table then always conflict, the loser retries on a snapshot
  that holds the winner's rows, and its MERGE skips them. Writes to different tables do not wait on each other.

The extensions come from PyPI packages (duckdb-extension-ducklake, -postgres-scanner, -sqlite-scanner) built for one DuckDB
version; DuckDB cannot download them on these machines, so they are loaded from the package's file.
"""

from __future__ import annotations

import importlib.util
import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

from rubricate.errors import StoreError

T = TypeVar("T")

# DuckDB extension -> the PyPI package that ships it (extensions/v<duckdb version>/<name>.duckdb_extension).
EXTENSION_PACKAGES = {
    "ducklake": "duckdb-extension-ducklake",
    # Not duckdb-extension-postgres: the same binary, but named postgres.duckdb_extension, and DuckDB looks for the
    # entry point the file name implies (postgres_duckdb_cpp_init), which that build does not have.
    "postgres_scanner": "duckdb-extension-postgres-scanner",
    "sqlite_scanner": "duckdb-extension-sqlite-scanner",
}
ALIAS = "lake"  # the name the lake is attached as; queries use unqualified table names after `USE lake`
GUARD_PREFIX = "lake_writes_"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def extension_file(name: str) -> Path:
    """The extension's file from its PyPI package, for the DuckDB version installed; StoreError naming the fix if absent."""
    package = EXTENSION_PACKAGES[name]
    spec = importlib.util.find_spec(package.replace("-", "_"))
    version = duckdb.__version__
    install = f"pip install {package}=={version} (`make install` installs it)"
    if spec is None or spec.origin is None:
        raise StoreError(f"store.kind ducklake needs the DuckDB extension '{name}', which is not installed: {install}")
    path = Path(spec.origin).parent / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        built = sorted(p.name for p in (Path(spec.origin).parent / "extensions").glob("v*"))
        raise StoreError(f"{package} has no build for DuckDB {version} (it has {', '.join(built) or 'none'}): {install}")
    return path


@dataclass(frozen=True)
class Lake:
    """Where a lake lives. catalog: `postgres:<libpq connection string or postgresql:// URL>`, `sqlite:<file>`, or the
    path of a DuckDB catalog file (one process at a time). data_path: a folder every writer sees (or an object-store URL)."""

    catalog: str
    data_path: str
    commit_retries: int = 10

    @property
    def catalog_kind(self) -> str:
        if self.catalog.startswith(("postgres:", "postgresql:", "postgresql+")):
            return "postgres"
        if self.catalog.startswith("sqlite:"):
            return "sqlite"
        return "duckdb"

    def catalog_target(self) -> str:
        """What follows `ducklake:` in ATTACH."""
        kind = self.catalog_kind
        if kind == "postgres":
            # A URL (postgresql://user@host:port/db) is a libpq connection string too; `postgres:` + it is what DuckLake
            # takes. The URL Prefect is given (postgresql+asyncpg://...) names a driver libpq does not know: dropped.
            url = re.sub(r"^postgresql\+\w+://", "postgresql://", self.catalog)
            return "postgres:" + (url if url.startswith("postgresql://") else url.partition(":")[2])
        if kind == "sqlite":
            return "sqlite:" + str(Path(self.catalog.partition(":")[2]).resolve())
        return str(Path(self.catalog).resolve())

    def describe(self) -> str:
        """For messages: the catalog (a PostgreSQL password, if any, is not shown) and the data path."""
        shown = re.sub(r"(password=)\S+|(://[^:/@]+:)[^@]+@", lambda m: (m[1] or m[2]) + "***" + ("" if m[1] else "@"), self.catalog_target())
        return f"ducklake:{shown} (data {self.data_path})"

    def key(self) -> str:
        return f"ducklake:{self.catalog_target()}|{self.data_path}"

    def _local_data_path(self) -> Path | None:
        return None if re.match(r"^[a-z][a-z0-9+]*://", self.data_path) else Path(self.data_path).resolve()

    def check_paths(self) -> None:
        """Create the local catalog file's folder and the data folder; a clear error when the data path is not writable."""
        if self.catalog_kind != "postgres":
            Path(self.catalog_target().removeprefix("sqlite:")).parent.mkdir(parents=True, exist_ok=True)
        data = self._local_data_path()
        if data is None:
            # DuckLake can write to object storage through DuckDB's httpfs extension (duckdb-extension-httpfs) with
            # credentials as DuckDB secrets; rubricate does not set that up, and no bucket is reachable here to test it.
            raise StoreError(f"store.data_path {self.data_path!r} is an object-store URL, which rubricate does not set up yet "
                             "(the httpfs extension and credentials): use a folder every worker mounts (NFS, a shared disk)")
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"the lake's data path {data} cannot be created ({exc}): point store.data_path at a folder every worker can write") from exc
        if not os.access(data, os.W_OK | os.X_OK):
            raise StoreError(f"the lake's data path {data} is not writable by this process (uid {os.getuid()}): "
                             "fix its permissions or point store.data_path at a folder every worker can write")

    def attach(self, con: duckdb.DuckDBPyConnection, *, read_only: bool) -> None:
        """Load the extensions and attach the lake as `lake`; StoreError naming cause and fix when that fails."""
        self.check_paths()
        needed = ["ducklake"] + {"postgres": ["postgres_scanner"], "sqlite": ["sqlite_scanner"]}.get(self.catalog_kind, [])
        for name in needed:
            con.execute(f"LOAD {_literal(str(extension_file(name)))}")
        data = str(self._local_data_path() or self.data_path).rstrip("/") + "/"
        # ATTACH takes no bound parameters: the two strings go in as quoted literals.
        options = f"DATA_PATH {_literal(data)}" + (", READ_ONLY" if read_only else "")
        attach = f"ATTACH {_literal('ducklake:' + self.catalog_target())} AS {ALIAS} ({options})"
        # A fresh catalog is initialised by the first ATTACH: two processes doing that at once may collide (a conflict,
        # or PostgreSQL's "relation ducklake_metadata already exists" for the one that lost); try again.
        for attempt in range(5):
            try:
                con.execute(attach)
                break
            except duckdb.Error as exc:
                lost_init = "failed to initialize ducklake" in str(exc).lower() and "already exists" in str(exc).lower()
                if attempt < 4 and (is_conflict(exc) or lost_init):
                    time.sleep(0.2 * (attempt + 1))
                    continue
                hint = {
                    "postgres": "Is PostgreSQL running and reachable at that host and port, does the database exist, may that user connect? "
                                "A password goes in PGPASSWORD, not the config. (`python -m rubricate.postgres start --database lake` "
                                "starts a local one.)",
                    "sqlite": "Is the catalog file's folder writable?",
                    "duckdb": "A DuckDB catalog file is for one process at a time: for several writers use a PostgreSQL or SQLite catalog.",
                }[self.catalog_kind]
                raise StoreError(f"cannot attach the lake {self.describe()}: {exc}. {hint}") from exc
        con.execute(f"USE {ALIAS}")
        # The lake is attached to an in-memory DuckDB, whose spill folder would be `.tmp` in whatever the working
        # directory is; one of this process's own under the system's temp folder instead (DuckDB removes its files).
        spill = Path(tempfile.gettempdir()) / f"rubricate-duckdb-spill-{os.getpid()}"
        con.execute(f"SET temp_directory = {_literal(str(spill))}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lake_ddl(sql: str) -> str:
    """A migration as DuckLake takes it: the same statements without PRIMARY KEY clauses (DuckLake has no constraints).

    Inline `col TYPE PRIMARY KEY` and table constraints `PRIMARY KEY (a, b)` are removed; the MERGE statements in
    sql/queries keep the keys unique instead (with the write guard against concurrent writers)."""
    without_table_keys = re.sub(r",\s*PRIMARY\s+KEY\s*\([^)]*\)", "", sql, flags=re.IGNORECASE)
    return re.sub(r"\s+PRIMARY\s+KEY\b", " NOT NULL", without_table_keys, flags=re.IGNORECASE)


_WRITE = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|MERGE\s+INTO|DELETE\s+FROM|UPDATE)\s+\"?(?P<table>\w+)\"?", re.IGNORECASE)


def write_target(sql: str) -> str | None:
    """The table a DML statement writes (comments before it skipped), or None for a query."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    match = _WRITE.match(body)
    return match["table"].lower() if match else None


def guard_table(table: str) -> str:
    if not _IDENT.match(table):
        raise StoreError(f"unexpected table name {table!r} in a write statement (sql/queries names tables in lower case)")
    return f"{GUARD_PREFIX}{table}"


def is_conflict(exc: BaseException) -> bool:
    """A commit another writer won (DuckLake's optimistic concurrency), a busy catalog, or DuckDB's own write-write conflict."""
    if not isinstance(exc, duckdb.Error):
        return False
    text = str(exc).lower()
    return isinstance(exc, duckdb.TransactionException) or any(
        m in text for m in ("transaction conflict", "conflict on", "database is locked", "could not serialize", "duplicate key value")
    )


def retry_conflicts(work: Callable[[], T], *, retries: int, where: str, on_retry: Callable[[str], None] | None = None) -> T:
    """Run `work` (one whole transaction) again when its commit conflicts, up to `retries` times, backing off with jitter
    so that two writers do not collide again in lockstep; then a StoreError naming the cause."""
    for attempt in range(retries + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_conflict(exc):
                raise
            if attempt == retries:
                raise StoreError(
                    f"{where}: the commit conflicted with other writers {retries + 1} times in a row (last: {str(exc).strip()[:300]}). "
                    "Another process keeps writing the same table; raise store.commit_retries, or write in smaller batches."
                ) from exc
            if on_retry is not None:
                on_retry(f"{where}: commit conflict ({str(exc).strip().splitlines()[-1][:200]}); retry {attempt + 1} of {retries}")
            time.sleep(min(0.05 * 2**attempt, 2.0) * (0.5 + random.random()))
    raise AssertionError("unreachable")
