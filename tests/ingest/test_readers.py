"""The built-in dataset readers on the real public sets in ../shared/data (skipped when absent).

Counts are the measured ones for the snapshot described in ../shared/data/*/SOURCE.txt; each test also pins
the label normalisation on specific real rows (0-based steps, correct/incorrect, gold answers).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from rubricate.config import SourceConfig
from rubricate.errors import IngestError
from rubricate.ingest import ingest_source
from rubricate.ingest.problems import ingest_problem_set, is_problem_set
from rubricate.ingest.readers import get_reader
from tests.conftest import shared_data
from tests.helpers import sql_rows


def src(name: str, reader: str, path: Path | str | None, **kw) -> SourceConfig:
    return SourceConfig(name=name, reader=reader, path=str(path) if path is not None else None, **kw)




def one(store, sql: str, params: dict | None = None) -> dict:
    cur = store.cursor()
    try:
        found = cur.execute(sql, params or {}).fetchall()
        names = [d[0] for d in cur.description]
    finally:
        cur.close()
    assert len(found) == 1, found
    return dict(zip(names, found[0]))


def counts_by(store, dataset: str, column: str) -> dict:
    return dict(sql_rows(store, f"SELECT {column}, count(*) FROM traces WHERE dataset = $d GROUP BY 1", {"d": dataset}))


# -- ProcessBench -----------------------------------------------------------------------------------------


def test_processbench_full_set_counts_labels_and_reingest(store):
    folder = shared_data("processbench")
    report = ingest_source(store, src("processbench", "processbench", folder))
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (3400, 3400, 0, 0)
    assert counts_by(store, "processbench", "split") == {"gsm8k": 400, "math": 1000, "olympiadbench": 1000, "omnimath": 1000}
    erroneous = sql_rows(store, "SELECT count(*) FILTER (WHERE NOT label_correct), count(label_first_error_step) FROM traces")[0]
    assert erroneous == (2221, 2221)
    # label -1 means all steps correct: no first error step, label_correct true
    assert sql_rows(store, "SELECT count(*) FROM traces WHERE label_correct AND label_first_error_step IS NOT NULL") == [(0,)]

    row = one(store, "SELECT * FROM traces WHERE source_id = 'gsm8k-0'")
    assert row["label_first_error_step"] == 1 and row["label_correct"] is False and row["label_final_answer_correct"] is False
    assert row["model"] == "Qwen2-7B-Instruct" and row["domain"] == "math" and len(row["steps"]) == 4
    assert row["steps"][1].startswith("On Saturday, they take back one third")
    assert row["source_line"] == 1 and row["source_path"].endswith("gsm8k.json")

    again = ingest_source(store, src("processbench", "processbench", folder))
    assert (again.n_in, again.n_accepted, again.n_duplicates) == (3400, 0, 3400)
    assert sql_rows(store, "SELECT count(*) FROM traces") == [(3400,)]


def test_processbench_single_file(store):
    report = ingest_source(store, src("pb", "processbench", shared_data("processbench", "gsm8k.json")))
    assert (report.n_in, report.n_accepted) == (400, 400)
    assert sql_rows(store, "SELECT count(*) FROM traces WHERE NOT label_correct") == [(207,)]


# -- PRMBench ---------------------------------------------------------------------------------------------


def test_prmbench_folder(store):
    report = ingest_source(store, src("prmbench", "prmbench", shared_data("prmbench")))
    # subset400 repeats 394 classified rows exactly (same class, idx, question, process): duplicates, not new traces
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (6610, 6200, 16, 394)
    assert report.rejected_by_reason == {"bad_value": 16}  # error_steps beyond the end of modified_process
    bad = sql_rows(store, "SELECT detail FROM rejected_rows WHERE reason = 'bad_value' AND source_line = 193 AND source_path LIKE '%p2_4o_confidence%'")
    assert bad and "outside the trace's 23 steps" in bad[0][0]

    splits = counts_by(store, "prmbench", "split")
    assert splits["multi_solutions"] == 165 and splits["circular"] == 758 and len(splits) == 9

    circular = one(store, "SELECT * FROM traces WHERE source_id = 'prm_test_p1_0' AND split = 'circular'")
    assert circular["label_first_error_step"] == 2  # error_steps [3, 4, 5] are 1-based
    assert circular["label_error_type"] == "circular" and circular["label_correct"] is False
    assert circular["label_error_description"].startswith("Steps 3, 4, and 5 introduce circular reasoning")
    assert circular["gold_answer"] == "29"  # from the multi_solutions row of the same question
    assert circular["steps"][2].startswith("3. Assume a pencil costs 29 cents")
    extra = json.loads(circular["extra"])
    assert extra["error_steps"] == [3, 4, 5] and extra["has_original_process"] is True and "original_process" not in extra

    multi = sql_rows(store, "SELECT bool_and(label_correct), bool_and(label_final_answer_correct), count(label_first_error_step), count(gold_answer) "
                        "FROM traces WHERE split = 'multi_solutions'")[0]
    assert multi == (True, True, 0, 165)
    # a modified question keeps no borrowed gold answer
    assert one(store, "SELECT gold_answer FROM traces WHERE source_id = 'prm_test_p1_0' AND split = 'missing_condition'")["gold_answer"] is None


def test_prmbench_subset_alone(store):
    report = ingest_source(store, src("prm400", "prmbench", shared_data("prmbench", "subset400")))
    assert report.n_in == 394 and report.n_duplicates == 0
    assert report.n_accepted + report.n_rejected == 394
    assert sql_rows(store, "SELECT count(*) FROM traces WHERE split = 'multi_solutions'") == [(10,)]


# -- MR-Ben -----------------------------------------------------------------------------------------------


def test_mr_ben_all_subjects(store):
    report = ingest_source(store, src("mr_ben", "mr_ben", shared_data("mr_ben")))
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (4534, 4533, 1, 0)
    assert counts_by(store, "mr_ben", "domain") == {"biology": 1035, "chemistry": 848, "code": 238, "math": 918, "medicine": 827, "physics": 667}
    assert sql_rows(store, "SELECT count(*) FROM traces WHERE source_path LIKE '%k_shot_demo%'") == [(0,)]
    assert sql_rows(store, "SELECT count(*) FILTER (WHERE NOT label_correct), count(label_first_error_step) FROM traces") == [(2735, 2722)]

    claude = one(store, "SELECT * FROM traces WHERE source_id = '855fe031-17d9-482d-b10f-a2646a14786f' AND model = 'Claude2'")
    assert claude["label_first_error_step"] == 0  # "1" in the source is 1-based
    assert claude["label_correct"] is False and claude["gold_answer"] == "A" and claude["split"] == "college_math"
    assert claude["problem"].endswith("D: 2sqrt(2)")  # options are part of the problem
    assert claude["label_error_description"].startswith("In this step, the model mistakenly believes")
    assert len(json.loads(claude["extra"])["error_reasons"]) == 2

    gpt = one(store, "SELECT * FROM traces WHERE source_id = '855fe031-17d9-482d-b10f-a2646a14786f' AND model = 'GPT3.5'")
    assert gpt["label_first_error_step"] == 4 and gpt["steps"][4].startswith("Step 5: The derivative of d")

    code = one(store, "SELECT * FROM traces WHERE source_id = 'f4a72d1a-496c-4710-8568-5f15b9738df7' AND model = 'Claude2'")
    assert code["domain"] == "code" and code["gold_answer"] is None
    assert code["steps"][code["label_first_error_step"]].strip() == "# Find a substring of length 2"
    assert code["response"].startswith("def divide_string(s: str) -> bool:")


# -- BIG-Bench Mistake ------------------------------------------------------------------------------------


def test_big_bench_mistake(store):
    report = ingest_source(store, src("bbm", "big_bench_mistake", shared_data("big_bench_mistake")))
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (2186, 2186, 0, 0)
    assert counts_by(store, "big_bench_mistake", "split") == {
        "dyck_languages": 986, "logical_deduction": 300, "multistep_arithmetic": 300, "tracking_shuffled_objects": 300, "word_sorting": 300}
    assert counts_by(store, "big_bench_mistake", "domain") == {"symbolic": 1286, "logic": 600, "math": 300}
    assert sql_rows(store, "SELECT count(*) FILTER (WHERE NOT label_correct), count(label_first_error_step) FROM traces") == [(1708, 1708)]

    dyck = one(store, "SELECT * FROM traces WHERE split = 'dyck_languages' AND source_line = 1")
    assert dyck["label_first_error_step"] == 12 and dyck["gold_answer"] == "] }" and dyck["label_final_answer_correct"] is False
    assert dyck["steps"][12] == "] ; stack: {"
    arith = one(store, "SELECT * FROM traces WHERE split = 'multistep_arithmetic' AND source_line = 1")
    assert arith["label_first_error_step"] == 3 and arith["gold_answer"] == "-2116"


# -- MathDial ---------------------------------------------------------------------------------------------


def test_mathdial(store):
    report = ingest_source(store, src("mathdial", "mathdial", shared_data("mathdial_stepwise", "dataset.json")))
    # 1,002 teacher annotations of 612 distinct solutions: each annotation stays (source_id = array index)
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (1002, 1002, 0, 0)
    counts = "SELECT bool_or(label_correct), count(label_error_description), count(DISTINCT label_error_type), count(gold_answer) FROM traces"
    assert sql_rows(store, counts) == [(False, 707, 7, 1002)]
    first = one(store, "SELECT * FROM traces WHERE source_id = '0'")
    assert first["label_first_error_step"] == 0 and first["label_error_type"] == "Missing / Wrong factual knowledge"
    assert first["label_error_description"] == "Student mix bicycles and tires." and first["gold_answer"] == "10"
    second = one(store, "SELECT * FROM traces WHERE source_id = '1'")
    assert second["label_first_error_step"] == 1 and second["gold_answer"] == "27"
    # null descriptions stay unknown, never the string "None"
    assert sql_rows(store, "SELECT count(*) FROM traces WHERE label_error_description IN ('', 'None')") == [(0,)]


# -- DebugBench -------------------------------------------------------------------------------------------


def test_debugbench(store):
    report = ingest_source(store, src("debugbench", "debugbench", shared_data("debugbench", "debugbench_all.jsonl")))
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (4253, 4158, 0, 95)
    assert sql_rows(store, "SELECT count(*) FROM rejected_rows WHERE reason = 'duplicate'") == [(95,)]
    assert counts_by(store, "debugbench", "split") == {"cpp": 1412, "java": 1384, "python3": 1362}
    assert sql_rows(store, "SELECT bool_or(label_correct), count(label_first_error_step), count(label_error_description) FROM traces") == [(False, 4157, 2016)]

    knight = one(store, "SELECT * FROM traces WHERE source_line = 1")
    assert knight["source_id"] == "knight-dialer" and knight["split"] == "cpp" and knight["domain"] == "code"
    assert knight["label_error_type"] == "condition error" and "loop bounds" in knight["label_error_description"]
    assert knight["steps"][knight["label_first_error_step"]].strip() == "ans= (ans+f(nums,x,y,n))%mod;"  # first diff vs the oracle
    assert knight["problem"].startswith("The chess knight has a unique movement") and "Constraints:\n1 <= n <= 5000" in knight["problem"]
    extra = json.loads(knight["extra"])
    assert extra["bug_major_category"] == "logic" and extra["first_error_step_from"] == "diff"

    multi = sql_rows(store, "SELECT label_error_type, extra->>'bug_subtype' FROM traces WHERE extra->>'bug_major_category' = 'multiple' LIMIT 200")
    assert all(" + " in t and s in ("double", "triple", "quadruple") for t, s in multi)


# -- verl -------------------------------------------------------------------------------------------------


def test_verl_problem_set_goes_to_problems_table(store):
    path = shared_data("big_math_5k", "bigmath_rl_tinyv_train.parquet")
    as_traces = src("bigmath", "verl", path)
    with pytest.raises(IngestError, match="problems_only"):
        ingest_source(store, as_traces)

    source = src("bigmath", "verl", path, options={"problems_only": True})
    assert is_problem_set(source)
    with pytest.raises(IngestError, match="ingest_problem_set"):
        ingest_source(store, source)
    report = ingest_problem_set(store, source)
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (5000, 5000, 0, 0)
    first = one(store, "SELECT * FROM problems WHERE source_id = '0'")
    assert first["gold_answer"] == "12.36\\%" and first["split"] == "bigmath_rl_tinyv" and first["domain"] == "math"
    assert first["problem"].startswith("increasing the original price of an article by 6 percent")
    assert json.loads(first["prompt"])[0]["role"] == "user"
    assert json.loads(first["extra"])["source"] == "orca_math"

    again = ingest_problem_set(store, source)
    assert (again.n_accepted, again.n_duplicates) == (0, 5000)
    assert sql_rows(store, "SELECT count(*) FROM problems") == [(5000,)]
    assert sql_rows(store, "SELECT count(*) FROM traces") == [(0,)]


def test_verl_rollout_dump_gives_one_trace_per_response(store, tmp_path):
    prompt = lambda q: [{"role": "system", "content": "Be brief."}, {"role": "user", "content": q}]  # noqa: E731
    pl.DataFrame({
        "prompt": [prompt("1+1?"), prompt("2+2?"), prompt("3+3?")],
        "responses": [["2", "\\boxed{2}", "3"], [], ["6", "", None]],
        "reward_model": [{"ground_truth": "2", "style": "rule"}, {"ground_truth": "4", "style": "rule"}, {"ground_truth": "6", "style": "rule"}],
        "data_source": ["toy"] * 3,
        "ability": ["math"] * 3,
    }).write_parquet(tmp_path / "rollouts.parquet")
    report = ingest_source(store, src("rollouts", "verl", tmp_path / "rollouts.parquet"))
    # 3 responses, an empty list, then a good one, an empty string and a null
    assert (report.n_in, report.n_accepted, report.n_rejected) == (7, 4, 3)
    assert report.rejected_by_reason == {"empty_response": 3}
    got = sql_rows(store, "SELECT problem, response, gold_answer, split, source_path FROM traces ORDER BY source_line, response")
    assert got[0][:4] == ("1+1?", "2", "2", "toy") and got[0][4].endswith("rollouts.parquet#responses[0]")
    stored = sql_rows(store, "SELECT source_path, source_line, reason FROM rejected_rows ORDER BY source_line, source_path")
    assert [(p.rsplit("/", 1)[-1], line, r) for p, line, r in stored] == [
        ("rollouts.parquet", 2, "empty_response"), ("rollouts.parquet#responses[1]", 3, "empty_response"),
        ("rollouts.parquet#responses[2]", 3, "empty_response")]


# -- every reader ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["processbench", "prmbench", "mr_ben", "big_bench_mistake", "mathdial", "debugbench", "verl"])
def test_missing_path_is_a_clear_error(reader, tmp_path):
    source = src("s", reader, tmp_path / "nowhere")
    with pytest.raises(IngestError, match="does not exist; fix `path`"):
        list(get_reader(reader).read(source))


def test_broken_json_file_is_a_rejected_row_not_a_crash(store, tmp_path):
    folder = tmp_path / "pb"
    folder.mkdir()
    (folder / "gsm8k.json").write_text(json.dumps([
        {"id": "a", "generator": "m", "problem": "p", "steps": ["s1", "s2"], "label": 5, "final_answer_correct": False},
        {"id": "b", "generator": "m", "problem": "p", "steps": "not a list", "label": -1},
        {"id": "c", "generator": "m", "steps": ["s"], "label": -1},
        {"id": "d", "generator": "m", "problem": "p", "steps": ["s"], "label": -1, "final_answer_correct": True},
    ]))
    (folder / "math.json").write_text('[{"id": "x", ')
    report = ingest_source(store, src("pb", "processbench", folder))
    assert (report.n_in, report.n_accepted) == (5, 1)
    assert report.rejected_by_reason == {"bad_value": 2, "missing_field": 1, "malformed_json": 1}
    reasons = sql_rows(store, "SELECT source_line, reason FROM rejected_rows ORDER BY source_path, source_line")
    assert reasons == [(1, "bad_value"), (2, "bad_value"), (3, "missing_field"), (1, "malformed_json")]
