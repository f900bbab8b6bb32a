"""Helpers every test folder shares (fixtures live in conftest.py): ad-hoc SQL on a store, JSONL files."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rubricate.postgres import LocalPostgres, missing_binaries
from rubricate.processes import free_port
from rubricate.store import Store


def sql_rows(store: Store, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    """All rows of an ad-hoc query (tests only: the code runs named queries from sql/), on a cursor of its own."""
    cur = store.cursor()
    try:
        return cur.execute(sql, params or {}).fetchall()
    finally:
        cur.close()


def sql_records(store: Store, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The same, each row a dict keyed by column name."""
    cur = store.cursor()
    try:
        result = cur.execute(sql, params or {})
        columns = [d[0] for d in result.description]
        return [dict(zip(columns, row)) for row in result.fetchall()]
    finally:
        cur.close()


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """One JSON value per line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def require_postgres() -> None:
    """Skip when initdb/pg_ctl are absent, naming the package; fail instead when RUBRICATE_REQUIRE_POSTGRES is set (CI
    sets it: there a missing PostgreSQL is a failure, not a skip)."""
    missing = missing_binaries()
    if not missing:
        return
    reason = f"PostgreSQL binaries not installed ({', '.join(missing)}): apt-get install postgresql-15"
    if os.environ.get("RUBRICATE_REQUIRE_POSTGRES"):
        pytest.fail(f"{reason} (RUBRICATE_REQUIRE_POSTGRES is set: the PostgreSQL tests must not skip here)")
    pytest.skip(reason)


@contextmanager
def throwaway_postgres(database: str) -> Iterator[tuple[LocalPostgres, str]]:
    """A PostgreSQL server of its own (rubricate.postgres) in a temp folder on a free loopback port, with `database`
    created: (server, its postgresql+asyncpg URL). Stopped and removed at the end."""
    require_postgres()
    # Not pytest's tmp_path: its parents are private to root, and under root PostgreSQL runs as another user.
    root = Path(tempfile.mkdtemp(prefix="rubricate-pg-"))
    root.chmod(0o711)
    pg = LocalPostgres(root / "postgres", port=free_port(), database=database)
    try:
        yield pg, pg.start()
    finally:
        try:
            pg.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
