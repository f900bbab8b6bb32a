"""Run a named query, optionally against a frame registered as the view `incoming`, into Polars.

(DuckDB 2.0: a cursor's `execute` result has no `.pl()`; a relation from `sql` has.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from rubricate.store.db import load_sql

if TYPE_CHECKING:
    from rubricate.store import Store


def query_frame(store: "Store", name: str, params: dict[str, Any] | None = None, incoming: pl.DataFrame | None = None) -> pl.DataFrame:
    cur = store.cursor()
    try:
        if incoming is not None:
            cur.register("incoming", incoming.to_arrow())
        frame = cur.sql(load_sql(name), params=params or {}).pl()
        if incoming is not None:
            cur.unregister("incoming")
        assert isinstance(frame, pl.DataFrame)
        return frame
    finally:
        cur.close()
