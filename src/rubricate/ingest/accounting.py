"""The bookkeeping every ingest shares: count each input row once, buffer, dedupe, write in batches, record the run.

Trace ingest (`ingest.run`) and problem-set ingest (`ingest.problems`) differ only in what a good row looks
like and which table it goes to; that difference is a `Target`. Everything else lives here once:

- every input row is counted exactly once as accepted, rejected (stored in ``rejected_rows`` with the reason)
  or duplicate (same key as a row seen earlier in this input, or already stored), so
  ``n_in == n_accepted + n_rejected + n_duplicates`` always holds;
- keys are content hashes, so re-running the same ingest inserts nothing;
- the run is recorded in ``ingest_runs``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

import polars as pl

from rubricate.config import SourceConfig
from rubricate.ids import content_hash
from rubricate.ingest.records import Rejection, SkippedFile
from rubricate.progress import Progress
from rubricate.store.db import Store, utcnow

log = logging.getLogger(__name__)

BATCH_ROWS = 5_000

REJECT_SCHEMA: dict[str, Any] = {
    "source_name": pl.Utf8,
    "source_path": pl.Utf8,
    "source_line": pl.Int32,
    "reason": pl.Utf8,
    "detail": pl.Utf8,
    "raw_excerpt": pl.Utf8,
    "ingest_run_id": pl.Utf8,
    "rejected_at": pl.Datetime("us"),
}

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Where accepted rows go: their schema, the key column that identifies them, and the named queries
    that find already-stored keys (reads the view `incoming` holding the key column) and insert new rows."""

    schema: dict[str, Any]
    key_column: str
    known_keys_query: str
    insert_query: str


@dataclass
class IngestReport:
    source: str
    reader: str
    ingest_run_id: str
    n_in: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    n_duplicates: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    # files in the source's folder that its reader does not read (another type)
    skipped_files: list[str] = field(default_factory=list)
    # "field (path)" -> rows whose mapped path matched nothing (field-map readers)
    absent_paths: dict[str, int] = field(default_factory=dict)
    # label implications applied ("label_correct=false implied by a first error step") -> rows
    implied_labels: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def progress(self) -> Progress:
        return Progress(self.n_in, None, "rows read")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IngestWriter:
    """One ingest run of one source into one `Target`: counts, buffers and writes rows and rejections."""

    def __init__(
        self,
        store: Store,
        source: SourceConfig,
        target: Target,
        *,
        run_kind: str,
        progress: Callable[[IngestReport], None] | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.target = target
        self.progress = progress
        self._t0 = time.perf_counter()
        self.started = utcnow()
        # run_kind keeps a trace ingest and a problem-set ingest of the same source at the same instant apart
        self.run_id = content_hash(run_kind, source.model_dump(mode="json"), self.started.isoformat())
        self.report = IngestReport(source=source.name, reader=source.reader, ingest_run_id=self.run_id)
        self.default_path = source.stored_path()
        self._seen: dict[str, tuple[str, int]] = {}
        self._rows: list[dict[str, Any]] = []
        self._rejects: list[dict[str, Any]] = []
        self._n_mapped = 0

    def count_in(self, items: Iterable[T | SkippedFile]) -> Iterator[T]:
        """The reader's items, each counted into n_in, stopping at the source's `limit`. A skipped file is
        not a row: it is listed in the report."""
        limit = self.source.limit
        for item in items:
            if isinstance(item, SkippedFile):
                self.report.skipped_files.append(item.path)
                continue
            if limit is not None and self.report.n_in >= limit:
                break
            self.report.n_in += 1
            yield item

    def observe(self, absent: Iterable[str], implied: Iterable[str]) -> None:
        """A row the field map read: which mapped paths it lacked, which labels were implied."""
        self._n_mapped += 1
        for key in absent:
            self.report.absent_paths[key] = self.report.absent_paths.get(key, 0) + 1
        for note in implied:
            self.report.implied_labels[note] = self.report.implied_labels.get(note, 0) + 1

    def reject(self, r: Rejection) -> None:
        """A bad row: counted as rejected under its reason and stored in rejected_rows."""
        self.report.n_rejected += 1
        self.report.rejected_by_reason[r.reason] = self.report.rejected_by_reason.get(r.reason, 0) + 1
        self._store_rejection(r)

    def first_occurrence(self, key: str, *, line: int, path: str, what: str, raw_excerpt: str) -> bool:
        """True the first time `key` appears in this input; a repeat is counted as a duplicate and stored in
        rejected_rows (reason `duplicate`) pointing at the first occurrence, so the user can see which row won."""
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = (path, line)
            return True
        self.report.n_duplicates += 1
        self._store_rejection(Rejection(line, "duplicate", f"same {what} as {first[0]}:{first[1]}", raw_excerpt, path))
        return False

    def accept(self, row: dict[str, Any]) -> None:
        """A good row (in the target's schema); it counts as accepted or duplicate when its batch is written."""
        self._rows.append(row)
        if len(self._rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            frame = pl.DataFrame(self._rows, schema=self.target.schema)
            known = {r[0] for r in self._known_keys(frame)}
            fresh = frame.filter(~pl.col(self.target.key_column).is_in(list(known)))
            self.report.n_duplicates += frame.height - fresh.height
            self.report.n_accepted += fresh.height
            self.store.insert_frame(self.target.insert_query, fresh)
            self._rows.clear()
        if self._rejects:
            self.store.insert_frame("ingest/insert_rejected_rows", pl.DataFrame(self._rejects, schema=REJECT_SCHEMA))
            self._rejects.clear()
        if self.progress:
            self.progress(self.report)

    def finish(self, *, config_hash: str = "") -> IngestReport:
        """Write what is buffered, record the run in ingest_runs and check that every row was counted once."""
        self.flush()
        report = self.report
        report.warnings.extend(self._warnings())
        for warning in report.warnings:
            log.warning("ingest %s: %s", self.source.name, warning)
        report.seconds = round(time.perf_counter() - self._t0, 3)
        self.store.execute(
            "ingest/insert_ingest_run",
            {
                "ingest_run_id": self.run_id,
                "source_name": self.source.name,
                "reader": self.source.reader,
                "source_path": self.default_path,
                "n_in": report.n_in,
                "n_accepted": report.n_accepted,
                "n_rejected": report.n_rejected,
                "n_duplicates": report.n_duplicates,
                "config_hash": config_hash,
                "started_at": self.started,
                "finished_at": utcnow(),
            },
        )
        assert report.n_in == report.n_accepted + report.n_rejected + report.n_duplicates, report
        return report

    def _warnings(self) -> list[str]:
        out = []
        n = self._n_mapped
        for key, count in self.report.absent_paths.items():
            if n and count == n:
                out.append(f"mapped path {key} matched nothing in all {n} rows: check its spelling in `fields`")
        if self.report.skipped_files:
            names = ", ".join(Path(p).name for p in self.report.skipped_files[:5])
            more = f" and {len(self.report.skipped_files) - 5} more" if len(self.report.skipped_files) > 5 else ""
            out.append(f"{len(self.report.skipped_files)} files of another type in the folder were not read: {names}{more}")
        return out

    def _store_rejection(self, r: Rejection) -> None:
        self._rejects.append(
            {
                "source_name": self.source.name,
                "source_path": r.source_path or self.default_path,
                "source_line": r.line,
                "reason": r.reason,
                "detail": r.detail,
                "raw_excerpt": r.raw_excerpt,
                "ingest_run_id": self.run_id,
                "rejected_at": self.started,
            }
        )

    def _known_keys(self, frame: pl.DataFrame) -> list[tuple]:
        # only the key column is registered: the query needs nothing else, and the batch can be wide
        return self.store.execute(self.target.known_keys_query, incoming=frame.select(self.target.key_column))
