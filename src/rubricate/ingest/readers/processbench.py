"""ProcessBench (Qwen): 3,400 math solutions with the earliest wrong step labelled by experts.

Layout: one JSON array per split (gsm8k.json, math.json, olympiadbench.json, omnimath.json); `path` is the
folder or one of the files. Each row: id, generator, problem, steps (list), label, final_answer_correct.

Mapping: split = file stem; `label` is already 0-based with -1 = "all steps correct", so
label_first_error_step = label (None for -1) and label_correct = (label == -1); `final_answer_correct`
-> label_final_answer_correct; generator -> model; id -> source_id; `answer` -> gold_answer when a row has one
(the released files carry none).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Iterator

from rubricate.config import SourceConfig
from rubricate.ingest.readers._common import RowError, json_array_rows, map_rows, require, require_object, string_list, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, TraceDraft

_KNOWN = {"id", "generator", "problem", "steps", "label", "final_answer_correct", "answer"}


def map_row(row: Any, line: int, split: str) -> TraceDraft:
    row = require_object(row)
    problem = require(row, "problem", str)
    steps = string_list(row, "steps")
    label = require(row, "label", int, "index of the earliest wrong step, -1 = none")
    if isinstance(label, bool) or label < -1:
        raise RowError("bad_value", f"'label' must be -1 or a 0-based step index, got {label!r}")
    final_ok = row.get("final_answer_correct")
    if final_ok is not None and not isinstance(final_ok, bool):
        raise RowError("bad_value", f"'final_answer_correct' must be true/false, got {final_ok!r}")
    return TraceDraft(
        line=line,
        problem=problem,
        steps=steps,
        gold_answer=text_or_none(row.get("answer")),
        source_id=text_or_none(row.get("id")),
        model=text_or_none(row.get("generator")),
        split=split,
        domain="math",
        label_correct=label == -1,
        label_final_answer_correct=final_ok,
        label_first_error_step=None if label == -1 else label,
        extra={k: v for k, v in row.items() if k not in _KNOWN},
    )


class ProcessBenchReader:
    dataset = "processbench"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        for file in input_files(source, (".json",)):
            yield from map_rows(json_array_rows(file, "solutions"), file, partial(map_row, split=file.stem))
