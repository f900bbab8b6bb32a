"""MR-Ben: model solutions over six subjects, each graded by annotators with the first wrong step and why.

Layout: one JSON file per subject (biology, chemistry, coding, math, medicine, physics); `k_shot_demo.json`
holds prompt demonstrations and is skipped. Each file maps a question UUID to a list of solutions (one per
sampled model). `line` is the solution's 1-based position in the file's flattened lists.

Mapping:
- problem = `Question`, followed by `Options` for the multiple-choice subjects; steps = `Model_Solution_Steps`.
- label_correct from `Model_Solution_Correctness` ("correct"/"incorrect").
- `Model_Solution_First_Error_Step` is 1-based ("N/A" when correct) -> 0-based label_first_error_step.
- coding: the solution is one code string and the first error "step" is a line of that code. Steps are the
  code's non-blank lines (the response keeps the code as written) and the error step is the first line equal
  to (else containing) the annotated line; 13 rows annotate an empty line, for those the step stays unknown
  (extra `first_error_line_unmatched`).
- `Model_Solution_Error_Reason` (one per annotator) -> label_error_description = the first reason; all are kept
  in extra `error_reasons`, with `Model_Solution_Rectified_First_Error_Step`.
- gold_answer = `Ground_Truth_Answer_Modified` (the annotators' corrected key) or `Ground_Truth_Answer`;
  the original key is kept in extra when the two differ. Coding rows have none.
- domain = file stem (coding -> code), split = `Subject` (college_math, high_school_physics, ...),
  model = `Sampled_Model`, source_id = `Question_UUID`.
- label_final_answer_correct stays unknown: MR-Ben grades the reasoning, not the chosen option.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from rubricate.config import SourceConfig
from rubricate.errors import IngestError
from rubricate.ingest.readers._common import RowError, load_json_file, reject, require, require_object, string_list, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, Rejection, TraceDraft, excerpt

SKIP_FILES = {"k_shot_demo.json"}
DOMAIN_BY_SUBJECT_FILE = {"coding": "code"}


def code_lines(code: str) -> list[str]:
    return [ln for ln in code.splitlines() if ln.strip()]


def find_code_line(lines: list[str], wanted: str) -> int | None:
    """Index of the first line equal to `wanted` (ignoring surrounding spaces), else the first containing it."""
    target = wanted.strip()
    if not target:
        return None
    for i, ln in enumerate(lines):
        if ln.strip() == target:
            return i
    for i, ln in enumerate(lines):
        if target in ln:
            return i
    return None


def _reasons(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [t for t in (text_or_none(v) for v in items) if t]


def map_row(row: Any, line: int, subject_file: str) -> TraceDraft:
    row = require_object(row)
    question = require(row, "Question", str, "problem")
    options = text_or_none(row.get("Options"))
    problem = f"{question.rstrip()}\n\n{options}" if options else question
    raw_steps = require(row, "Model_Solution_Steps", (list, str), "solution steps")
    correctness = require(row, "Model_Solution_Correctness", str)
    if correctness.strip().lower() not in ("correct", "incorrect"):
        raise RowError("bad_value", f"'Model_Solution_Correctness' must be correct/incorrect, got {correctness!r}")
    correct = correctness.strip().lower() == "correct"
    first_raw = row.get("Model_Solution_First_Error_Step")
    extra: dict[str, Any] = {}
    response: str | None = None
    first: int | None = None
    if isinstance(raw_steps, str):  # coding: one code string; the error "step" is a line of it
        response = raw_steps
        steps = code_lines(raw_steps)
        if not correct:
            first = find_code_line(steps, first_raw if isinstance(first_raw, str) else "")
            if first is None:
                extra["first_error_line_unmatched"] = first_raw
    else:
        steps = string_list(row, "Model_Solution_Steps")
        if not correct:
            text = text_or_none(first_raw)
            if text is None or not text.isdigit() or int(text) < 1:
                raise RowError("bad_value", f"'Model_Solution_First_Error_Step' must be a 1-based step number, got {first_raw!r}")
            first = int(text) - 1
    reasons = _reasons(row.get("Model_Solution_Error_Reason"))
    if reasons:
        extra["error_reasons"] = reasons
    rectified = _reasons(row.get("Model_Solution_Rectified_First_Error_Step"))
    if rectified:
        extra["rectified_first_error_step"] = rectified
    gold = text_or_none(row.get("Ground_Truth_Answer_Modified")) or text_or_none(row.get("Ground_Truth_Answer"))
    original_gold = text_or_none(row.get("Ground_Truth_Answer"))
    if original_gold and original_gold != gold:
        extra["ground_truth_answer_original"] = original_gold
    if text_or_none(row.get("Ground_Truth_Analysis")):
        extra["ground_truth_analysis"] = row["Ground_Truth_Analysis"]
    return TraceDraft(
        line=line,
        problem=problem,
        response=response,
        steps=steps,
        gold_answer=gold,
        source_id=text_or_none(row.get("Question_UUID")),
        model=text_or_none(row.get("Sampled_Model")),
        split=text_or_none(row.get("Subject")) or subject_file,
        domain=DOMAIN_BY_SUBJECT_FILE.get(subject_file, subject_file),
        label_correct=correct,
        label_first_error_step=first,
        label_error_description=None if correct or not reasons else reasons[0],
        extra=extra,
    )


class MRBenReader:
    dataset = "mr_ben"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        files = [f for f in input_files(source, (".json",)) if f.name not in SKIP_FILES]
        if not files:
            raise IngestError(f"source '{source.name}': {source.path} holds no MR-Ben subject files (k_shot_demo.json is prompt data)")
        for file in files:
            yield from self._read_file(file)

    def _read_file(self, file: Path) -> Iterator[ReadResult]:
        data, bad = load_json_file(file)
        if bad is not None:
            yield bad
            return
        if not isinstance(data, dict):
            yield Rejection(1, "bad_value", f"expected an object of question id -> solutions, got a {type(data).__name__}", excerpt(str(data)), str(file))
            return
        line = 0
        for qid, solutions in data.items():
            for row in solutions if isinstance(solutions, list) else [solutions]:
                line += 1
                try:
                    draft = map_row(row, line, file.stem)
                except RowError as exc:
                    yield reject(line, exc, {"question_id": qid, "row": row}, file)
                    continue
                draft.source_path = str(file)
                yield draft
