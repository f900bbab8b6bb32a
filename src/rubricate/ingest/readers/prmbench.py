"""PRMBench: PRM800K solutions into which an LLM injected one class of error, with the steps it broke.

Layout: `prmtest_classified/*.jsonl` (6,216 rows, one file per source part and error class, plus
`prm_test_p12_multi_solutions.jsonl`) and `subset400/target_data.jsonl` (394 rows, all of them also in the
classified files). `path` is the prmbench folder, a subfolder or one file.

Mapping (from the real rows):
- problem = `modified_question` (some classes alter the question), steps = `modified_process`.
- `error_steps` are 1-based: label_first_error_step = min(error_steps) - 1; the full list stays in extra.
- label_error_type = `classification` (circular, confidence, counterfactual, deception, domain_inconsistency,
  missing_condition, redundency [sic], step_contradiction); label_error_description = `reason`.
- `multi_solutions` rows are correct alternative solutions (empty `error_steps`, no reason): label_correct
  and label_final_answer_correct are True. For the error classes label_final_answer_correct stays unknown:
  an injected error does not always change the final answer.
- split = `classification`, source_id = `idx`. So a subset400 row has the same trace id as its classified
  twin and is counted as a duplicate, not stored twice.
- gold_answer: `ground_truth` (multi_solutions rows only). Other rows of the same, unmodified question get
  that gold answer too (looked up by `question`); the answers inside `original_process` are not used
  because some disagree with `ground_truth`.
- `original_process` is left out (it would double the stored size); extra keeps `has_original_process`,
  `modified_steps`, `error_steps`, the source file's stem and `original_question` when it differs.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Iterator

from rubricate.config import SourceConfig
from rubricate.ingest.readers._common import RowError, jsonl_rows, map_rows, require, require_object, string_list, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, TraceDraft

CORRECT_CLASS = "multi_solutions"


def gold_by_question(files: list[Path]) -> dict[str, str]:
    """`question` -> `ground_truth` from every row that has one (a cheap byte scan finds those rows)."""
    gold: dict[str, str] = {}
    for file in files:
        with file.open("rb") as fh:
            for raw in fh:
                if b'"ground_truth"' not in raw:
                    continue
                try:
                    row = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    continue  # the main pass rejects it with the reason
                if isinstance(row, dict) and isinstance(row.get("question"), str) and text_or_none(row.get("ground_truth")):
                    gold.setdefault(row["question"], str(row["ground_truth"]).strip())
    return gold


def map_row(row: Any, line: int, file: Path, gold: dict[str, str]) -> TraceDraft:
    row = require_object(row)
    problem = require(row, "modified_question", str, "problem")
    steps = string_list(row, "modified_process", "steps")
    classification = require(row, "classification", str)
    error_steps = require(row, "error_steps", list, "1-based steps with an error")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in error_steps):
        raise RowError("bad_value", f"'error_steps' must be 1-based step numbers, got {error_steps!r}")
    is_correct = classification == CORRECT_CLASS and not error_steps
    if not is_correct and not error_steps:
        raise RowError("bad_value", f"class '{classification}' row has no 'error_steps'")
    gold_answer = text_or_none(row.get("ground_truth"))
    question = row.get("question")
    if gold_answer is None and isinstance(question, str) and problem == row.get("original_question"):
        gold_answer = gold.get(question)
    extra: dict[str, Any] = {
        "file": file.stem,
        "subset": file.parent.name,
        "error_steps": error_steps,
        "modified_steps": row.get("modified_steps"),
        "has_original_process": bool(row.get("original_process")),
    }
    if row.get("original_question") not in (None, problem):
        extra["original_question"] = row["original_question"]
    return TraceDraft(
        line=line,
        problem=problem,
        steps=steps,
        gold_answer=gold_answer,
        source_id=text_or_none(row.get("idx")),
        split=classification,
        domain="math",
        label_correct=is_correct,
        label_final_answer_correct=True if is_correct else None,
        label_first_error_step=None if is_correct else min(error_steps) - 1,
        label_error_type=None if is_correct else classification,
        label_error_description=None if is_correct else text_or_none(row.get("reason")),
        extra=extra,
        source_path=str(file),
    )


class PRMBenchReader:
    dataset = "prmbench"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        files = input_files(source, (".jsonl",))
        gold = gold_by_question(files)
        for file in files:
            yield from map_rows(jsonl_rows(file), file, partial(map_row, file=file, gold=gold))
