"""See a source before ingesting it: the first mapped rows, the label distribution, how often each mapped field
is empty, and the rows that would be rejected, without writing anything.

It runs the source's own reader and the same validation as the ingest (`run.validate_draft`), so what it shows
is what the ingest would store. It warns when labelled first-error steps fall outside the steps (steps and
labels misaligned, or `step_base` wrong) and when a mapped path matches nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rubricate.config import SourceConfig
from rubricate.ingest.readers import get_reader
from rubricate.ingest.records import Rejection, SkippedFile, TraceDraft
from rubricate.ingest.run import FIELD_MAP_READERS, OUTSIDE_STEPS, validate_draft

# field-map name -> TraceDraft attribute
_ATTR = {"id": "source_id"}
_DRAFT_FIELDS = ("problem", "response", "steps", "gold_answer", "id", "model", "split", "domain", "label_correct",
                 "label_final_answer_correct", "label_first_error_step", "label_error_type", "label_error_description")


@dataclass
class SourcePreview:
    source: str
    reader: str
    max_rows: int
    n_scanned: int = 0
    n_valid: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)
    rejection_examples: list[str] = field(default_factory=list)
    first_rows: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, Counter] = field(default_factory=dict)
    empty: Counter = field(default_factory=Counter)  # field -> rows (read, before validation) where it is empty
    n_mapped: int = 0
    absent: Counter = field(default_factory=Counter)
    implied: Counter = field(default_factory=Counter)
    n_step_labels: int = 0
    n_outside: int = 0
    n_at_end: int = 0  # labelled step == number of steps: fits only if the labels are 1-based
    skipped_files: list[str] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.n_scanned >= self.max_rows

    def empty_share(self) -> dict[str, float]:
        return {f: self.empty[f] / self.n_mapped for f in self.empty} if self.n_mapped else {}

    def warnings(self) -> list[str]:
        out = []
        if self.n_outside:
            hint = (" (many equal the step count: are the labels 1-based? set `step_base: 1`)"
                    if self.reader in FIELD_MAP_READERS and self.n_at_end * 2 >= self.n_outside else "")
            check = "check `steps` and `step_base`" if self.reader in FIELD_MAP_READERS else "the source labels steps its traces lack"
            out.append(f"{self.n_outside} of {self.n_step_labels} labelled first-error steps fall outside their trace's steps: "
                       f"steps and labels are misaligned ({check}){hint}; those rows would be rejected")
        for key, count in self.absent.items():
            if self.n_mapped and count == self.n_mapped:
                out.append(f"mapped path {key} matched nothing in all {count} rows read: check its spelling in `fields`")
        if self.skipped_files:
            out.append(f"{len(self.skipped_files)} files of another type would not be read: {', '.join(self.skipped_files[:5])}")
        if self.n_scanned and not self.n_valid:
            out.append("no row would be accepted")
        return out

    def render(self) -> str:
        scope = f"first {self.n_scanned:,} rows" if self.truncated else f"all {self.n_scanned:,} rows"
        lines = [f"== source '{self.source}' (reader {self.reader}): {scope} read, {self.n_valid:,} would be accepted"
                 + (" (duplicates are found at ingest)" if self.n_valid else "")]
        if self.rejected_by_reason:
            lines.append("would be rejected: " + ", ".join(f"{r} {n:,}" for r, n in self.rejected_by_reason.most_common()))
            lines += [f"  e.g. {e}" for e in self.rejection_examples]
        for i, row in enumerate(self.first_rows, start=1):
            lines.append(f"-- mapped row {i} (line {row.pop('line')})")
            lines += [f"  {k}: {v}" for k, v in row.items()]
        if self.labels:
            lines.append("labels:")
            for name, counts in self.labels.items():
                lines.append(f"  {name}: " + ", ".join(f"{k} {n:,}" for k, n in counts.most_common(12)))
        if self.implied:
            lines.append("implied: " + ", ".join(f"{k} ({n:,} rows)" for k, n in self.implied.items()))
        share = self.empty_share()
        if share:
            lines.append("empty share per field: " + ", ".join(f"{f} {s:.0%}" for f, s in share.items()))
        lines += [f"WARNING: {w}" for w in self.warnings()]
        return "\n".join(lines)


def _show(value: Any, width: int = 100) -> str:
    if isinstance(value, list):
        return f"{len(value)} steps: " + " | ".join(_show(v, 40) for v in value[:3]) + (" | ..." if len(value) > 3 else "")
    text = repr(value) if not isinstance(value, str) else value.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list)) and not (value.strip() if isinstance(value, str) else value))


def preview_source(source: SourceConfig, *, n_show: int = 3, max_rows: int = 10_000) -> SourcePreview:
    """Read up to `max_rows` rows of `source` as the ingest would, and summarise them; writes nothing."""
    preview = SourcePreview(source.name, source.reader, max_rows)
    names = list(source.fields.specs()) if source.fields is not None else list(_DRAFT_FIELDS)
    if source.reader == "sql":
        from rubricate.ingest.readers.sql import query_fields

        names = query_fields(source)  # the query's columns are its mapping
    for item in get_reader(source.reader).read(source):
        if isinstance(item, SkippedFile):
            preview.skipped_files.append(item.path)
            continue
        if preview.n_scanned >= max_rows:
            break
        preview.n_scanned += 1
        if isinstance(item, Rejection):
            _rejected(preview, item)
            continue
        bad = validate_draft(item, source)  # fills response/steps from each other, as the ingest stores them
        _observe(preview, item, names, source)
        if bad is not None:
            if OUTSIDE_STEPS in bad.detail:
                preview.n_outside += 1
                preview.n_at_end += int(item.label_first_error_step == len(item.steps or []))
            bad.source_path = item.source_path
            _rejected(preview, bad)
            continue
        preview.n_valid += 1
        if len(preview.first_rows) < n_show:
            preview.first_rows.append({"line": item.line} | {f: _show(_value(item, f)) for f in names if not _is_empty(_value(item, f))}
                                      | ({"steps": _show(item.steps)} if "steps" not in names else {}))
    return preview


def _value(draft: TraceDraft, name: str) -> Any:
    return getattr(draft, _ATTR.get(name, name))


def _rejected(preview: SourcePreview, r: Rejection) -> None:
    preview.rejected_by_reason[r.reason] += 1
    if len(preview.rejection_examples) < 3:
        preview.rejection_examples.append(f"line {r.line}: {r.reason}: {r.detail}")


def _observe(preview: SourcePreview, draft: TraceDraft, names: list[str], source: SourceConfig) -> None:
    preview.n_mapped += 1
    for name in names:
        if _is_empty(_value(draft, name)):
            preview.empty[name] += 1
        else:
            preview.empty.setdefault(name, 0)
    for key in draft.absent:
        preview.absent[key] += 1
    for note in draft.implied:
        preview.implied[note] += 1
    for name in ("label_correct", "label_final_answer_correct", "label_first_error_step", "label_error_type"):
        if source.reader in FIELD_MAP_READERS and name not in names:
            continue
        value = _value(draft, name)
        preview.labels.setdefault(name, Counter())[("none" if value is None else _show(value, 40))] += 1
    if draft.label_first_error_step is not None:
        preview.n_step_labels += 1
