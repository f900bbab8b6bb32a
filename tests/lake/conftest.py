"""The store's targets for the lake tests: the DuckDB file (the default), and DuckLake lakes whose catalog is a local
SQLite file, a local DuckDB file, or a real PostgreSQL server started for the session (rubricate.postgres, in a temp
folder on a free loopback port; stopped at the end). Each test gets a fresh database or catalog file.

The PostgreSQL-backed tests skip only when initdb/pg_ctl are absent, and not even then when RUBRICATE_REQUIRE_POSTGRES
is set (CI sets it: there a missing PostgreSQL is a failure, not a skip).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rubricate.postgres import SUPERUSER, LocalPostgres
from rubricate.store.lake import Lake
from tests.helpers import throwaway_postgres

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    with throwaway_postgres("postgres") as (pg, _):
        yield pg


def postgres_catalog(server: LocalPostgres, *, url: bool = False) -> str:
    """A new, empty database on the session's server, as a DuckLake catalog: a libpq key=value string, or (url) the
    URL `make lake-pg` and `make ui-prefect-pg` print (postgresql+asyncpg://...), which the store takes as well."""
    name = f"lake_{os.getpid()}_{next(_numbers)}"
    db = LocalPostgres(server.folder, port=server.port, database=name)
    db.create_database()
    return db.url if url else f"postgres:host=127.0.0.1 port={server.port} user={SUPERUSER} dbname={name}"


@pytest.fixture
def pg_lake(postgres_server: LocalPostgres, tmp_path: Path) -> Lake:
    return Lake(postgres_catalog(postgres_server), str(tmp_path / "lake-data"))


@pytest.fixture(params=["file", "lake-sqlite", "lake-duckdb", "lake-postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | Lake:
    """Every kind of store the same test must hold on."""
    kind = request.param
    if kind == "file":
        return tmp_path / "store.duckdb"
    if kind == "lake-sqlite":
        return Lake(f"sqlite:{tmp_path / 'catalog.sqlite'}", str(tmp_path / "lake-data"))
    if kind == "lake-duckdb":
        return Lake(str(tmp_path / "catalog.ducklake"), str(tmp_path / "lake-data"))
    return Lake(postgres_catalog(request.getfixturevalue("postgres_server"), url=True), str(tmp_path / "lake-data"))
