"""Generic JSONL and Parquet readers driven by the `fields` mapping of the source config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from rubricate.config import FieldMap, SourceConfig
from rubricate.errors import IngestError
from rubricate.ingest.records import ReadResult, Rejection, TraceDraft, excerpt

_MISSING = object()


def get_path(row: Any, dotted: str) -> Any:
    """row['a']['b'] for 'a.b'; list indices allowed ('messages.0.content'); _MISSING when absent."""
    cur = row
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.lstrip("-").isdigit() and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def _as_text(value: Any) -> str | None:
    if value is None or value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _as_bool(value: Any) -> bool | None:
    if value is None or value is _MISSING:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "yes", "no", "1", "0", "correct", "incorrect"}:
        return value.strip().lower() in {"true", "yes", "1", "correct"}
    raise ValueError(f"cannot read {value!r} as true/false")


def _as_step(value: Any, base: int) -> int | None:
    if value is None or value is _MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"step index must be a number, got {value!r}")
    idx = int(value)
    if idx < 0:  # ProcessBench-style -1 = "no error"
        return None
    return idx - base


def map_row(row: Any, line: int, fields: FieldMap, source: SourceConfig) -> ReadResult:
    """Apply a field mapping to one decoded row."""
    if not isinstance(row, dict):
        return Rejection(line, "bad_value", f"row is a JSON {type(row).__name__}, expected an object", excerpt(row))
    problem = get_path(row, fields.problem)
    if problem is _MISSING or problem is None:
        return Rejection(line, "missing_field", f"required field '{fields.problem}' (problem) is missing", excerpt(json.dumps(row)[:500]))
    response = get_path(row, fields.response) if fields.response else _MISSING
    steps = get_path(row, fields.steps) if fields.steps else _MISSING
    if (response is _MISSING or response is None) and (steps is _MISSING or steps is None):
        wanted = " or ".join(f"'{f}'" for f in (fields.response, fields.steps) if f)
        return Rejection(line, "missing_field", f"required field {wanted} (response) is missing", excerpt(json.dumps(row)[:500]))
    try:
        if steps is not _MISSING and steps is not None:
            if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
                raise ValueError(f"'{fields.steps}' must be a list of strings")
        label_correct = _as_bool(get_path(row, fields.label_correct)) if fields.label_correct else None
        draft = TraceDraft(
            line=line,
            problem=_as_text(problem) or "",
            response=_as_text(response),
            steps=steps if isinstance(steps, list) else None,
            gold_answer=_as_text(get_path(row, fields.gold_answer)) if fields.gold_answer else None,
            source_id=_as_text(get_path(row, fields.id)) if fields.id else None,
            model=_as_text(get_path(row, fields.model)) if fields.model else None,
            split=_as_text(get_path(row, fields.split)) if fields.split else None,
            domain=(_as_text(get_path(row, fields.domain)) if fields.domain else None) or source.domain,
            label_correct=label_correct,
            label_final_answer_correct=(
                _as_bool(get_path(row, fields.label_final_answer_correct)) if fields.label_final_answer_correct else None
            ),
            label_first_error_step=(
                _as_step(get_path(row, fields.label_first_error_step), source.step_base) if fields.label_first_error_step else None
            ),
            label_error_type=_as_text(get_path(row, fields.label_error_type)) if fields.label_error_type else None,
            label_error_description=(
                _as_text(get_path(row, fields.label_error_description)) if fields.label_error_description else None
            ),
        )
    except ValueError as exc:
        return Rejection(line, "bad_value", str(exc), excerpt(json.dumps(row, default=str)[:500]))
    mapped = {v for v in fields.model_dump().values() if v}
    draft.extra = {k: v for k, v in row.items() if k not in mapped and not isinstance(v, (bytes, bytearray))}
    return draft


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any] | Rejection]:
    """(line, decoded object) per non-blank line; a Rejection for lines that are not UTF-8 or not JSON."""
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Rejection(line_no, "not_utf8", f"byte {exc.start} is not valid UTF-8 ({exc.reason})", excerpt(raw.decode("utf-8", "replace")))
                continue
            try:
                yield line_no, json.loads(text)
            except json.JSONDecodeError as exc:
                yield Rejection(line_no, "malformed_json", f"not valid JSON: {exc.msg} at column {exc.colno}", excerpt(text))


def input_files(source: SourceConfig, suffixes: tuple[str, ...]) -> list[Path]:
    """The source's path as a list of files: the file itself, or the matching files of a folder, sorted."""
    assert source.path is not None
    path = Path(source.path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes))
        if not files:
            raise IngestError(f"source '{source.name}': no {'/'.join(suffixes)} files under {path}")
        return files
    raise IngestError(f"source '{source.name}': {path} does not exist; fix `path` in the config")


class JsonlReader:
    dataset = "jsonl"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        assert source.fields is not None
        for file in input_files(source, (".jsonl", ".json")):
            for item in iter_jsonl(file):
                result = item if isinstance(item, Rejection) else map_row(item[1], item[0], source.fields, source)
                result.source_path = str(file)
                yield result


class ParquetReader:
    dataset = "parquet"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        import pyarrow.parquet as pq

        assert source.fields is not None
        for file in input_files(source, (".parquet",)):
            try:
                pf = pq.ParquetFile(file)
            except Exception as exc:  # pyarrow raises several types for a broken file
                raise IngestError(f"source '{source.name}': {file} is not a readable Parquet file: {exc}") from exc
            line = 0
            for batch in pf.iter_batches(batch_size=2048):
                for row in batch.to_pylist():
                    line += 1
                    result = map_row(row, line, source.fields, source)
                    result.source_path = str(file)
                    yield result
