"""The rubric as every stage sees it: a versioned two-level taxonomy of error types a judge can check.

This is the contract between rubric mining (which builds and stores versions) and the judge and the
online reward (which load them from DuckDB or from an exported JSON file).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class RubricItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str  # stable across versions: a refresh maps new clusters onto previous items
    name: str  # short name, e.g. "Ignores a stated constraint"
    keyword: str  # one or two words, e.g. "constraint"
    description: str  # at most 25 words: what the mistake is
    how_to_check: str  # how a judge verifies it in a trace
    category: str  # the coarser level it belongs to
    examples: list[str] = Field(default_factory=list)  # a few real error descriptions of this item
    size: int = 0  # member descriptions in the build
    centroid: list[float] | None = None  # mean embedding of members (normalised), for offline judging and mapping


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version_id: str
    domain: str | None = None
    embedder: str | None = None  # the embedding model the centroids come from
    items: list[RubricItem]
    status: str = "complete"  # complete | partial | empty

    def item(self, item_id: str) -> RubricItem | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    @property
    def item_ids(self) -> set[str]:
        return {i.item_id for i in self.items}

    def to_json(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return p

    @classmethod
    def from_json(cls, path: str | Path) -> "Rubric":
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
