"""Helpers every test folder shares (fixtures live in conftest.py): ad-hoc SQL on a store, JSONL files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
