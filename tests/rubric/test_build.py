"""Stages 3-5 end to end on a real store and the real embedding model: versions, refresh, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rubricate.llm.base import LLMConfig
from rubricate.rubric.build import build_rubric, build_rubric_version
from rubricate.rubric.descriptions import describe_new_traces
from rubricate.rubric.embed import embed_new_descriptions
from rubricate.rubric.model import Rubric
from rubricate.rubric.report import write_report
from rubricate.rubric.versions import RubricNotFound, export_rubric, load_rubric
from tests.helpers import sql_rows
from tests.rubric.conftest import fast_rubric, ingest_rows
from tests.rubric.synthetic import synthetic_rows
from tests.stub_server import Reply, StubOpenAIServer, user_text

NO_LLM = LLMConfig()


def refresh(store, rcfg):
    described = describe_new_traces(store, rcfg, NO_LLM)
    embedded = embed_new_descriptions(store, rcfg, described.describer_id)
    return described, embedded, build_rubric_version(store, rcfg, NO_LLM)




def test_versions_keep_item_ids_and_refresh_embeds_only_new_texts(synthetic_store, tmp_path: Path):
    rcfg = fast_rubric()
    described, embedded, v1 = refresh(synthetic_store, rcfg)
    assert (described.n_ok, embedded.n_new) == (36, 18)  # 3 kinds x 6 distinct wordings
    assert (v1.status, v1.n_items, v1.n_descriptions, v1.n_new_traces, v1.created) == ("complete", 3, 36, 36, True)
    assert v1.changes == {"added": 3}
    rubric1 = load_rubric(synthetic_store)
    assert rubric1.version_id == v1.version_id and sorted(i.size for i in rubric1.items) == [12, 12, 12]
    assert all(len(i.description.split()) <= 26 and len(i.centroid or []) == 384 and i.examples for i in rubric1.items)

    unchanged = build_rubric_version(synthetic_store, rcfg, NO_LLM)
    assert not unchanged.created and unchanged.version_id == v1.version_id and "nothing changed" in unchanged.message

    ingest_rows(synthetic_store, tmp_path, synthetic_rows(2, start=12), "later")
    described, embedded, v2 = refresh(synthetic_store, rcfg)
    assert (described.n_candidates, embedded.n_new) == (6, 0)  # their wordings were embedded already
    assert (v2.created, v2.n_descriptions, v2.n_new_traces, v2.changes) == (True, 42, 6, {"kept": 3})
    rubric2 = load_rubric(synthetic_store)
    assert rubric2.version_id == v2.version_id != v1.version_id
    assert {i.item_id for i in rubric2.items} == {i.item_id for i in rubric1.items}  # ids persist
    assert sql_rows(synthetic_store, f"SELECT parent_version_id, seq FROM rubric_versions WHERE version_id = '{v2.version_id}'") == [(v1.version_id, 2)]
    assert sql_rows(synthetic_store, f"SELECT count(*) FROM rubric_members WHERE version_id = '{v2.version_id}'") == [(42,)]
    assert load_rubric(synthetic_store, v1.version_id).version_id == v1.version_id  # old versions stay loadable


def test_rubric_json_round_trip_and_a_forced_rebuild_is_identical(synthetic_store, tmp_path: Path):
    refresh(synthetic_store, fast_rubric())
    path = export_rubric(synthetic_store, tmp_path / "rubric.json")
    first = load_rubric(synthetic_store)
    assert Rubric.from_json(path) == first
    assert json.loads(path.read_text())["status"] == "complete"
    rebuilt = build_rubric_version(synthetic_store, fast_rubric(), NO_LLM, force=True)  # same data, same seed
    assert rebuilt.created and rebuilt.changes == {"kept": 3}
    assert load_rubric(synthetic_store).items == first.items  # deterministic: same ids, names, sizes, centroids


def test_no_wrong_traces_stores_an_empty_version_that_says_why(store, tmp_path: Path):
    ingest_rows(store, tmp_path, [{**r, "correct": True, "first_error": None} for r in synthetic_rows(2)], "all_right")
    described, embedded, built = refresh(store, fast_rubric())
    assert (described.n_candidates, embedded.n_new) == (0, 0)
    assert (built.status, built.n_items, built.created) == ("empty", 0, True)
    assert "no error descriptions to cluster" in built.message
    assert sql_rows(store, "SELECT status, n_descriptions FROM rubric_versions") == [("empty", 0)]
    with pytest.raises(RubricNotFound, match="run the rubric_refresh flow"):
        load_rubric(store)
    report = write_report(store, built.version_id, tmp_path / "report")
    assert "(empty)" in report.markdown and "rubric.json" not in report.files and report.files["map.png"].stat().st_size > 0


def test_fewer_descriptions_than_min_cluster_size_is_an_empty_version(store, tmp_path: Path):
    ingest_rows(store, tmp_path, synthetic_rows(2), "few")
    *_, built = refresh(store, fast_rubric())
    assert built.status == "empty" and "fewer than min_cluster_size=10" in built.message
    assert sql_rows(store, f"SELECT count(*), count(item_id) FROM rubric_members WHERE version_id = '{built.version_id}'") == [(6, 0)]


def test_llm_descriptions_and_names_and_a_failure_makes_a_partial_version(store, tmp_path: Path):
    rows = [{**r, "problem": f"{r['problem']} [{r['kind']}]"} for r in synthetic_rows(12)]
    rows[0]["problem"] += " BROKEN"
    ingest_rows(store, tmp_path, rows, "llm")
    kinds = {"units": "Forgot to convert a unit before dividing", "double": "Counted one quantity twice",
             "circular": "Assumed the answer to prove it"}

    def script(body, n):
        text = user_text(body)
        if "TARGET CLUSTER" in text:  # the LLM namer
            target = text.split("TARGET CLUSTER")[1].split("NEIGHBOUR")[0]
            word = next(w for w in ("unit", "twice", "Assumed") if w in target)
            return Reply(content=json.dumps({"name": f"Named {word}", "keyword": word, "description": "d", "how_to_check": "h"}))
        if "BROKEN" in text:
            return Reply(content="no json here")
        kind = next(v for k, v in kinds.items() if f"[{k}]" in text)
        return Reply(content=json.dumps({"first_error_step": 1, "description": kind, "keyword": kind.split()[0], "how_to_check": "Look."}))

    with StubOpenAIServer(script) as server:
        llm = LLMConfig(kind="litellm", model="openai/stub", api_base=server.url, retry_base_s=0.01, retry_max_s=0.05, max_retries=1)
        result = build_rubric(store, fast_rubric(source="llm", naming={"namer": "llm"}), llm=llm)
    built = result.build
    assert built.status == "partial" and built.n_failed_descriptions == 1 and built.n_items == 3
    assert "1 wrong traces have no description" in built.message
    assert result.rubric.version_id == built.version_id and len(result.rubric.items) == 3
    assert {i.name for i in result.rubric.items} == {"Named unit", "Named twice", "Named Assumed"}
    assert {i.keyword for i in result.rubric.items} == {"unit", "twice", "Assumed"}


def test_build_for_a_subset_stays_out_of_the_main_history(synthetic_store):
    ids = [r[0] for r in sql_rows(synthetic_store, "SELECT trace_id FROM traces ORDER BY trace_id")]
    result = build_rubric(synthetic_store, fast_rubric(), trace_ids=ids[:30])
    assert result.build.rubric_name.startswith("default-subset-") and result.build.n_descriptions == 30
    assert result.describe["n_ok"] == 30  # only the subset was described
    with pytest.raises(RubricNotFound):
        load_rubric(synthetic_store)  # "latest" never means an evaluation subset
    assert load_rubric(synthetic_store, result.rubric.version_id).items == result.rubric.items
