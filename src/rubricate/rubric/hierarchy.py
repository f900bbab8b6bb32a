"""Shape clusters into a two-level rubric: merge near-duplicate items, then group items into categories."""

from __future__ import annotations

import numpy as np

from rubricate.rubric.cluster import NOISE, centroids, relabel_by_size


def merge_near_duplicates(x: np.ndarray, labels: np.ndarray, min_similarity: float) -> tuple[np.ndarray, int]:
    """Clusters whose centroids are at least `min_similarity` similar become one (transitively).

    Returns the new labels (renumbered by size) and how many clusters were merged away.
    """
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    if k < 2:
        return labels, 0
    cents = centroids(x, labels, k)
    sims = cents @ cents.T
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.where(np.triu(sims, 1) >= min_similarity)):
        parent[root(int(j))] = root(int(i))
    groups = np.array([root(i) for i in range(k)])
    merged = np.where(labels >= 0, groups[np.maximum(labels, 0)], NOISE)
    return relabel_by_size(merged), k - len(set(groups.tolist()))


def group_categories(cents: np.ndarray, n_categories: int | None, min_similarity: float | None) -> np.ndarray:
    """Category index per item: average-linkage clustering of item centroids (cosine).

    A fixed `n_categories`; else a similarity cut (items at least `min_similarity` alike share a category);
    else round(sqrt(items)) categories. Indices follow first appearance, so the largest item's category is 0.
    """
    k = cents.shape[0]
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if n_categories is None and min_similarity is None:
        n_categories = max(1, round(float(np.sqrt(k))))
    if k == 1 or n_categories == 1:
        return np.zeros(k, dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    if n_categories is not None:
        model = AgglomerativeClustering(n_clusters=min(n_categories, k), metric="cosine", linkage="average")
    else:
        assert min_similarity is not None  # with neither given, n_categories was set above
        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=1.0 - float(min_similarity), metric="cosine", linkage="average"
        )
    raw = model.fit_predict(cents)
    order: dict[int, int] = {}
    for c in raw:
        order.setdefault(int(c), len(order))
    return np.array([order[int(c)] for c in raw], dtype=np.int64)
