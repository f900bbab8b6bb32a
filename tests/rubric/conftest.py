"""Fixtures for rubric mining tests: a store with synthetic wrong traces ingested through the JSONL reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rubricate.config import SourceConfig
from rubricate.ingest import ingest_source
from rubricate.rubric.config import RubricConfig
from tests.helpers import write_jsonl
from tests.rubric.synthetic import source_config, synthetic_rows

# Unit tests cluster with PCA and the hdbscan library: no numba JIT (25-45 s cold per process). Items of at
# least 10 descriptions: the synthetic kinds (12 traces each) are the items, not their wordings.
FAST_CLUSTER = {"reduce": "pca", "algorithm": "hdbscan", "n_components": 5, "min_cluster_size_floor": 10}


def fast_rubric(**overrides: Any) -> RubricConfig:
    data: dict[str, Any] = {"cluster": dict(FAST_CLUSTER)}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return RubricConfig.model_validate(data)


def ingest_rows(store, directory: Path, rows: list[dict], name: str, **source_kw: Any) -> int:
    path = write_jsonl(directory / f"{name}.jsonl", rows)
    report = ingest_source(store, SourceConfig(**{**source_config(name, path), **source_kw}))
    assert report.n_rejected == 0, report
    return report.n_accepted


@pytest.fixture
def synthetic_store(store, tmp_path: Path):
    """A store holding 36 wrong traces: three kinds of error, twelve problems each."""
    ingest_rows(store, tmp_path, synthetic_rows(12), "syn")
    return store
