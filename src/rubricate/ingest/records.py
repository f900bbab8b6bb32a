"""What readers produce: a draft trace in the common schema, or a rejection with the reason.

Readers map a source's own layout onto ``TraceDraft``; they do not validate sizes, hash ids or dedupe:
``ingest.run`` does that once for every reader. Step numbers in drafts are always 0-based.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, Union

from rubricate.config import SourceConfig


@dataclass(slots=True)
class TraceDraft:
    line: int  # 1-based position in the source (JSONL line, array index + 1, Parquet row + 1)
    problem: str
    response: str | None = None
    steps: list[str] | None = None
    gold_answer: str | None = None
    source_id: str | None = None
    model: str | None = None
    split: str | None = None
    domain: str | None = None
    label_correct: bool | None = None
    label_final_answer_correct: bool | None = None
    label_first_error_step: int | None = None  # 0-based
    label_error_type: str | None = None
    label_error_description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source_path: str | None = None  # overrides the source's path when a reader reads several files
    # field-map readers: the mapped fields whose path was absent from this row ("gold_answer (meta.gold)")
    absent: tuple[str, ...] = ()
    # field-map readers: labels the row did not give but its other labels imply ("label_correct=false from ...")
    implied: tuple[str, ...] = ()


@dataclass(slots=True)
class Rejection:
    line: int  # 0 = the whole file (an unreadable file)
    # malformed_json | missing_field | not_utf8 | empty_response | too_large | bad_value | duplicate | unreadable_file
    reason: str
    detail: str
    raw_excerpt: str = ""
    source_path: str | None = None


@dataclass(slots=True)
class SkippedFile:
    """A file in a source folder that the reader does not read (another type): reported, never counted as a row."""

    path: str
    why: str


ReadResult = Union[TraceDraft, Rejection, SkippedFile]


class Reader(Protocol):
    """A reader turns one configured source into drafts and rejections, in source order."""

    dataset: str

    def read(self, source: SourceConfig) -> Iterator[ReadResult]: ...


_STEP_MARK = re.compile(r"^\s*(?:step\s*\d+\s*[:.)]|\d+\s*[.)])\s*", re.IGNORECASE)


def split_steps(response: str) -> list[str]:
    """Split a free-text response into steps: paragraphs if there are several, else non-empty lines."""
    text = response.strip()
    if not text:
        return []
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paragraphs) > 1:
        return paragraphs
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def join_steps(steps: list[str]) -> str:
    return "\n\n".join(s.strip() for s in steps)


def excerpt(raw: Any, limit: int = 500) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text[:limit]


def too_large(line: int, size: int, limit: int, raw_excerpt: str, source_path: str | None = None) -> Rejection:
    """The rejection for a row over the source's `max_response_chars`, saying how to accept it."""
    return Rejection(
        line,
        "too_large",
        f"{size:,} characters exceeds max_response_chars={limit:,} (raise it in the source config to accept)",
        raw_excerpt,
        source_path,
    )
