"""Stage 1: descriptions from the dataset's labels and from an LLM (a real local OpenAI-compatible server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rubricate.errors import RubricateError
from rubricate.llm.base import LLMConfig
from rubricate.rubric.descriptions import describe_new_traces
from tests.rubric.conftest import fast_rubric, ingest_rows
from tests.rubric.synthetic import synthetic_rows
from tests.stub_server import Reply, StubOpenAIServer, user_text


def descriptions(store) -> list[dict]:
    cur = store.cursor()
    try:
        cols = ["trace_id", "source", "origin", "status", "description", "raw_text", "error", "attempts", "text_hash", "keyword"]
        rows = cur.execute(f"SELECT {', '.join(cols)} FROM error_descriptions ORDER BY raw_text NULLS LAST").fetchall()
        return [dict(zip(cols, r)) for r in rows]
    finally:
        cur.close()


def test_dataset_descriptions_are_generalised_and_only_new_traces_are_described(synthetic_store, tmp_path: Path):
    rcfg = fast_rubric()
    first = describe_new_traces(synthetic_store, rcfg, LLMConfig())
    assert (first.n_candidates, first.n_ok, first.n_error, first.n_skipped) == (36, 36, 0, 0)
    rows = descriptions(synthetic_store)
    assert all(r["origin"] == "label_error_description" and r["text_hash"] for r in rows)
    for r in rows:  # problem nouns and names are gone, the kind of mistake stays
        assert "apples" not in r["description"] and "Ava" not in r["description"]
    assert any(r["description"].startswith("Forgot to convert minutes to hours") for r in rows)

    again = describe_new_traces(synthetic_store, rcfg, LLMConfig())
    assert again.n_candidates == 0  # a refresh describes nothing it has seen

    ingest_rows(synthetic_store, tmp_path, synthetic_rows(2, start=50), "more")
    third = describe_new_traces(synthetic_store, rcfg, LLMConfig())
    assert (third.n_candidates, third.n_ok) == (6, 6)


def test_dataset_falls_back_to_the_wrong_step_then_the_error_type_then_skips(store, tmp_path: Path):
    base = synthetic_rows(1)[0]
    rows = [
        {**base, "id": "step", "description": None},
        {**base, "id": "type", "description": None, "first_error": None},
        {**base, "id": "none", "description": None, "first_error": None, "kind": None},
        {**base, "id": "right", "description": None, "first_error": None, "kind": None, "correct": True},
    ]
    ingest_rows(store, tmp_path, rows, "fallbacks")
    report = describe_new_traces(store, fast_rubric(), LLMConfig())
    assert (report.n_candidates, report.n_ok, report.n_skipped) == (3, 2, 1)  # the correct trace is not a candidate
    by_origin = {r["origin"]: r for r in descriptions(store)}
    assert by_origin["first_error_step"]["raw_text"] == base["steps"][1]
    assert by_origin["first_error_step"]["description"] == "Then something has a number something."
    assert by_origin["label_error_type"]["description"] == "units"
    skipped = by_origin[None]
    assert skipped["status"] == "skipped" and "rubric.source: llm" in skipped["error"]


def test_scope_filters_by_domain_and_dataset(store, tmp_path: Path):
    ingest_rows(store, tmp_path, synthetic_rows(2), "mathy", domain="math")
    ingest_rows(store, tmp_path, synthetic_rows(1, start=10), "chem", domain="chemistry")
    assert describe_new_traces(store, fast_rubric(domain="chemistry"), LLMConfig()).n_ok == 3
    assert describe_new_traces(store, fast_rubric(datasets=["mathy"]), LLMConfig()).n_ok == 6


def test_llm_source_without_a_backend_says_how_to_fix_it(synthetic_store):
    with pytest.raises(RubricateError, match=r"configure the `llm:` section .* rubric.source: dataset"):
        describe_new_traces(synthetic_store, fast_rubric(source="llm"), LLMConfig())


def _llm(server: StubOpenAIServer) -> LLMConfig:
    return LLMConfig(kind="litellm", model="openai/stub-model", api_base=server.url, retry_base_s=0.01, retry_max_s=0.05, max_retries=1, timeout_s=10)


def test_llm_descriptions_parse_json_and_bad_answers_become_error_rows_retried_later(store, tmp_path: Path):
    rows = synthetic_rows(1)
    rows[0]["problem"] += " BROKEN"  # the stub answers this one with text that is not JSON
    rows[1]["problem"] += " OUTOFRANGE"  # and this one with a step the trace does not have
    ingest_rows(store, tmp_path, rows, "llm")

    def script(body, n):
        text = user_text(body)
        if "BROKEN" in text:
            return Reply(content="I think the error is in step 2, sorry no JSON")
        step = 99 if "OUTOFRANGE" in text else 1
        return Reply(content=json.dumps({"first_error_step": step, "description": "Uses 3 values the problem never gives",
                                         "keyword": "Invented quantity", "how_to_check": "Compare each number with the problem."}))

    with StubOpenAIServer(script) as server:
        rcfg = fast_rubric(source="llm", llm_max_attempts=3)
        report = describe_new_traces(store, rcfg, _llm(server))
        assert (report.n_candidates, report.n_ok, report.n_error) == (3, 1, 2)
        assert server.n_requests == 3 + 2  # the two failures were re-asked once in this run
        got = {r["status"]: r for r in descriptions(store) if r["status"] == "ok"}
        ok = got["ok"]
        assert ok["source"] == "llm" and ok["origin"] == "llm" and ok["keyword"] == "Invented quantity"
        assert ok["description"] == "Uses a number values the problem never gives"  # numbers masked
        errors = [r for r in descriptions(store) if r["status"] == "error"]
        assert sorted(e["attempts"] for e in errors) == [2, 2]
        assert any("not JSON" in e["error"] for e in errors) and any("outside the trace" in e["error"] for e in errors)

        retry = describe_new_traces(store, rcfg, _llm(server))  # next refresh: one more attempt each, then stop
        assert (retry.n_candidates, retry.n_error) == (2, 2)
        assert server.n_requests == 5 + 2  # new samples, not the cached failures
        assert describe_new_traces(store, rcfg, _llm(server)).n_candidates == 0
        assert sorted(r["attempts"] for r in descriptions(store) if r["status"] == "error") == [3, 3]
    counts = dict(store.frame("rubric/description_counts", {"describer_id": report.describer_id, "domain": None, "datasets": None, "trace_ids": None}).rows())
    assert counts == {"error": 2, "ok": 1}
