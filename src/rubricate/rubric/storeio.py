"""Two store patterns rubric mining needs beyond `Store`: a query over an incoming frame, returning a frame,
and several statements in one transaction. Both run named statements from sql/queries with bound parameters.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import duckdb
import polars as pl

from rubricate.store.db import Store, load_sql


def frame_with(store: Store, name: str, incoming: pl.DataFrame, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run the named query with `incoming` visible as the view `incoming`; return its result as a frame."""
    cur = store.cursor()
    try:
        cur.register("incoming", incoming.to_arrow())
        result = cur.sql(load_sql(name), params=params or {}).pl()
        cur.unregister("incoming")
        return result
    finally:
        cur.close()


class Transaction:
    """Named statements on one cursor inside BEGIN ... COMMIT (ROLLBACK when the body raises)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self._cur = cur

    def execute(self, name: str, params: dict[str, Any] | None = None) -> None:
        self._cur.execute(load_sql(name), params or {})

    def insert_frame(self, name: str, frame: pl.DataFrame, params: dict[str, Any] | None = None) -> None:
        if frame.is_empty():
            return
        self._cur.register("incoming", frame.to_arrow())
        try:
            self._cur.execute(load_sql(name), params or {})
        finally:
            self._cur.unregister("incoming")


@contextmanager
def transaction(store: Store) -> Iterator[Transaction]:
    """All or nothing: a version is never half-written."""
    cur = store.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield Transaction(cur)
    except BaseException:
        cur.execute("ROLLBACK")
        cur.close()
        raise
    cur.execute("COMMIT")
    cur.close()
