"""Where the SQL lives and how a statement is found by name.

The repository keeps it at the top level: ``sql/migrations/NNN_*.sql`` (numbered, idempotent) and
``sql/queries/<stage>/<name>.sql`` (one statement each, bound parameters only). Code names a query by
``"<stage>/<name>"``. A wheel carries a copy as the package data ``rubricate/sql`` (setup.py), so an
installed rubricate needs no checkout; a checkout or an editable install reads ``sql/`` itself.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from rubricate.errors import StoreError

_CHECKOUT_SQL = Path(__file__).resolve().parents[3] / "sql"  # src/rubricate/store/ -> the repository root


@cache
def sql_root() -> Traversable:
    """The folder holding migrations/ and queries/: the installed package's copy, else the checkout's sql/."""
    packaged = resources.files("rubricate") / "sql"
    if packaged.is_dir():
        return packaged
    if _CHECKOUT_SQL.is_dir():
        return _CHECKOUT_SQL
    raise StoreError(
        f"rubricate's SQL is missing: neither the package folder {packaged} nor the checkout folder {_CHECKOUT_SQL} "
        "exists. Reinstall rubricate (`pip install .` copies sql/ into the package) or restore sql/ in the checkout."
    )


@cache
def load_sql(name: str) -> str:
    """Text of ``sql/queries/<name>.sql``, where name is ``"<stage>/<query>"``."""
    stage, _, query = name.partition("/")
    path = sql_root() / "queries" / stage / f"{query}.sql"
    if not path.is_file():
        raise StoreError(f"no SQL file sql/queries/{name}.sql; add it or fix the name (names are '<stage>/<query>')")
    return path.read_text(encoding="utf-8")


def query_names() -> list[str]:
    """Every query's name, ``"<stage>/<query>"``, sorted."""
    root = sql_root() / "queries"
    return sorted(f"{stage.name}/{q.name.removesuffix('.sql')}"
                  for stage in root.iterdir() if stage.is_dir()
                  for q in stage.iterdir() if q.name.endswith(".sql"))


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in order of their numeric prefix."""
    entries = [p for p in (sql_root() / "migrations").iterdir() if p.name.endswith(".sql")]
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in sorted(entries, key=lambda p: p.name)]
