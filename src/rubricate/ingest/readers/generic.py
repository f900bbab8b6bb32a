"""Generic JSON/JSONL and Parquet readers driven by the `fields` mapping of the source config.

The JSON reader decides the layout by content, not by the file name: a JSON array (pretty-printed or not),
one JSON object per file, or JSON Lines; gzip-compressed files are recognised by their first bytes. A file
that cannot be read at all is one rejected row (`unreadable_file`, line 0) with its name and the reason; the
other files and sources go on. Files of other types in a source folder are reported, not read.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO, Any, Iterator

from rubricate.config import SourceConfig
from rubricate.errors import IngestError
from rubricate.ingest.fieldmap import FieldReader
from rubricate.ingest.records import ReadResult, Rejection, SkippedFile, excerpt

JSON_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz")
_GZIP_MAGIC = b"\x1f\x8b"


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any] | Rejection]:
    """(line, decoded object) per non-blank line; a Rejection for lines that are not UTF-8 or not JSON."""
    with _open_bytes(path) as fh:
        yield from _jsonl_lines(fh)


def _jsonl_lines(fh: IO[bytes]) -> Iterator[tuple[int, Any] | Rejection]:
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


def _open_bytes(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == _GZIP_MAGIC else path.open("rb")  # type: ignore[return-value]


def _layout(fh: IO[bytes]) -> str:
    """'jsonl' or 'document' (one JSON value in the whole file), from the first lines.

    The first line is a complete JSON value: JSON Lines (or, when it is the only line, a one-line document,
    which reads the same unless it is an array). Otherwise the file is one pretty-printed document."""
    first = fh.readline()
    while first and not first.strip():
        first = fh.readline()
    try:
        value = json.loads(first.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "document" if first.lstrip(b"\xef\xbb\xbf").strip()[:1] in (b"[", b"{") else "jsonl"
    if isinstance(value, list):
        rest = fh.readline()
        while rest and not rest.strip():
            rest = fh.readline()
        return "jsonl" if rest else "document"  # a minified array on one line is a document
    return "jsonl"


def json_records(path: Path) -> Iterator[tuple[int, Any] | Rejection]:
    """(1-based position, record) for a JSON array, a single JSON object, or JSON Lines, decided by content.

    An array yields its elements, an object itself; JSON Lines yield a record per line and reject bad lines
    one by one. A document that does not parse is one rejection saying where it breaks (not one per line)."""
    try:
        with _open_bytes(path) as fh:
            layout = _layout(fh)
        if layout == "jsonl":
            with _open_bytes(path) as fh:
                yield from _jsonl_lines(fh)
            return
        with _open_bytes(path) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:  # a truncated or corrupt .gz
        yield Rejection(0, "unreadable_file", f"{path}: cannot read the file: {exc}", "", str(path))
        return
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        yield Rejection(0, "not_utf8", f"{path}: byte {exc.start} is not valid UTF-8 ({exc.reason})", "", str(path))
        return
    except json.JSONDecodeError as exc:
        yield Rejection(0, "malformed_json", f"{path}: the file is one JSON document that does not parse: {exc.msg} "
                        f"at line {exc.lineno} column {exc.colno}", excerpt(raw[:500].decode("utf-8", "replace")), str(path))
        return
    if isinstance(data, list):
        yield from enumerate(data, start=1)
    else:
        yield 1, data


def source_files(source: SourceConfig, suffixes: tuple[str, ...]) -> tuple[list[Path], list[Path]]:
    """(files to read, other files) for the source's path: the file itself, or a folder's files with one of
    `suffixes` and the rest (hidden files excluded), both sorted."""
    assert source.path is not None
    path = Path(source.path)
    if path.is_file():
        return [path], []
    if path.is_dir():
        every = sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        files = [p for p in every if p.name.lower().endswith(suffixes)]
        if not files:
            others = f" (it holds only {', '.join(p.name for p in every[:5])}{' ...' if len(every) > 5 else ''})" if every else ""
            raise IngestError(f"source '{source.name}': no {'/'.join(suffixes)} files under {path}{others}")
        return files, [p for p in every if p not in set(files)]
    raise IngestError(f"source '{source.name}': {path} does not exist; fix `path` in the config")


def input_files(source: SourceConfig, suffixes: tuple[str, ...]) -> list[Path]:
    """The source's path as a list of files: the file itself, or the matching files of a folder, sorted."""
    return source_files(source, suffixes)[0]


class _FieldMapReader:
    """Files of one kind under the source's path, each record through the source's field map."""

    dataset: str
    suffixes: tuple[str, ...]

    def records(self, file: Path) -> Iterator[tuple[int, Any] | Rejection]:
        raise NotImplementedError

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        assert source.fields is not None
        mapper = FieldReader(source.fields, source)
        files, others = source_files(source, self.suffixes)
        for other in others:
            yield SkippedFile(str(other), f"not a file the {self.dataset} reader reads")
        for file in files:
            for item in self.records(file):
                result = item if isinstance(item, Rejection) else mapper.map_row(item[1], item[0])
                result.source_path = str(file)
                yield result


class JsonlReader(_FieldMapReader):
    """JSON arrays, JSON objects, JSON Lines and their .gz forms (the reader is named `jsonl` in configs)."""

    dataset = "jsonl"
    suffixes = JSON_SUFFIXES

    def records(self, file: Path) -> Iterator[tuple[int, Any] | Rejection]:
        return json_records(file)


class ParquetReader(_FieldMapReader):
    dataset = "parquet"
    suffixes = (".parquet",)

    def records(self, file: Path) -> Iterator[tuple[int, Any] | Rejection]:
        return parquet_rows(file)


def parquet_rows(file: Path, batch_size: int = 2048) -> Iterator[tuple[int, dict[str, Any]] | Rejection]:
    """(row + 1, row) for a Parquet file; a file that cannot be opened, or a part that cannot be decoded, is one
    Rejection (`unreadable_file`) naming the file, so one broken file does not stop the others."""
    import pyarrow.parquet as pq

    if file.stat().st_size == 0:
        yield Rejection(0, "unreadable_file", f"{file}: the file is empty (0 bytes), not Parquet", "", str(file))
        return
    line = 0
    try:
        pf = pq.ParquetFile(file)
        for batch in pf.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                line += 1
                yield line, row
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ("Corrupt snappy compressed data") and others
        where = "cannot be opened" if line == 0 else f"cannot be read after row {line} (rows up to it were read)"
        yield Rejection(0 if line == 0 else line + 1, "unreadable_file",
                        f"{file}: not a readable Parquet file, {where}: {type(exc).__name__}: {exc}", "", str(file))
