"""MathDial (stepwise, from verify-then-generate): wrong student solutions with the teacher-marked first error.

Layout: `dataset.json`, one JSON array. Each row: problem, reference_solution, student_incorrect_solution
(steps), incorrect_index, incorrect_step, error_category, error_description, dialog_history,
student_correct_response, topic.

Mapping: steps = `student_incorrect_solution`; `incorrect_index` is 0-based -> label_first_error_step;
label_error_type = `error_category` (7 values); label_error_description = `error_description` (null or empty
-> None); label_correct = False (every solution here is wrong); gold_answer = the number on the last line of
`reference_solution` (GSM8K style), else the last number in it; domain = math.
The rows have no ids; source_id is the 0-based array index. The same student solution often appears several
times with different teachers' annotations (1,002 rows, 612 distinct solutions): the index keeps each
annotation as its own trace instead of collapsing them as duplicates.
extra keeps the context: the reference solution, the tutoring dialogue, the student's corrected response, the topic.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from rubricate.config import SourceConfig
from rubricate.ingest.readers._common import RowError, json_array_rows, map_rows, require, require_object, string_list, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, TraceDraft

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def final_number(solution: str) -> str | None:
    """The reference solution's answer: its last line when that is a number, else its last number."""
    lines = [ln.strip() for ln in solution.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    last = lines[-1].lstrip("#").strip()
    if _NUMBER.fullmatch(last):
        return last.replace(",", "")
    found = _NUMBER.findall(solution)
    return found[-1].replace(",", "") if found else None


def map_row(row: Any, line: int) -> TraceDraft:
    row = require_object(row)
    problem = require(row, "problem", str)
    steps = string_list(row, "student_incorrect_solution", "steps")
    index = require(row, "incorrect_index", int, "0-based first wrong step")
    if isinstance(index, bool) or index < 0:
        raise RowError("bad_value", f"'incorrect_index' must be a 0-based step index, got {index!r}")
    reference = row.get("reference_solution")
    extra = {k: row[k] for k in ("topic", "reference_solution", "incorrect_step", "student_correct_response", "dialog_history") if row.get(k) is not None}
    return TraceDraft(
        line=line,
        problem=problem,
        steps=steps,
        gold_answer=final_number(reference) if isinstance(reference, str) else None,
        source_id=str(line - 1),
        domain="math",
        label_correct=False,
        label_first_error_step=index,
        label_error_type=text_or_none(row.get("error_category")),
        label_error_description=text_or_none(row.get("error_description")),
        extra=extra,
    )


class MathDialReader:
    dataset = "mathdial"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        for file in input_files(source, (".json",)):
            yield from map_rows(json_array_rows(file, "annotated solutions"), file, map_row)
