"""Stage 5 storage: rubric versions in DuckDB, and loading one as the `Rubric` contract.

A version is written in one transaction (version row, items, members, changes), so it is never
half-written. `load_rubric(store)` gives the judge and the rewards the newest version that has items;
`export_rubric` writes it as JSON (the Rubric model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from rubricate.errors import RubricateError
from rubricate.rubric.lineage import Change
from rubricate.rubric.model import Rubric, RubricItem
from rubricate.store.db import Statements, Store

ITEM_SCHEMA: dict[str, Any] = {
    "version_id": pl.Utf8,
    "item_id": pl.Utf8,
    "name": pl.Utf8,
    "keyword": pl.Utf8,
    "description": pl.Utf8,
    "how_to_check": pl.Utf8,
    "category": pl.Utf8,
    "examples": pl.Utf8,
    "size": pl.Int32,
    "centroid": pl.List(pl.Float32),
    "named_by": pl.Utf8,
    "position": pl.Int32,
}
MEMBER_SCHEMA: dict[str, Any] = {
    "version_id": pl.Utf8,
    "trace_id": pl.Utf8,
    "item_id": pl.Utf8,
    "assigned_by": pl.Utf8,
    "similarity": pl.Float64,
    "x": pl.Float64,
    "y": pl.Float64,
}
CHANGE_SCHEMA: dict[str, Any] = {
    "version_id": pl.Utf8,
    "change": pl.Utf8,
    "item_id": pl.Utf8,
    "related": pl.List(pl.Utf8),
    "similarity": pl.Float64,
}


class RubricNotFound(RubricateError):
    """No rubric version matches what was asked for."""


@dataclass
class VersionRecord:
    """Everything one version stores; built by build.py, written by `write_version`."""

    row: dict[str, Any]  # the rubric_versions row
    items: list[dict[str, Any]]
    members: list[dict[str, Any]]
    changes: list[Change]


def write_version(store: Store, record: VersionRecord) -> None:
    vid = record.row["version_id"]
    items = pl.DataFrame(record.items, schema=ITEM_SCHEMA) if record.items else pl.DataFrame(schema=ITEM_SCHEMA)
    members = pl.DataFrame(record.members, schema=MEMBER_SCHEMA) if record.members else pl.DataFrame(schema=MEMBER_SCHEMA)
    changes = pl.DataFrame(
        [{"version_id": vid, "change": c.change, "item_id": c.item_id, "related": c.related, "similarity": c.similarity} for c in record.changes],
        schema=CHANGE_SCHEMA,
    )

    def write(tx: Statements) -> None:  # all or nothing; on a lake run again if another writer's commit wins
        tx.execute("rubric/insert_version", record.row)
        tx.insert_frame("rubric/insert_items", items)
        tx.insert_frame("rubric/insert_members", members)
        tx.insert_frame("rubric/insert_changes", changes)

    store.write(write, what=f"storing rubric version {vid}")


def _one(store: Store, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
    rows = store.frame(name, params).to_dicts()
    return rows[0] if rows else None


def latest_version(store: Store, rubric_name: str, *, with_items: bool = False) -> dict[str, Any] | None:
    return _one(store, "rubric/latest_version", {"rubric_name": rubric_name, "with_items": with_items})


def rubric_names(store: Store) -> list[str]:
    """The rubrics (one lineage each: a dataset or domain scope, or an explicit `rubric.name`) that have items."""
    return [r["rubric_name"] for r in store.frame("rubric/names_with_items", {}).to_dicts()]


def version_row(store: Store, version_id: str) -> dict[str, Any] | None:
    return _one(store, "rubric/version_by_id", {"version_id": version_id})


def version_items(store: Store, version_id: str) -> pl.DataFrame:
    return store.frame("rubric/items_of_version", {"version_id": version_id})


def item_centroids(items: pl.DataFrame) -> np.ndarray:
    if items.is_empty():
        return np.zeros((0, 0), dtype=np.float32)
    return np.array(items["centroid"].to_list(), dtype=np.float32)


def resolve_version(store: Store, version: str = "latest", name: str | None = None) -> dict[str, Any]:
    """The version row `version` names: an id, or 'latest' (the newest with items, of `name` or of any rubric)."""
    if version != "latest":
        row = version_row(store, version)
        if row is None:
            raise RubricNotFound(f"no rubric version '{version}' in {store.path}; list versions with the rubric report or use 'latest'")
        return row
    row = latest_version(store, name, with_items=True) if name else _one(store, "rubric/latest_version_any", {})
    if row is None:
        scope = f"rubric '{name}'" if name else "any rubric"
        raise RubricNotFound(
            f"{scope} has no version with items in {store.path}; run the rubric_refresh flow "
            "(python -m flows.rubric_refresh --config ...) after ingesting wrong traces"
        )
    return row


def load_rubric(store: Store, version: str = "latest", name: str | None = None) -> Rubric:
    """A stored version as the Rubric contract the judge and the rewards use."""
    row = resolve_version(store, version, name)
    items = version_items(store, row["version_id"])
    return Rubric(
        version_id=row["version_id"],
        domain=row["domain"],
        embedder=row["embedder"],
        status=row["status"],
        items=[
            RubricItem(
                item_id=r["item_id"],
                name=r["name"],
                keyword=r["keyword"],
                description=r["description"],
                how_to_check=r["how_to_check"],
                category=r["category"],
                examples=json.loads(r["examples"]) if isinstance(r["examples"], str) else list(r["examples"] or []),
                size=int(r["size"]),
                centroid=[float(v) for v in r["centroid"]],
            )
            for r in items.to_dicts()
        ],
    )


def export_rubric(store: Store, path: str | Path, version: str = "latest", name: str | None = None) -> Path:
    """Write a version as JSON (the Rubric model): what the online reward and other tools load."""
    return load_rubric(store, version, name).to_json(path)
