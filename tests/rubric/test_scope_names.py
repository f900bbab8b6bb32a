"""Issue 12.4: rubrics are named by scope. Mining another dataset starts another rubric (its own lineage, version 1)
instead of becoming the next version of the first one, and an explicit `rubric.name` wins."""

from __future__ import annotations

from pathlib import Path

from rubricate.llm.base import LLMConfig
from rubricate.rubric.build import build_rubric_version
from rubricate.rubric.config import RubricConfig
from rubricate.rubric.descriptions import describe_new_traces
from rubricate.rubric.embed import embed_new_descriptions
from rubricate.rubric.versions import load_rubric
from tests.rubric.conftest import fast_rubric, ingest_rows
from tests.rubric.synthetic import synthetic_rows

NO_LLM = LLMConfig()


def test_names_follow_the_scope():
    assert RubricConfig().rubric_name() == "default"
    assert RubricConfig(domain="math").rubric_name() == "math"
    assert RubricConfig(datasets=["prmbench", "processbench", "prmbench"]).rubric_name() == "prmbench+processbench"
    assert RubricConfig(domain="math", datasets=["b", "a"]).rubric_name() == "math.a+b"
    assert RubricConfig(name="house", domain="math", datasets=["a"]).rubric_name() == "house"


def _refresh(store, rcfg):
    described = describe_new_traces(store, rcfg, NO_LLM)
    embed_new_descriptions(store, rcfg, described.describer_id)
    return build_rubric_version(store, rcfg, NO_LLM)


def test_mining_a_second_dataset_starts_another_rubric(synthetic_store, tmp_path: Path):
    ingest_rows(synthetic_store, tmp_path, synthetic_rows(12, start=100), "other")
    first = _refresh(synthetic_store, fast_rubric(datasets=["syn"]))
    second = _refresh(synthetic_store, fast_rubric(datasets=["other"]))
    assert first.created and second.created
    cur = synthetic_store.cursor()
    try:
        rows = cur.execute("SELECT rubric_name, seq, parent_version_id FROM rubric_versions ORDER BY rubric_name").fetchall()
    finally:
        cur.close()
    assert rows == [("other", 1, None), ("syn", 1, None)]
    assert set(second.changes) == {"added"}  # nothing "retired" from the other dataset's rubric
    assert load_rubric(synthetic_store, name="syn").version_id == first.version_id  # each lineage keeps its latest


def test_latest_is_the_configs_rubric_or_the_only_one_never_another_datasets(synthetic_store, tmp_path: Path):
    import pytest

    from rubricate.errors import ConfigError
    from rubricate.judge.rubric_source import load_stored_rubric

    first = _refresh(synthetic_store, fast_rubric(datasets=["syn"]))
    assert load_stored_rubric(synthetic_store, "latest").version_id == first.version_id  # the only rubric
    ingest_rows(synthetic_store, tmp_path, synthetic_rows(12, start=100), "other")
    second = _refresh(synthetic_store, fast_rubric(datasets=["other"]))  # newer, another dataset's
    assert load_stored_rubric(synthetic_store, "latest", "syn").version_id == first.version_id
    assert load_stored_rubric(synthetic_store, "latest", "other").version_id == second.version_id
    with pytest.raises(ConfigError, match=r"ambiguous.*other, syn"):
        load_stored_rubric(synthetic_store, "latest", "default")
    assert load_stored_rubric(synthetic_store, first.version_id).version_id == first.version_id  # an id is an id
