"""Item ids across versions: kept, split, merged, added, retired, decided by centroid similarity."""

from __future__ import annotations

import numpy as np

from rubricate.rubric.lineage import match_items


def unit(*v: float) -> np.ndarray:
    a = np.array(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def new_id(i: int) -> str:
    return f"new-{i}"


def changes_by_kind(changes) -> dict[str, list[tuple[str, list[str]]]]:
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for c in changes:
        out.setdefault(c.change, []).append((c.item_id, c.related))
    return out


def test_first_version_adds_every_item():
    ids, changes = match_items([], np.zeros((0, 3)), np.stack([unit(1, 0, 0), unit(0, 1, 0)]), 0.8, new_id)
    assert ids == ["new-0", "new-1"]
    assert changes_by_kind(changes) == {"added": [("new-0", []), ("new-1", [])]}


def test_matching_clusters_keep_their_ids_in_any_order():
    prev = np.stack([unit(1, 0, 0), unit(0, 1, 0)])
    new = np.stack([unit(0.05, 1, 0), unit(1, 0.05, 0)])  # same items, order swapped, slightly moved
    ids, changes = match_items(["a", "b"], prev, new, 0.8, new_id)
    assert ids == ["b", "a"]
    assert sorted(c.item_id for c in changes if c.change == "kept") == ["a", "b"]


def test_split_merge_add_retire():
    prev = np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0), unit(0, 0.9, 0.44, 0), unit(0, 0, 0, 1)])
    prev_ids = ["a", "b", "b2", "gone"]
    new = np.stack([
        unit(1, 0.15, 0, 0),   # a, closest
        unit(1, -0.3, 0, 0),   # also a: split from a
        unit(0, 1, 0.2, 0),    # b; b2 also prefers it -> b2 merged into b
        unit(0, 0, 1, -1),     # nothing similar: added
    ])
    ids, changes = match_items(prev_ids, prev, new, 0.8, new_id)
    kinds = changes_by_kind(changes)
    assert ids == ["a", "new-1", "b", "new-3"]
    assert kinds["kept"] == [("a", ["a"]), ("b", ["b"])]
    assert kinds["split"] == [("new-1", ["a"])]
    assert kinds["merged"] == [("b", ["b2"])]
    assert kinds["added"] == [("new-3", [])]
    assert kinds["retired"] == [("gone", [])]


def test_everything_retired_when_the_new_build_is_empty():
    ids, changes = match_items(["a"], np.stack([unit(1, 0)]), np.zeros((0, 2), dtype=np.float32), 0.8, new_id)
    assert ids == [] and changes_by_kind(changes) == {"retired": [("a", [])]}
