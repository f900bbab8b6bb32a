"""BIG-Bench Mistake: chain-of-thought traces on five BIG-Bench tasks with the first logical mistake marked.

Layout: one JSONL file per task (dyck_languages, logical_deduction, multistep_arithmetic,
tracking_shuffled_objects, word_sorting). Each row: input, steps, mistake_index, target, answer.

Mapping: split = task (file stem); problem = `input`; `mistake_index` is 0-based and null means no mistake
-> label_first_error_step, label_correct = (mistake_index is null); gold_answer = `target`;
label_final_answer_correct = (`answer` == `target`, both stripped), since the set gives the extracted answer.
The rows carry no ids, so source_id stays empty and identical rows would count as duplicates.
domain per task: multistep_arithmetic is math; logical_deduction and tracking_shuffled_objects are logic;
dyck_languages and word_sorting are symbol manipulation ("symbolic").
"""

from __future__ import annotations

from functools import partial
from typing import Any, Iterator

from rubricate.config import SourceConfig
from rubricate.ingest.readers._common import RowError, jsonl_rows, map_rows, require, require_object, string_list, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, TraceDraft

DOMAIN_BY_TASK = {
    "multistep_arithmetic": "math",
    "logical_deduction": "logic",
    "tracking_shuffled_objects": "logic",
    "dyck_languages": "symbolic",
    "word_sorting": "symbolic",
}


def map_row(row: Any, line: int, task: str) -> TraceDraft:
    row = require_object(row)
    problem = require(row, "input", str, "problem")
    steps = string_list(row, "steps")
    mistake = row.get("mistake_index")
    if mistake is not None and (isinstance(mistake, bool) or not isinstance(mistake, int) or mistake < 0):
        raise RowError("bad_value", f"'mistake_index' must be a 0-based step index or null, got {mistake!r}")
    target = text_or_none(row.get("target"))
    answer = text_or_none(row.get("answer"))
    return TraceDraft(
        line=line,
        problem=problem,
        steps=steps,
        gold_answer=target,
        split=task,
        domain=DOMAIN_BY_TASK.get(task, "logic"),
        label_correct=mistake is None,
        label_final_answer_correct=(answer == target) if target is not None and "answer" in row else None,
        label_first_error_step=mistake,
        extra={"answer": row.get("answer")} | {k: v for k, v in row.items() if k not in {"input", "steps", "mistake_index", "target", "answer"}},
    )


class BigBenchMistakeReader:
    dataset = "big_bench_mistake"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        for file in input_files(source, (".jsonl",)):
            yield from map_rows(jsonl_rows(file), file, partial(map_row, task=file.stem))
