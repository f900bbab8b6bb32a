"""Issue 12: bring your own labelled data. The grown-up field map, the SQL source and the dry run, on real files.

The two "done when" cases: a pretty-printed JSON array with string labels, 'N/A' sentinels and steps as lists
of lists ingests with the field map alone; labels on sibling rows ingest with the SQL source.
"""

from __future__ import annotations

import gzip
import json

import pytest

from rubricate.config import FieldMap, SourceConfig, parse_config
from rubricate.errors import IngestError
from rubricate.ingest import ingest_source
from rubricate.ingest.preview import preview_source
from tests.helpers import sql_rows


def source_from_yaml_dict(data: dict) -> SourceConfig:
    """Through the same validation as a config file (so `from:` and YAML's keys are what users write)."""
    return parse_config({"sources": [data]}).sources[0]


# -- done when (1): a pretty-printed JSON array, string labels, N/A sentinels, steps as lists of lists ------


def test_pretty_json_array_with_string_labels_sentinels_and_nested_steps(store, tmp_path):
    records = [
        {"uid": "r1", "question": "What is 2+3?", "sections": [["2+3", "= 5."], ["So the answer is 5."]],
         "verdict": "correct", "first_wrong": "N/A", "gold": "5"},
        {"uid": "r2", "question": "What is 4*3?", "sections": [["4*3", "= 7."], ["So the answer is 7."]],
         "verdict": "wrong", "first_wrong": "1", "gold": "12"},
        {"uid": "r3", "question": "What is 9-1?", "sections": [["9-1 = 8."], ["The answer is 9."]],
         "verdict": "wrong", "first_wrong": "N/A", "gold": "8"},
        {"uid": "r4", "question": "What is 1+1?", "sections": [["1+1 = 2."]], "verdict": "maybe", "first_wrong": "N/A", "gold": "2"},
    ]
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(records, indent=2))  # one record over many lines
    source = source_from_yaml_dict({
        "name": "mine", "reader": "jsonl", "path": str(path), "step_base": 1,
        "fields": {
            "problem": "question", "steps": "sections", "gold_answer": "gold", "id": "uid",
            "label_correct": {"from": "verdict", "map": {"correct": True, "wrong": False}},
            "label_first_error_step": "first_wrong",
            "nulls": ["N/A"],
        },
    })
    report = ingest_source(store, source)
    assert (report.n_in, report.n_accepted, report.n_rejected) == (4, 3, 1)  # records, not lines
    detail = sql_rows(store, "SELECT detail FROM rejected_rows")[0][0]
    assert "'maybe'" in detail and "`map`" in detail and "verdict" in detail
    rows = sql_rows(store, "SELECT source_id, label_correct, label_first_error_step, steps FROM traces ORDER BY source_id")
    assert rows == [
        ("r1", True, None, ["2+3\n= 5.", "So the answer is 5."]),
        ("r2", False, 0, ["4*3\n= 7.", "So the answer is 7."]),
        ("r3", False, None, ["9-1 = 8.", "The answer is 9."]),
    ]


# -- done when (2): labels on sibling rows, joined by the SQL source --------------------------------------


def test_sql_source_joins_labels_from_sibling_rows_and_shares_the_accounting(store, tmp_path):
    folder = tmp_path / "it's here"  # a quote in the path: {path} must be quoted safely
    folder.mkdir()
    rows = [
        {"group_id": "g1", "role": "attempt", "question": "What is 2+3?", "text": "2+3 = 5. The answer is 5.", "grade": "ok"},
        {"group_id": "g1", "role": "gold", "answer": "5"},
        {"group_id": "g2", "role": "attempt", "question": "What is 6/2?", "text": "6/2 = 2. The answer is 2.", "grade": "bad", "step": 1},
        {"group_id": "g2", "role": "gold", "answer": "3"},
        {"group_id": "g3", "role": "attempt", "question": "What is 1+0?", "text": "", "grade": "ok"},
    ]
    path = folder / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    source = source_from_yaml_dict({
        "name": "siblings", "reader": "sql", "path": str(path), "step_base": 1,
        "query": """
            SELECT a.group_id AS id, a.question AS problem, a.text AS response, g.answer AS gold_answer,
                   CASE a.grade WHEN 'ok' THEN true WHEN 'bad' THEN false END AS label_correct,
                   a.step AS label_first_error_step, 'math' AS domain
            FROM read_json_auto({path}) a
            LEFT JOIN read_json_auto({path}) g ON g.group_id = a.group_id AND g.role = 'gold'
            WHERE a.role = 'attempt'
            ORDER BY a.group_id
        """,
    })
    report = ingest_source(store, source)
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (3, 2, 1, 0)
    assert report.rejected_by_reason == {"empty_response": 1}
    got = sql_rows(store, "SELECT dataset, source_id, gold_answer, label_correct, label_first_error_step, domain FROM traces ORDER BY source_id")
    assert got == [("siblings", "g1", "5", True, None, "math"), ("siblings", "g2", "3", False, 0, "math")]
    assert sql_rows(store, "SELECT source_name, source_line, reason FROM rejected_rows") == [("siblings", 3, "empty_response")]
    assert ingest_source(store, source).n_duplicates == 2  # idempotent like every reader


def test_sql_source_errors_name_the_source_and_the_fix(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"q": "a", "r": "b"}\n')
    from rubricate.ingest.readers import get_reader

    no_problem = SourceConfig(name="s", reader="sql", path=str(path), query="SELECT q AS question, r AS response FROM read_json_auto({path})")
    with pytest.raises(IngestError, match=r"source 's'.*`problem` column"):
        list(get_reader("sql").read(no_problem))
    broken = SourceConfig(name="s", reader="sql", path=str(path), query="SELEC nothing")
    with pytest.raises(IngestError, match=r"source 's': the query failed"):
        list(get_reader("sql").read(broken))
    with pytest.raises(Exception, match="needs `query`"):
        SourceConfig(name="s", reader="sql", path=str(path))


# -- the field map's other features ---------------------------------------------------------------------


def test_paths_into_lists_of_objects_per_step_flags_and_list_valued_steps(store, tmp_path):
    records = [
        {"id": "a", "q": "Compute 3*4.", "sections": [{"content": "3*4 = 12"}, {"content": "Answer: 12"}],
         "step_level": [{"has_error": "no"}, {"has_error": "no"}]},
        {"id": "b", "q": "Compute 5*5.", "sections": [{"content": "5*5 = 20"}, {"content": "so 20"}, {"content": "Answer: 20"}],
         "step_level": [{"has_error": "yes"}, {"has_error": "yes"}, {"has_error": "no"}]},
        {"id": "c", "q": "Compute 2*2.", "sections": [{"content": "2*2 = 4"}, {"text": "oops"}],
         "step_level": [{"has_error": "no"}, {"has_error": "no"}]},
    ]
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(records))
    report = ingest_source(store, source_from_yaml_dict({
        "name": "nested", "reader": "jsonl", "path": str(path),
        "fields": {"problem": "q", "steps": "sections[*].content", "id": "id",
                   "label_first_error_step": {"from": "step_level[*].has_error", "reduce": "first_true",
                                              "map": {"yes": True, "no": False}}},
    }))
    assert (report.n_accepted, report.n_rejected) == (2, 1)
    assert "element 1 lacks the path" in sql_rows(store, "SELECT detail FROM rejected_rows")[0][0]
    assert sql_rows(store, "SELECT source_id, steps, label_first_error_step, label_correct FROM traces ORDER BY source_id") == [
        ("a", ["3*4 = 12", "Answer: 12"], None, None),
        ("b", ["5*5 = 20", "so 20", "Answer: 20"], 0, False),  # a first error implies a wrong trace
    ]
    assert report.implied_labels == {"label_correct=false implied by a first error step": 1}


def test_reducer_pattern_otherwise_and_the_correct_label_wins(store, tmp_path):
    rows = [
        {"q": "P1", "r": "s1\n\ns2\n\ns3", "verdict": "Correct", "steps_wrong": []},
        {"q": "P2", "r": "s1\n\ns2\n\ns3", "verdict": "Step 2", "steps_wrong": [3, 2]},
        {"q": "P3", "r": "s1\n\ns2\n\ns3", "verdict": "Incorrect", "steps_wrong": [3]},
        {"q": "P4", "r": "s1\n\ns2", "verdict": "Correct", "steps_wrong": [1]},  # labelled correct: no first error
    ]
    path = tmp_path / "verdicts.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
    report = ingest_source(store, source_from_yaml_dict({
        "name": "verdicts", "reader": "jsonl", "path": str(path), "step_base": 1,
        "fields": {"problem": "q", "response": "r",
                   "label_correct": {"from": "verdict", "map": {"Correct": True}, "otherwise": False},
                   "label_error_type": {"from": "verdict", "map": {"Correct": None, "Incorrect": None}, "pattern": "^(Step) \\d+$"},
                   "label_first_error_step": {"from": "steps_wrong", "reduce": "min"}},
    }))
    assert report.n_accepted == 4
    assert sql_rows(store, "SELECT problem, label_correct, label_first_error_step, label_error_type FROM traces ORDER BY problem") == [
        ("P1", True, None, None), ("P2", False, 1, "Step"), ("P3", False, 2, None), ("P4", True, None, None)]
    assert report.implied_labels == {"first error step cleared: the trace is labelled correct": 1}
    assert json.loads(sql_rows(store, "SELECT extra FROM traces WHERE problem = 'P4'")[0][0])["ignored_label_first_error_step"] == 0


def test_a_list_valued_step_without_a_reducer_is_rejected_with_the_fix(store, tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text(json.dumps({"q": "P", "r": "a\n\nb", "e": [1, 2]}) + "\n")
    report = ingest_source(store, SourceConfig(name="l", reader="jsonl", path=str(path),
                                               fields=FieldMap(problem="q", response="r", label_first_error_step="e")))
    assert report.rejected_by_reason == {"bad_value": 1}
    assert "set `reduce`" in sql_rows(store, "SELECT detail FROM rejected_rows")[0][0]


def test_a_folder_of_single_object_json_files_is_one_row_per_file(store, tmp_path):
    for i in range(3):
        (tmp_path / f"rec{i}.json").write_text(json.dumps({"q": f"Problem {i}", "r": f"Answer {i}"}, indent=2))
    report = ingest_source(store, SourceConfig(name="objs", reader="jsonl", path=str(tmp_path), fields=FieldMap(problem="q", response="r")))
    assert (report.n_in, report.n_accepted) == (3, 3)


def test_a_broken_json_document_is_one_rejection_not_one_per_line(store, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps([{"q": "a", "r": "b"}] * 50, indent=2)[:-5])
    report = ingest_source(store, SourceConfig(name="b", reader="jsonl", path=str(path), fields=FieldMap(problem="q", response="r")))
    assert (report.n_in, report.n_rejected, report.rejected_by_reason) == (1, 1, {"malformed_json": 1})
    assert "broken.json" in sql_rows(store, "SELECT detail FROM rejected_rows")[0][0]


# -- the dry run ----------------------------------------------------------------------------------------------


def test_preview_shows_rows_labels_empty_fields_and_warns_on_misaligned_steps(store, tmp_path):
    rows = [{"q": f"P{i}", "text": "one step only", "err": 3 if i % 2 else None, "ok": i % 2 == 0} for i in range(6)]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    source = SourceConfig(name="peek", reader="jsonl", path=str(path), step_base=1,
                          fields=FieldMap(problem="q", response="text", label_first_error_step="err", label_correct="ok",
                                          gold_answer="meta.gold"))
    preview = preview_source(source, n_show=2)
    assert (preview.n_scanned, preview.n_valid, preview.n_outside) == (6, 3, 3)
    assert preview.labels["label_correct"] == {"True": 3, "False": 3}
    assert preview.empty_share()["gold_answer"] == 1.0 and preview.empty_share()["problem"] == 0.0
    text = preview.render()
    assert "3 of 3 labelled first-error steps fall outside" in text
    assert "gold_answer (meta.gold) matched nothing" in text
    assert "-- mapped row 1 (line 1)" in text and "problem: P0" in text
    assert sql_rows(store, "SELECT count(*) FROM traces") == [(0,)]  # wrote nothing


def test_pipeline_dry_run_prints_the_preview_without_prefect(tmp_path):
    import contextlib
    import io

    import yaml

    from flows.pipeline import main  # outside any capture of ours (see test_hardening's CLI test)

    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"q": "What is 1+1?", "r": "2"}) + "\n")
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"),
                                      "sources": [{"name": "d", "reader": "jsonl", "path": str(path), "fields": {"problem": "q", "response": "r"}}]}))
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["--config", str(config), "--dry-run"]) == 0
    out = stdout.getvalue()
    assert "source 'd'" in out and "problem: What is 1+1?" in out
    assert not (tmp_path / "data" / "rubricate.duckdb").exists()


def test_a_real_pretty_printed_array_ingests_with_the_field_map_alone_and_agrees_with_its_reader(store):
    """ProcessBench's gsm8k.json (a pretty-printed array, 0-based first-error labels, -1 = all correct) through the
    generic reader gives the same labels as the dedicated ProcessBench reader."""
    from tests.conftest import shared_data

    path = shared_data("processbench", "gsm8k.json")
    mapped = source_from_yaml_dict({
        "name": "pb_generic", "reader": "jsonl", "path": str(path),
        "fields": {"problem": "problem", "steps": "steps", "id": "id", "model": "generator",
                   "label_final_answer_correct": "final_answer_correct", "label_first_error_step": "label",
                   "label_correct": {"from": "label", "map": {"-1": True}, "otherwise": False}},
    })
    report = ingest_source(store, mapped)
    assert (report.n_in, report.n_accepted, report.n_rejected) == (400, 400, 0)
    ingest_source(store, SourceConfig(name="processbench", reader="processbench", path=str(path)))
    differing = sql_rows(store, """
        SELECT count(*) FROM traces g JOIN traces p ON p.source_id = g.source_id AND p.dataset = 'processbench'
        WHERE g.dataset = 'pb_generic' AND (g.steps IS DISTINCT FROM p.steps OR g.label_correct IS DISTINCT FROM p.label_correct
              OR g.label_first_error_step IS DISTINCT FROM p.label_first_error_step
              OR g.label_final_answer_correct IS DISTINCT FROM p.label_final_answer_correct OR g.model IS DISTINCT FROM p.model)""")
    assert differing == [(0,)]
    assert sql_rows(store, "SELECT count(*) FILTER (WHERE NOT label_correct) FROM traces WHERE dataset = 'pb_generic'") == [(207,)]


def test_a_broken_query_is_found_at_config_check(tmp_path):
    from rubricate.errors import ConfigError

    cfg = parse_config({"sources": [
        {"name": "typo", "reader": "sql", "path": str(tmp_path / "none.jsonl"), "query": "SELECT * FROM read_json_auto({path})"},
        {"name": "cols", "reader": "sql", "query": "SELECT 'p' AS question, 'r' AS response"},
    ]})
    with pytest.raises(ConfigError) as info:
        cfg.check_sources()
    assert "source 'typo': the query failed" in str(info.value) and "none.jsonl" in str(info.value)
    assert "source 'cols'" in str(info.value) and "`problem` column" in str(info.value)


def test_readme_verdict_field_with_a_step_pattern(store, tmp_path):
    path = tmp_path / "v.jsonl"
    path.write_text("".join(json.dumps({"q": f"P{i}", "r": "a\n\nb\n\nc", "verdict": v}) + "\n"
                            for i, v in enumerate(["Correct", "Incorrect", "Step 2", "Step two"])))
    report = ingest_source(store, source_from_yaml_dict({
        "name": "v", "reader": "jsonl", "path": str(path), "step_base": 1,
        "fields": {"problem": "q", "response": "r",
                   "label_correct": {"from": "verdict", "map": {"Correct": True}, "otherwise": False},
                   "label_first_error_step": {"from": "verdict", "map": {"Correct": None, "Incorrect": None}, "pattern": r"Step (\d+)"}},
    }))
    assert (report.n_accepted, report.rejected_by_reason) == (3, {"bad_value": 1})
    assert "does not match `pattern`" in sql_rows(store, "SELECT detail FROM rejected_rows")[0][0]
    assert sql_rows(store, "SELECT problem, label_correct, label_first_error_step FROM traces ORDER BY problem") == [
        ("P0", True, None), ("P1", False, None), ("P2", False, 1)]


def test_readme_sql_source_joins_labels_from_another_file(store, tmp_path):
    (tmp_path / "traces.jsonl").write_text(
        json.dumps({"uid": "t1", "question": "What is 2+3?", "sections": [{"content": "2+3 = 5."}, {"content": "So 5."}]}) + "\n"
        + json.dumps({"uid": "t2", "question": "What is 6/2?", "sections": [{"content": "6/2 = 2."}, {"content": "So 2."}]}) + "\n")
    (tmp_path / "labels.csv").write_text("uid,verdict,first_wrong_step,gold\nt1,correct,,5\nt2,wrong,1,3\n")
    labels = str(tmp_path / "labels.csv").replace("'", "''")
    report = ingest_source(store, source_from_yaml_dict({
        "name": "joined", "reader": "sql", "path": str(tmp_path / "traces.jsonl"), "step_base": 1,
        "query": f"""
            SELECT t.uid AS id, t.question AS problem, [s.content FOR s IN t.sections] AS steps, l.gold AS gold_answer,
                   l.verdict = 'correct' AS label_correct, l.first_wrong_step AS label_first_error_step
            FROM read_json_auto({{path}}) t
            JOIN read_csv('{labels}') l USING (uid)""",
    }))
    assert (report.n_in, report.n_accepted) == (2, 2)
    assert sql_rows(store, "SELECT source_id, steps, gold_answer, label_correct, label_first_error_step FROM traces ORDER BY source_id") == [
        ("t1", ["2+3 = 5.", "So 5."], "5", True, None), ("t2", ["6/2 = 2.", "So 2."], "3", False, 0)]


def test_value_rules_that_cannot_apply_are_config_errors():
    from rubricate.errors import ConfigError

    for fields, message in [
        ({"problem": "q", "response": "r", "label_correct": {"from": "v", "reduce": "first_true"}}, "for label_first_error_step"),
        ({"problem": "q", "steps": {"from": "s", "map": {"a": "b"}}}, "steps take `from` and `nulls`"),
        ({"problem": "q", "response": "r", "gold_answer": {"from": "g", "pattern": "no group"}}, "needs a group"),
        ({"problem": "q", "response": "r", "gold_answer": "a..b"}, "is not a field path"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config({"sources": [{"name": "x", "reader": "jsonl", "path": "x", "fields": fields}]})


def test_sql_decimal_values_read_as_numbers(store, tmp_path):
    source = SourceConfig(name="dec", reader="sql", query="""
        SELECT 'What is 3/2?' AS problem, 'It is 1.5.' AS response, 1.5 AS gold_answer, 2.0 AS label_first_error_step""")
    report = ingest_source(store, source)
    assert report.n_accepted == 0 and report.rejected_by_reason == {"bad_value": 1}  # step 2 of a one-step trace
    ok = SourceConfig(name="dec2", reader="sql", query="SELECT 'What is 3/2?' AS problem, 'It is 1.5.' AS response, 1.5 AS gold_answer")
    assert ingest_source(store, ok).n_accepted == 1
    assert sql_rows(store, "SELECT gold_answer FROM traces") == [("1.5",)]


def test_yaml_numbers_and_booleans_work_as_nulls_and_map_keys(store, tmp_path):
    import yaml

    path = tmp_path / "n.jsonl"
    path.write_text("".join(json.dumps({"q": f"P{i}", "r": "a\n\nb", "e": e, "g": g}) + "\n"
                            for i, (e, g) in enumerate([(-1, 1), (2, 0), (-1, 1)])))
    data = yaml.safe_load(f"""
        name: n
        reader: jsonl
        path: {path}
        step_base: 1
        fields:
          problem: q
          response: r
          label_first_error_step: {{from: e, nulls: [-1]}}
          label_final_answer_correct: {{from: g, map: {{1: yes, 0: no}}}}
    """)
    report = ingest_source(store, source_from_yaml_dict(data))
    assert report.n_accepted == 3
    assert sql_rows(store, "SELECT problem, label_first_error_step, label_final_answer_correct, label_correct FROM traces ORDER BY problem") == [
        ("P0", None, True, None), ("P1", 1, False, False), ("P2", None, True, None)]


def test_preview_suggests_step_base_when_labels_look_one_based(tmp_path):
    path = tmp_path / "one_based.jsonl"
    path.write_text("".join(json.dumps({"q": f"P{i}", "steps": ["a", "b", "c"], "err": 3 if i < 3 else 1}) + "\n" for i in range(5)))
    source = SourceConfig(name="ob", reader="jsonl", path=str(path),
                          fields=FieldMap(problem="q", response=None, steps="steps", label_first_error_step="err"))
    preview = preview_source(source)
    assert (preview.n_outside, preview.n_valid) == (3, 2)
    assert "are the labels 1-based? set `step_base: 1`" in preview.render()


def test_mapping_only_steps_does_not_warn_about_the_response_path(store, tmp_path):
    """response and steps are alternatives: a source that gives steps is not told its `response` path matched nothing."""
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps({"q": f"P{i}", "s": ["a", "b"], "meta": {}}) + "\n" for i in range(3)))
    fields = FieldMap(problem="q", steps="s", gold_answer="meta.gold")
    report = ingest_source(store, SourceConfig(name="st", reader="jsonl", path=str(path), fields=fields))
    assert report.n_accepted == 3
    assert report.warnings == ["mapped path gold_answer (meta.gold) matched nothing in all 3 rows: check its spelling in `fields`"]
