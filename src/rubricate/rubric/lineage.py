"""Map the clusters of a new build onto the items of the previous version, so item ids persist.

Centroid cosine similarity decides. With `thr` the minimum similarity for a match:
- kept:    a new cluster whose best previous item (>= thr) chose it as its best new cluster keeps that id;
- split:   other new clusters whose best previous item is the same one get new ids, related to it;
- merged:  a kept cluster also absorbs the previous items whose best new cluster it is but that lost their
           own id to nobody (they are recorded as merged into it, not retired);
- added:   a new cluster with no previous item above thr gets a new id;
- retired: a previous item that no new cluster kept or absorbed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from rubricate.ids import content_hash


@dataclass
class Change:
    change: str  # added | kept | merged | split | retired
    item_id: str
    related: list[str] = field(default_factory=list)
    similarity: float | None = None


def new_item_id(rubric_name: str, version_id: str, position: int) -> str:
    return "item-" + content_hash("rubric-item", rubric_name, version_id, position, length=10)


def match_items(
    prev_ids: list[str],
    prev_cents: np.ndarray,
    new_cents: np.ndarray,
    min_similarity: float,
    make_id: Callable[[int], str],
) -> tuple[list[str], list[Change]]:
    """Ids for the new clusters (in order) and the changes against the previous items."""
    k_new, k_prev = new_cents.shape[0], len(prev_ids)
    if k_prev == 0:
        fresh = [make_id(i) for i in range(k_new)]
        return fresh, [Change("added", i) for i in fresh]
    sims = new_cents @ prev_cents.T if k_new else np.zeros((0, k_prev))
    best_prev = [int(np.argmax(sims[i])) if sims[i].max() >= min_similarity else None for i in range(k_new)]
    best_new = [int(np.argmax(sims[:, j])) if k_new and sims[:, j].max() >= min_similarity else None for j in range(k_prev)]

    ids: list[str | None] = [None] * k_new
    changes: list[Change] = []
    kept_prev: set[int] = set()
    # Kept: for each previous item, the closest of the new clusters that chose it.
    for j in range(k_prev):
        suitors = [i for i in range(k_new) if best_prev[i] == j]
        if not suitors:
            continue
        winner = max(suitors, key=lambda i: (sims[i, j], -i))
        ids[winner] = prev_ids[j]
        kept_prev.add(j)
        changes.append(Change("kept", prev_ids[j], [prev_ids[j]], float(sims[winner, j])))
        for i in suitors:
            if i != winner:
                ids[i] = split_id = make_id(i)
                changes.append(Change("split", split_id, [prev_ids[j]], float(sims[i, j])))
    # Merged: previous items not kept whose best new cluster kept another id.
    absorbed: dict[int, list[int]] = {}
    for j in range(k_prev):
        best = best_new[j]
        if j not in kept_prev and best is not None and ids[best] is not None:
            absorbed.setdefault(best, []).append(j)
    for i, js in sorted(absorbed.items()):
        kept_id = ids[i]
        assert kept_id is not None  # absorbed holds only clusters that kept an id
        changes.append(Change("merged", kept_id, [prev_ids[j] for j in js], float(max(sims[i, j] for j in js))))
    for i in range(k_new):
        if ids[i] is None:
            ids[i] = added_id = make_id(i)
            changes.append(Change("added", added_id, [], float(sims[i].max()) if k_prev else None))
    merged_prev = {j for js in absorbed.values() for j in js}
    for j in range(k_prev):
        if j not in kept_prev and j not in merged_prev:
            changes.append(Change("retired", prev_ids[j], [], float(sims[:, j].max()) if k_new else None))
    return [str(i) for i in ids], changes
