"""Stage 3: clustering outcomes, including every case where no usable rubric can form."""

from __future__ import annotations

import numpy as np
import pytest

from rubricate.rubric.cluster import NOISE, cluster_embeddings
from rubricate.rubric.config import ClusterConfig
from rubricate.rubric.hierarchy import group_categories, merge_near_duplicates

FAST = {"reduce": "pca", "algorithm": "hdbscan"}


def blobs(sizes: list[int], seed: int = 0, spread: float = 0.08, noise: int = 0) -> np.ndarray:
    """Unit vectors around len(sizes) random centres in 384-d, plus `noise` scattered points."""
    rng = np.random.default_rng(seed)
    parts = []
    for size in sizes:
        centre = rng.normal(size=384)
        centre /= np.linalg.norm(centre)
        parts.append(centre + spread * rng.normal(size=(size, 384)) / np.sqrt(384) * 4)
    if noise:
        parts.append(rng.normal(size=(noise, 384)))
    x = np.vstack(parts).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_three_blobs_give_three_clusters_deterministically():
    x = blobs([30, 25, 20], noise=4)
    cfg = ClusterConfig(**FAST, min_cluster_size=8)
    first, second = cluster_embeddings(x, cfg), cluster_embeddings(x, cfg)
    assert first.status == "complete" and first.n_clusters == 3
    assert np.array_equal(first.labels, second.labels) and np.allclose(first.coords, second.coords)
    assert [int((first.labels == k).sum()) >= s for k, s in enumerate([30, 25, 20])] == [True, True, True]  # largest first
    assert first.coords.shape == (79, 2)


def test_noise_is_kept_or_assigned_by_similarity_threshold():
    x = blobs([30, 30], noise=6)
    kept = cluster_embeddings(x, ClusterConfig(**FAST, min_cluster_size=8, assign_noise_min_similarity=None))
    assert kept.n_noise >= 1 and not kept.assigned.any()
    assert np.isnan(kept.similarity[kept.labels == NOISE]).all()
    everything = cluster_embeddings(x, ClusterConfig(**FAST, min_cluster_size=8, assign_noise_min_similarity=-1.0))
    assert everything.n_noise == 0 and everything.assigned.sum() == kept.n_noise


def test_no_descriptions_is_an_empty_outcome_with_a_message():
    out = cluster_embeddings(np.zeros((0, 384), dtype=np.float32), ClusterConfig(**FAST))
    assert out.status == "empty" and out.n_clusters == 0 and "no error descriptions" in out.message


def test_fewer_points_than_min_cluster_size_is_empty_and_says_what_to_lower():
    out = cluster_embeddings(blobs([6]), ClusterConfig(**FAST, min_cluster_size=10))
    assert out.status == "empty" and out.n_noise == 6
    assert "fewer than min_cluster_size=10" in out.message and "rubric.cluster.min_cluster_size" in out.message


def test_all_noise_is_empty_and_suggests_llm_descriptions():
    x = np.random.default_rng(0).normal(size=(30, 384)).astype(np.float32)
    out = cluster_embeddings(x, ClusterConfig(**FAST, min_cluster_size=10))
    assert out.status == "empty" and out.n_noise == 30
    assert "all 30 descriptions are noise" in out.message and "rubric.source: llm" in out.message


def test_one_giant_cluster_is_partial():
    out = cluster_embeddings(blobs([120, 15]), ClusterConfig(**FAST, min_cluster_size=10, selection="eom"))
    assert out.status == "partial" and "one giant cluster" in out.message
    assert out.params["selection_used"] == "leaf"  # eom was retried with leaf selection first


def test_umap_falls_back_to_pca_for_a_handful_of_points():
    out = cluster_embeddings(blobs([6, 6]), ClusterConfig(reduce="umap", algorithm="hdbscan", min_cluster_size=5))
    assert out.params["reduce_used"] == "pca"


def test_near_duplicate_clusters_merge_and_categories_group_similar_items():
    x = blobs([20, 20, 20], seed=3)
    labels = np.repeat([0, 1, 2], 20)
    same_labels, merged = merge_near_duplicates(x, labels, 0.999)
    assert merged == 0 and np.array_equal(same_labels, labels)
    # the first two "clusters" are halves of one blob: they merge
    halves = np.concatenate([np.repeat([0, 1], 10), np.repeat(2, 40)])
    x2 = np.vstack([x[:20], x[20:60]])
    new, merged = merge_near_duplicates(x2, halves, 0.9)
    assert merged == 1 and set(new.tolist()) == {0, 1} and len(set(new[:20].tolist())) == 1
    cents = np.array([[1, 0, 0], [0.95, 0.31, 0], [0, 0, 1]], dtype=np.float32)
    assert group_categories(cents, None, 0.8).tolist() == [0, 0, 1]
    assert group_categories(cents, 3, 0.8).tolist() == [0, 1, 2]
    assert group_categories(cents[:1], None, 0.8).tolist() == [0]
    assert group_categories(cents, None, None).tolist() == [0, 0, 1]  # default: about sqrt(3) = 2 categories
    assert group_categories(np.eye(9, dtype=np.float32), None, None).max() == 2  # sqrt(9) = 3 categories


@pytest.mark.slow
def test_default_umap_and_fast_hdbscan_are_deterministic():
    x = blobs([40, 40, 40], noise=5)
    cfg = ClusterConfig(min_cluster_size=10)  # the defaults: umap + fast_hdbscan (numba JIT on a cold cache)
    first, second = cluster_embeddings(x, cfg), cluster_embeddings(x, cfg)
    assert first.params["reduce_used"] == "umap" and first.n_clusters == 3
    assert np.array_equal(first.labels, second.labels)
    sampled = ClusterConfig(min_cluster_size=10, umap_max_fit=100)  # large sets: fit on a sample, transform all
    third, fourth = cluster_embeddings(x, sampled), cluster_embeddings(x, sampled)
    assert third.params["reduce_used"] == "umap (fit on 100 of 125)" and third.n_clusters == 3
    assert np.array_equal(third.labels, fourth.labels)
