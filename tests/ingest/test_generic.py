"""The generic JSONL/Parquet readers and ingest accounting on every kind of bad input.

Every input row is counted once: in = accepted + rejected + duplicates; each rejection is a stored row with
the source, the line and the reason; re-ingesting the same input adds nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from rubricate.config import FieldMap, SourceConfig
from rubricate.errors import IngestError
from rubricate.ingest import ingest_source
from rubricate.ingest.readers import get_reader
from tests.helpers import sql_rows

FIELDS = FieldMap(problem="question", response="answer_text", gold_answer="gold", id="uid",
                  label_first_error_step="first_bad_step", label_correct="ok")


def jsonl_source(path: Path, **kw) -> SourceConfig:
    return SourceConfig(name="mine", reader="jsonl", path=str(path), fields=FIELDS, step_base=1, **kw)


def good(uid: str, text: str = "Step one.\n\nStep two.\n\nSo 4.") -> dict:
    return {"uid": uid, "question": f"What is 2+2? ({uid})", "answer_text": text, "gold": "4", "ok": True}


@pytest.fixture
def messy_jsonl(tmp_path: Path) -> Path:
    lines: list[bytes] = [
        json.dumps(good("a")).encode(),                                                              # 1 accepted
        json.dumps(good("b") | {"ok": False, "first_bad_step": 2}).encode(),                          # 2 accepted, step 2 -> 1
        b'{"uid": "c", "question": "broken", "answer_text": ',                                       # 3 malformed JSON
        json.dumps({"uid": "d", "question": "no response here"}).encode(),                           # 4 missing field
        b'{"uid": "e", "question": "caf\xe9", "answer_text": "x"}',                                  # 5 not UTF-8
        json.dumps(good("f", "")).encode(),                                                          # 6 empty response
        json.dumps(good("g", "y" * 2_000_000)).encode(),                                             # 7 2 MB response
        json.dumps(good("a")).encode(),                                                              # 8 duplicate of line 1
        b"   ",                                                                                      # 9 blank: not a row
        json.dumps(good("h") | {"ok": False, "first_bad_step": 9}).encode(),                         # 10 step outside the trace
        json.dumps({"uid": "i", "answer_text": "no problem"}).encode(),                              # 11 missing problem
        json.dumps(["a", "list"]).encode(),                                                          # 12 not an object
        json.dumps(good("j") | {"ok": "maybe"}).encode(),                                            # 13 bad boolean
        json.dumps(good("k")).encode(),                                                              # 14 accepted
    ]
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_every_bad_input_is_counted_and_stored(store, messy_jsonl):
    report = ingest_source(store, jsonl_source(messy_jsonl))
    assert report.n_in == 13  # the blank line is not a row
    assert (report.n_accepted, report.n_rejected, report.n_duplicates) == (3, 9, 1)
    assert report.n_in == report.n_accepted + report.n_rejected + report.n_duplicates
    assert report.rejected_by_reason == {
        "malformed_json": 1, "missing_field": 2, "not_utf8": 1, "empty_response": 1, "too_large": 1, "bad_value": 3}

    stored = sql_rows(store, "SELECT source_path, source_line, reason FROM rejected_rows ORDER BY source_line")
    assert stored == [(str(messy_jsonl), line, reason) for line, reason in [
        (3, "malformed_json"), (4, "missing_field"), (5, "not_utf8"), (6, "empty_response"), (7, "too_large"),
        (8, "duplicate"), (10, "bad_value"), (11, "missing_field"), (12, "bad_value"), (13, "bad_value")]]
    details = dict(sql_rows(store, "SELECT source_line, detail FROM rejected_rows"))
    assert "max_response_chars=1,000,000" in details[7] and "2,000,000" in details[7]
    assert "answer_text" in details[4] and "question" in details[11]
    assert "same content as" in details[8] and ":1" in details[8]
    assert "outside the trace's 3 steps" in details[10]
    excerpts = dict(sql_rows(store, "SELECT source_line, raw_excerpt FROM rejected_rows"))
    assert excerpts[3].startswith('{"uid": "c"') and len(excerpts[7]) <= 500

    traces = sql_rows(store, "SELECT source_id, source_line, label_first_error_step, label_correct, len(steps), gold_answer FROM traces ORDER BY source_line")
    assert traces == [("a", 1, None, True, 3, "4"), ("b", 2, 1, False, 3, "4"), ("k", 14, None, True, 3, "4")]

    runs = sql_rows(store, "SELECT n_in, n_accepted, n_rejected, n_duplicates FROM ingest_runs")
    assert runs == [(13, 3, 9, 1)]


def test_reingest_adds_nothing(store, messy_jsonl):
    ingest_source(store, jsonl_source(messy_jsonl))
    before = sql_rows(store, "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM rejected_rows)")
    again = ingest_source(store, jsonl_source(messy_jsonl))
    assert (again.n_in, again.n_accepted, again.n_rejected, again.n_duplicates) == (13, 0, 9, 4)
    assert sql_rows(store, "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM rejected_rows)") == before == [(3, 10)]


def test_raising_the_size_limit_accepts_the_big_response(store, messy_jsonl):
    report = ingest_source(store, jsonl_source(messy_jsonl, max_response_chars=3_000_000))
    assert report.n_accepted == 4 and "too_large" not in report.rejected_by_reason
    assert sql_rows(store, "SELECT length(response) FROM traces WHERE source_id = 'g'") == [(2_000_000,)]


def test_limit_stops_early(store, messy_jsonl):
    report = ingest_source(store, jsonl_source(messy_jsonl, limit=2))
    assert (report.n_in, report.n_accepted) == (2, 2)


def test_parquet_with_nested_fields(store, tmp_path):
    pl.DataFrame({
        "meta": [{"id": "p1", "src": "x"}, {"id": "p2", "src": "y"}, {"id": "p3", "src": "z"}],
        "messages": [["sys", "Solve 3*3."], ["sys", "Solve 5-1."], ["sys", "Solve 1+0."]],
        "steps": [["3*3 = 9", "Answer: 9"], ["5-1 = 3", "Answer: 3"], None],
        "err": [None, 0, None],
    }).write_parquet(tmp_path / "t.parquet")
    source = SourceConfig(name="pq", reader="parquet", path=str(tmp_path / "t.parquet"),
                          fields=FieldMap(problem="messages.1", response=None, steps="steps", id="meta.id", label_first_error_step="err"))
    report = ingest_source(store, source)
    assert (report.n_in, report.n_accepted, report.n_rejected) == (3, 2, 1)
    assert report.rejected_by_reason == {"missing_field": 1}
    rows = sql_rows(store, "SELECT source_id, problem, steps, response, label_first_error_step, source_line FROM traces ORDER BY source_line")
    assert rows == [("p1", "Solve 3*3.", ["3*3 = 9", "Answer: 9"], "3*3 = 9\n\nAnswer: 9", None, 1),
                    ("p2", "Solve 5-1.", ["5-1 = 3", "Answer: 3"], "5-1 = 3\n\nAnswer: 3", 0, 2)]
    assert sql_rows(store, "SELECT source_line, reason FROM rejected_rows") == [(3, "missing_field")]
    assert ingest_source(store, source).n_accepted == 0


@pytest.mark.parametrize("reader", ["jsonl", "parquet"])
def test_missing_path_names_the_fix(tmp_path, reader):
    source = SourceConfig(name="gone", reader=reader, path=str(tmp_path / "absent.jsonl"), fields=FIELDS)
    with pytest.raises(IngestError, match=r"source 'gone': .*absent\.jsonl does not exist; fix `path`"):
        list(get_reader(reader).read(source))


def test_folder_without_matching_files(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    source = SourceConfig(name="empty", reader="jsonl", path=str(tmp_path), fields=FIELDS)
    with pytest.raises(IngestError, match=r"no \.jsonl/\.json/.* files under .* \(it holds only notes\.txt\)"):
        list(get_reader("jsonl").read(source))
