"""DebugBench: LeetCode solutions (C++, Java, Python 3) into which an LLM planted bugs of known subtypes.

Layout: `debugbench_all.jsonl` (the upstream per-subtype files concatenated, with `language`, `bug_subtype` and
`bug_major_category` added from their names) or any JSONL with the same fields.

Mapping:
- the response is `buggy_code`; steps are its non-blank lines (blank lines carry no reasoning, and lines are
  what a bug location names). The response keeps the code exactly as written.
- problem = `description`, then the `examples` and `constraints`; split = `language`; domain = code;
  source_id = `slug` (the LeetCode problem); label_correct = label_final_answer_correct = False.
- label_error_type = `bug_subtype` for single bugs (condition error, faulty indexing, ...). Rows of the
  `multiple` group (subtype double/triple/quadruple) name their bugs in `type`; their label is those joined
  with " + ". extra keeps `bug_major_category` (logic/reference/syntax/multiple) and `bug_subtype`.
- label_error_description = `explanations` (single-bug rows only; multi-bug rows have none).
- label_first_error_step = the first non-blank buggy line that differs from `oracle_code` (a line diff).
  extra `first_error_step_from: "diff"` says it is derived, not annotated; the oracle code stays in extra.
Upstream has 95 rows whose buggy code (ignoring blank lines around it) repeats an earlier row of the same problem and
language, often with a different bug label; they are counted as duplicates and the first is kept.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator

from rubricate.config import SourceConfig
from rubricate.ingest.readers._common import jsonl_rows, map_rows, require, require_object, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, TraceDraft


def code_steps(code: str) -> list[str]:
    return [ln for ln in code.splitlines() if ln.strip()]


def first_changed_line(buggy_steps: list[str], oracle: str) -> int | None:
    """0-based index into `buggy_steps` of the first line that is not in the oracle at that place."""
    reference = [ln.rstrip() for ln in code_steps(oracle)]
    mine = [ln.rstrip() for ln in buggy_steps]
    for tag, _i1, _i2, j1, _j2 in difflib.SequenceMatcher(None, reference, mine, autojunk=False).get_opcodes():
        if tag != "equal":
            # a deletion leaves no buggy line of its own: the line where the missing code belonged is wrong
            return min(j1, len(mine) - 1) if mine else None
    return None


def problem_text(row: dict[str, Any]) -> str:
    parts = [require(row, "description", str, "problem").strip()]
    examples = row.get("examples")
    if isinstance(examples, list) and examples:
        parts.append("Examples:\n" + "\n\n".join(str(e).strip() for e in examples))
    constraints = text_or_none(row.get("constraints"))
    if constraints:
        parts.append("Constraints:\n" + constraints)
    return "\n\n".join(parts)


def map_row(row: Any, line: int) -> TraceDraft:
    row = require_object(row)
    problem = problem_text(row)
    code = require(row, "buggy_code", str, "response")
    language = text_or_none(row.get("language"))
    subtype = text_or_none(row.get("bug_subtype"))
    major = text_or_none(row.get("bug_major_category"))
    bug_types = row.get("type") if isinstance(row.get("type"), list) else None
    error_type = " + ".join(str(t) for t in bug_types) if major == "multiple" and bug_types else subtype
    steps = code_steps(code)
    oracle = row.get("oracle_code") if isinstance(row.get("oracle_code"), str) else None
    first = first_changed_line(steps, oracle) if oracle is not None and steps else None
    extra: dict[str, Any] = {"bug_major_category": major, "bug_subtype": subtype}
    if bug_types:
        extra["bug_types"] = bug_types
    if first is not None:
        extra["first_error_step_from"] = "diff"
    for key in ("level", "release_time", "oracle_code"):
        if row.get(key) is not None:
            extra[key] = row[key]
    return TraceDraft(
        line=line,
        problem=problem,
        response=code.strip("\n"),
        steps=steps,
        source_id=text_or_none(row.get("slug")),
        split=language,
        domain="code",
        label_correct=False,
        label_final_answer_correct=False,
        label_first_error_step=first,
        label_error_type=error_type,
        label_error_description=text_or_none(row.get("explanations")),
        extra=extra,
    )


class DebugBenchReader:
    dataset = "debugbench"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        for file in input_files(source, (".jsonl",)):
            yield from map_rows(jsonl_rows(file), file, map_row)
