"""Small helpers the dataset readers share: whole-file JSON loading, field checks, option parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from rubricate.config import SourceConfig, Strict
from rubricate.errors import ConfigError
from rubricate.ingest.records import Rejection, excerpt

O = TypeVar("O", bound=Strict)


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


def parse_options(source: SourceConfig, model: type[O]) -> O:
    """The source's `options:` validated by the reader's own model (unknown keys are errors)."""
    try:
        return model.model_validate(source.options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"source '{source.name}': invalid `options` for reader '{source.reader}': {problems}") from None
