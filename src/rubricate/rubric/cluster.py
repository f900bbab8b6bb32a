"""Stage 3: group description embeddings into error types (reduce, then HDBSCAN), deterministically.

Reduction first (UMAP or PCA; raw HDBSCAN on 384 dimensions is slow and puts most points in noise),
then HDBSCAN. Noise is never lost: points that join no cluster stay "uncategorised" unless they are close
enough to an item's centroid (`assign_noise_min_similarity`), and both counts are reported.

The cases where clustering cannot give a rubric are outcomes, not exceptions: no descriptions, fewer
than `min_cluster_size`, all noise (status 'empty'), one giant cluster (retried with leaf selection,
then status 'partial'). Each carries a message that says why and what to change.
umap and the HDBSCAN libraries are imported lazily, here only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rubricate.rubric.config import ClusterConfig

log = logging.getLogger(__name__)

NOISE = -1


@dataclass
class Clustering:
    labels: np.ndarray  # per point: cluster index 0..k-1, or NOISE (after noise assignment)
    assigned: np.ndarray  # per point: True when it was noise and joined its nearest cluster
    similarity: np.ndarray  # per point: cosine similarity to its cluster's centroid (nan for noise)
    coords: np.ndarray  # (n, 2) positions for the map
    status: str  # complete | partial | empty
    message: str
    params: dict[str, Any] = field(default_factory=dict)  # what actually ran (reduction, min size, selection)

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if self.labels.size and self.labels.max() >= 0 else 0

    @property
    def n_noise(self) -> int:
        return int((self.labels == NOISE).sum())


def normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Normalised mean embedding per cluster 0..k-1."""
    if k == 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    mask = labels >= 0
    np.add.at(sums, labels[mask], x[mask])
    return normalise(sums).astype(np.float32)


def reduce(x: np.ndarray, cfg: ClusterConfig) -> tuple[np.ndarray, str]:
    """The space HDBSCAN runs in, and which reduction produced it."""
    n, dim = x.shape
    method = cfg.reduce
    if method == "umap" and n <= max(cfg.n_components + 2, cfg.n_neighbors):
        method = "pca"  # UMAP's graph needs more points than neighbours; PCA is exact for a handful
    if method == "none" or dim <= cfg.n_components:
        return x, "none"
    if method == "pca":
        from sklearn.decomposition import PCA

        k = max(1, min(cfg.n_components, n - 1, dim))
        return PCA(n_components=k, random_state=cfg.seed, svd_solver="full").fit_transform(x).astype(np.float32), "pca"
    import umap  # noqa: PLC0415 - heavy (numba); loaded only when used

    reducer = umap.UMAP(
        n_components=cfg.n_components,
        n_neighbors=min(cfg.n_neighbors, n - 1),
        min_dist=0.0,
        metric="cosine",
        random_state=cfg.seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway: the price of determinism
    )
    if n <= cfg.umap_max_fit:
        return np.asarray(reducer.fit_transform(x), dtype=np.float32), "umap"
    # Large sets: fit on a seeded sample, place every point with transform (the layout optimisation is
    # single-threaded and dominates the build; a sample keeps the structure at a fraction of the cost).
    sample = np.sort(np.random.default_rng(cfg.seed).choice(n, cfg.umap_max_fit, replace=False))
    reducer.fit(x[sample])
    return np.asarray(reducer.transform(x), dtype=np.float32), f"umap (fit on {cfg.umap_max_fit:,} of {n:,})"


def hdbscan_labels(points: np.ndarray, min_size: int, min_samples: int, selection: str, algorithm: str) -> np.ndarray:
    if algorithm == "fast_hdbscan":
        import fast_hdbscan

        model = fast_hdbscan.HDBSCAN(min_cluster_size=min_size, min_samples=min_samples, cluster_selection_method=selection)
    else:
        import hdbscan

        model = hdbscan.HDBSCAN(
            min_cluster_size=min_size, min_samples=min_samples, cluster_selection_method=selection, core_dist_n_jobs=1
        )
    return np.asarray(model.fit_predict(np.ascontiguousarray(points, dtype=np.float64)), dtype=np.int64)


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Clusters renumbered 0.. by decreasing size (ties: first appearance), so output order is stable."""
    ids, first, counts = np.unique(labels[labels >= 0], return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], first[i]))
    mapping = {int(ids[i]): rank for rank, i in enumerate(order)}
    return np.array([mapping.get(int(label), NOISE) for label in labels], dtype=np.int64)


def map_coords(space: np.ndarray, seed: int) -> np.ndarray:
    if space.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.float32)
    if space.shape[1] <= 2 or space.shape[0] < 3:
        out = np.zeros((space.shape[0], 2), dtype=np.float32)
        out[:, : min(2, space.shape[1])] = space[:, :2]
        return out
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed, svd_solver="full").fit_transform(space).astype(np.float32)


def _empty(n: int, message: str, params: dict[str, Any], coords: np.ndarray | None = None) -> Clustering:
    return Clustering(
        labels=np.full(n, NOISE, dtype=np.int64),
        assigned=np.zeros(n, dtype=bool),
        similarity=np.full(n, np.nan),
        coords=coords if coords is not None else np.zeros((n, 2), dtype=np.float32),
        status="empty",
        message=message,
        params=params,
    )


def cluster_embeddings(x: np.ndarray, cfg: ClusterConfig) -> Clustering:
    """Cluster L2-normalised embeddings (n, d). Deterministic for a fixed `cfg.seed`."""
    n = int(x.shape[0])
    min_size = cfg.min_size_for(n)
    min_samples = cfg.min_samples_for(n)
    params: dict[str, Any] = {"n": n, "min_cluster_size": min_size, "min_samples": min_samples, "reduce": cfg.reduce, "selection": cfg.selection}
    if n == 0:
        return _empty(0, "no error descriptions to cluster: the scope has no described wrong traces (ingest traces with "
                      "error labels, check rubric.domain / rubric.datasets, or use rubric.source: llm)", params)
    if n < min_size:
        return _empty(n, f"only {n} error descriptions, fewer than min_cluster_size={min_size}: no item can form. Add wrong "
                      "traces, or lower rubric.cluster.min_cluster_size (or min_cluster_size_floor)", params)
    x = normalise(np.asarray(x, dtype=np.float32))
    space, used = reduce(x, cfg)
    params["reduce_used"] = used
    coords = map_coords(space, cfg.seed)
    selection = cfg.selection
    labels = hdbscan_labels(space, min_size, min_samples, selection, cfg.algorithm)
    giant = _giant_share(labels)
    if giant > cfg.giant_share and selection == "eom":
        selection = "leaf"  # eom often keeps one huge parent cluster; leaves are the finer structure under it
        labels = hdbscan_labels(space, min_size, min_samples, selection, cfg.algorithm)
        giant = _giant_share(labels)
    params["selection_used"] = selection
    labels = relabel_by_size(labels)
    k = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if k == 0:
        return _empty(n, f"all {n} descriptions are noise: HDBSCAN found no group of at least {min_size} similar "
                      "descriptions. Lower rubric.cluster.min_cluster_size, try reduce: umap, or describe errors with an "
                      "LLM (rubric.source: llm) so that descriptions of one error type read alike", params, coords)
    params["n_noise_raw"] = int((labels == NOISE).sum())
    cents = centroids(x, labels, k)
    sims = x @ cents.T
    assigned = np.zeros(n, dtype=bool)
    if cfg.assign_noise_min_similarity is not None:
        noise = np.where(labels == NOISE)[0]
        best = sims[noise].argmax(axis=1) if noise.size else np.zeros(0, dtype=np.int64)
        ok = sims[noise, best] >= cfg.assign_noise_min_similarity if noise.size else np.zeros(0, dtype=bool)
        labels[noise[ok]] = best[ok]
        assigned[noise[ok]] = True
    similarity = np.where(labels >= 0, sims[np.arange(n), np.maximum(labels, 0)], np.nan)
    status, message = "complete", f"{k} clusters from {n} descriptions; {int((labels == NOISE).sum())} uncategorised"
    if giant > cfg.giant_share:
        status = "partial"
        message = (f"one giant cluster: the largest holds {giant:.0%} of the {n} descriptions, so the rubric cannot tell "
                   "error types apart. Lower rubric.cluster.min_cluster_size, try another reduce, or use rubric.source: llm "
                   "for descriptions that name the kind of mistake")
    log.info("cluster: %s (%s)", message, params)
    return Clustering(labels=labels, assigned=assigned, similarity=similarity, coords=coords, status=status, message=message, params=params)


def _giant_share(labels: np.ndarray) -> float:
    if labels.size == 0 or not (labels >= 0).any():
        return 0.0
    return float(np.bincount(labels[labels >= 0]).max() / labels.size)
