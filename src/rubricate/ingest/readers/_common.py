"""Small helpers the dataset readers share: row sources (JSON array, JSONL), row-to-draft mapping with
rejections, field checks, option parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

from pydantic import ValidationError

from rubricate.config import SourceConfig, Strict
from rubricate.errors import ConfigError
from rubricate.ingest.readers.generic import iter_jsonl
from rubricate.ingest.records import Rejection, excerpt

OptionsT = TypeVar("OptionsT", bound=Strict)


class _Draft(Protocol):
    source_path: str | None


D = TypeVar("D", bound=_Draft)
Rows = Iterable["tuple[int, Any] | Rejection"]


class RowError(ValueError):
    """A row is unusable; `reason` is the rejected_rows reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def load_json_file(path: Path) -> tuple[Any, Rejection | None]:
    """Decode a whole-file JSON document; an unreadable file becomes one Rejection (line 1), not an exception.

    One broken file in a folder must not stop the others, and the user sees why in rejected_rows.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, Rejection(1, "not_utf8", f"byte {exc.start} of the file is not valid UTF-8 ({exc.reason})",
                               excerpt(raw[:500].decode("utf-8", "replace")), str(path))
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, Rejection(1, "malformed_json", f"the file is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                               excerpt(text), str(path))


def require_object(row: Any) -> dict[str, Any]:
    """The row itself when it is a JSON object; raises RowError otherwise."""
    if not isinstance(row, dict):
        raise RowError("bad_value", f"row is a JSON {type(row).__name__}, expected an object")
    return row


def require(row: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str = "") -> Any:
    """row[key], checked for presence and type; raises RowError with the reason code."""
    if key not in row or row[key] is None:
        raise RowError("missing_field", f"required field '{key}'{f' ({what})' if what else ''} is missing")
    value = row[key]
    if not isinstance(value, kind):
        names = "/".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise RowError("bad_value", f"field '{key}' must be {names}, got {type(value).__name__}")
    return value


def string_list(row: dict[str, Any], key: str, what: str = "") -> list[str]:
    value = require(row, key, list, what)
    if not all(isinstance(s, str) for s in value):
        raise RowError("bad_value", f"field '{key}' must be a list of strings")
    return value


def text_or_none(value: Any) -> str | None:
    """Stripped text, or None for None/empty/whitespace/"N/A"."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text if text and text.upper() != "N/A" else None


def reject(line: int, exc: RowError, row: Any, path: Path) -> Rejection:
    return Rejection(line, exc.reason, exc.detail, excerpt(json.dumps(row, ensure_ascii=False, default=str)[:500]), str(path))


def json_array_rows(file: Path, what: str) -> Iterator[tuple[int, Any] | Rejection]:
    """(1-based index, row) for a file holding one JSON array of `what`; a file that is unreadable or not an
    array becomes one Rejection (line 1), so the other files of the source still load."""
    data, bad = load_json_file(file)
    if bad is not None:
        yield bad
        return
    if not isinstance(data, list):
        yield Rejection(1, "bad_value", f"expected a JSON array of {what}, got a {type(data).__name__}", excerpt(str(data)), str(file))
        return
    yield from enumerate(data, start=1)


def jsonl_rows(file: Path) -> Iterator[tuple[int, Any] | Rejection]:
    """(line, row) per non-blank JSONL line; undecodable lines are Rejections located in `file`."""
    for item in iter_jsonl(file):
        if isinstance(item, Rejection):
            item.source_path = str(file)
        yield item


def map_rows(rows: Rows, file: Path, map_row: Callable[[Any, int], D]) -> Iterator[D | Rejection]:
    """Each (line, row) through the reader's `map_row`, the draft located in `file`; a row `map_row` refuses
    (RowError) becomes a Rejection with its reason and an excerpt of the row. Rejections pass through."""
    for item in rows:
        if isinstance(item, Rejection):
            yield item
            continue
        line, row = item
        try:
            draft = map_row(row, line)
        except RowError as exc:
            yield reject(line, exc, row, file)
            continue
        draft.source_path = str(file)
        yield draft


def parse_options(source: SourceConfig, model: type[OptionsT]) -> OptionsT:
    """The source's `options:` validated by the reader's own model (unknown keys are errors)."""
    try:
        return model.model_validate(source.options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"source '{source.name}': invalid `options` for reader '{source.reader}': {problems}") from None
