"""Small helpers the ingest tests share."""

from __future__ import annotations


def table(store, sql: str) -> list[tuple]:
    """All rows of `sql` on the store (a cursor of its own, closed after)."""
    cur = store.cursor()
    try:
        return cur.execute(sql).fetchall()
    finally:
        cur.close()
