"""Issue 10, items 11-14 and 16: the ingest breaks fault injection found, each kept fixed by a test on real files.

- wrong types are rejected with a reason (a list response becomes steps), never stringified;
- a mapped path that matches nothing is warned about and counted;
- a broken Parquet file is one rejected file with its name; other files and sources go on; other files in a
  folder are reported;
- rejected_rows keeps each source's rejections apart (and an existing store migrates);
- a source path that does not exist is found when the config is loaded.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from rubricate.config import FieldMap, SourceConfig, load_config
from rubricate.errors import ConfigError
from rubricate.ingest import ingest_source
from rubricate.store.db import Store, utcnow
from rubricate.store.sqlfiles import migration_files
from tests.helpers import sql_rows, write_jsonl

# -- 10.11 wrong types -----------------------------------------------------------------------------------


def test_wrong_types_are_rejected_with_a_reason_and_a_list_response_is_steps(store, tmp_path):
    path = write_jsonl(tmp_path / "typed.jsonl", [
        {"q": "What is 4+5?", "r": {"text": "the answer is 9"}, "a": "9"},          # 1 object response
        {"q": "Is 2 prime?", "r": True, "a": "yes"},                                # 2 boolean response
        {"q": "What is 3+3?", "r": ["3+3 = 6.", "The answer is 6."], "a": "6"},     # 3 list response -> steps
        {"q": "What is 1+1?", "r": ["1+1", {"x": 2}], "a": "2"},                    # 4 list with an object
        {"q": "What is 2+2?", "r": "2+2 = 4.", "a": True},                          # 5 boolean gold answer
        {"q": {"text": "nested"}, "r": "x", "a": "1"},                              # 6 object problem
        {"q": "What is 7*1?", "r": "7.", "a": 7},                                   # 7 numeric gold answer is fine
    ])
    source = SourceConfig(name="typed", reader="jsonl", path=str(path), fields=FieldMap(problem="q", response="r", gold_answer="a"))
    report = ingest_source(store, source)
    assert (report.n_in, report.n_accepted, report.n_rejected) == (7, 2, 5)
    assert report.rejected_by_reason == {"bad_value": 5}
    details = dict(sql_rows(store, "SELECT source_line, detail FROM rejected_rows"))
    assert "'r'" in details[1] and "object" in details[1] and "r.text" in details[1]  # names the fix: a path inside it
    assert "'r'" in details[2] and "bool" in details[2]
    assert "'r'" in details[4] and "object" in details[4]
    assert "'a'" in details[5] and "bool" in details[5]
    assert "'q'" in details[6] and "object" in details[6]
    rows = sql_rows(store, "SELECT source_line, steps, gold_answer FROM traces ORDER BY source_line")
    assert rows == [(3, ["3+3 = 6.", "The answer is 6."], "6"), (7, ["7."], "7")]


# -- 10.12 a path that matches nothing --------------------------------------------------------------------


def test_a_path_absent_in_every_row_is_warned_and_counted(store, tmp_path, caplog):
    path = write_jsonl(tmp_path / "meta.jsonl", [
        {"q": "What is 1+2?", "r": "3", "meta": {"gold_answer": "3", "tag": "x"}},
        {"q": "What is 2+2?", "r": "4", "meta": {"gold_answer": "4"}},
        {"q": "What is 3+2?", "r": "5"},
    ])
    fields = FieldMap(problem="q", response="r", gold_answer="meta.golden_answer", split="meta.tag")
    with caplog.at_level("WARNING"):
        report = ingest_source(store, SourceConfig(name="typo", reader="jsonl", path=str(path), fields=fields))
    assert report.n_accepted == 3
    assert report.absent_paths == {"gold_answer (meta.golden_answer)": 3, "split (meta.tag)": 2}
    assert len(report.warnings) == 1 and "meta.golden_answer" in report.warnings[0] and "all 3 rows" in report.warnings[0]
    assert any("meta.golden_answer" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


# -- 10.13 broken Parquet files ---------------------------------------------------------------------------


def _parquet(path: Path, n: int, tag: str) -> Path:
    pl.DataFrame({
        "q": [f"What is {i}+{tag}? " + "padding " * 50 for i in range(n)],
        "r": [f"The answer is {i}. " + "more words " * 50 for i in range(n)],
    }).write_parquet(path, compression="snappy")
    return path


def test_broken_parquet_files_are_rejected_files_and_the_rest_goes_on(store, tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    _parquet(folder / "a_good.parquet", 3, "a")
    (folder / "b_empty.parquet").write_bytes(b"")
    corrupt = _parquet(folder / "c_corrupt.parquet", 200, "c").read_bytes()
    middle = len(corrupt) // 2
    (folder / "c_corrupt.parquet").write_bytes(corrupt[:64] + b"\xff" * (middle - 64) + corrupt[middle:])
    _parquet(folder / "d_good.parquet", 2, "d")
    (folder / "notes.txt").write_text("not data")
    (folder / "extra.csv").write_text("q,r\n")

    source = SourceConfig(name="pq", reader="parquet", path=str(folder), fields=FieldMap(problem="q", response="r"))
    report = ingest_source(store, source)  # must not raise
    assert report.n_accepted == 5
    assert report.rejected_by_reason.get("unreadable_file", 0) >= 2
    assert report.n_in == report.n_accepted + report.n_rejected + report.n_duplicates
    assert report.skipped_files == [str(folder / "extra.csv"), str(folder / "notes.txt")]
    broken = dict(sql_rows(store, "SELECT source_path, detail FROM rejected_rows WHERE reason = 'unreadable_file'"))
    assert set(broken) == {str(folder / "b_empty.parquet"), str(folder / "c_corrupt.parquet")}
    assert "0 bytes" in broken[str(folder / "b_empty.parquet")]
    assert "c_corrupt.parquet" in broken[str(folder / "c_corrupt.parquet")]

    # a later source still runs after the broken one
    later = ingest_source(store, SourceConfig(name="later", reader="parquet", path=str(folder / "d_good.parquet"),
                                              fields=FieldMap(problem="q", response="r")))
    assert later.n_in == 2


# -- 10.14 rejected rows of two sources reading the same file ---------------------------------------------


def test_two_sources_over_one_file_keep_their_own_rejections(store, tmp_path):
    path = tmp_path / "shared.jsonl"
    path.write_text('{"q": "What is 1+1?", "r": "2"}\n{broken\n{"q": "What is 2+1?", "r": ""}\n')
    fields = FieldMap(problem="q", response="r")
    for name in ("first", "second"):
        report = ingest_source(store, SourceConfig(name=name, reader="jsonl", path=str(path), fields=fields))
        assert report.n_rejected == 2
    stored = sql_rows(store, "SELECT source_name, source_line, reason FROM rejected_rows ORDER BY source_name, source_line")
    assert stored == [("first", 2, "malformed_json"), ("first", 3, "empty_response"),
                      ("second", 2, "malformed_json"), ("second", 3, "empty_response")]


def test_an_existing_store_migrates_its_rejected_rows(tmp_path):
    """A store made before rejected_rows carried the source keeps its rows, now named by the source that made them."""
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    for version, sql in migration_files():
        if version >= "040":
            break
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES ($v, $t)", {"v": version, "t": utcnow()})
    con.execute("INSERT INTO ingest_runs VALUES ('run1', 'old_source', 'jsonl', '/x.jsonl', 2, 0, 2, 0, '', now(), now())")
    con.execute("INSERT INTO rejected_rows VALUES ('/x.jsonl', 2, 'malformed_json', 'bad', '{', 'run1', now()),"
                " ('/x.jsonl', 3, 'bad_value', 'bad', '[', 'lost_run', now())")
    con.close()

    with Store(db) as store:
        rows = sql_rows(store, "SELECT source_name, source_path, source_line, reason FROM rejected_rows ORDER BY source_line")
        assert rows == [("old_source", "/x.jsonl", 2, "malformed_json"), ("(unknown)", "/x.jsonl", 3, "bad_value")]
        # the key includes the source now: another source's rejection of the same line is kept
        cur = store.cursor()
        cur.execute("INSERT INTO rejected_rows VALUES ('new_source', '/x.jsonl', 2, 'malformed_json', 'bad', '{', 'run2', now())")
        cur.close()
        assert sql_rows(store, "SELECT count(*) FROM rejected_rows") == [(3,)]
        assert store.migrate() == []  # applied once
    with Store(db) as again:
        assert sql_rows(again, "SELECT count(*) FROM rejected_rows") == [(3,)]


# -- 10.16 a source path that does not exist ---------------------------------------------------------------


def _config_with(tmp_path: Path, sources: list[dict]) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "sources": sources}))
    return path


def test_missing_source_paths_are_found_at_config_load(tmp_path):
    good = write_jsonl(tmp_path / "ok.jsonl", [{"q": "a", "r": "b"}])
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "notes.txt").write_text("not json")
    cfg = load_config(_config_with(tmp_path, [
        {"name": "ok", "reader": "jsonl", "path": str(good), "fields": {"problem": "q", "response": "r"}},
        {"name": "gone", "reader": "jsonl", "path": str(tmp_path / "absent.jsonl"), "fields": {"problem": "q", "response": "r"}},
        {"name": "gone_too", "reader": "processbench", "path": str(tmp_path / "nowhere")},
        {"name": "no_json", "reader": "jsonl", "path": str(tmp_path / "texts"), "fields": {"problem": "q", "response": "r"}},
    ]))
    cfg.check_sources(["ok"])  # only the selected sources are checked
    with pytest.raises(ConfigError) as info:
        cfg.check_sources()
    message = str(info.value)
    assert "'gone'" in message and "absent.jsonl" in message and "'gone_too'" in message and "nowhere" in message
    assert "fix `path`" in message and "'ok'" not in message
    assert "source 'no_json': no .jsonl/" in message and "notes.txt" in message


def test_pipeline_cli_stops_before_prefect_starts_on_a_missing_path(tmp_path):
    # imported outside any capture of our own: Prefect binds its log handlers to sys.stderr at import, and a
    # test's capsys stream is closed after the test (later flows would then log into a closed file)
    from flows.pipeline import main

    config = _config_with(tmp_path, [{"name": "gone", "reader": "jsonl", "path": str(tmp_path / "absent.jsonl"),
                                      "fields": {"problem": "q", "response": "r"}}])
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(["--config", str(config)]) == 2
    err = stderr.getvalue()
    assert "source 'gone'" in err and "absent.jsonl" in err and "Traceback" not in err
