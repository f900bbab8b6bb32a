"""Apply a source's field map to one decoded row: a TraceDraft, or a Rejection that says what is wrong.

Nothing is guessed. A value of the wrong type (an object where text is expected, a boolean response, a label
that is not true/false) rejects the row with the field, the path and the fix; a list response is the steps.
Value rules (`nulls`, `map`, `pattern`, `reduce`) are the user's explicit instructions (config.FieldSpec).

After mapping, the labels are made consistent: a first-error step means the trace is wrong unless a
correctness label says otherwise, and a trace labelled correct has no first error. Both are recorded on the
draft (`implied`) so the ingest report counts them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rubricate.config import BOOL_FIELDS, STEP_FIELDS, FieldMap, SourceConfig, value_key
from rubricate.ingest.records import Rejection, TraceDraft, excerpt

MISSING: Any = object()  # a path that matches nothing (unlike a JSON null, which is present and empty)


class BadValue(ValueError):
    """A mapped value that cannot be read as its field; the message names the field, the path and the fix."""


def split_path(path: str) -> list[str]:
    """'a.b[0].c[*].d' -> ['a', 'b', '0', 'c', '*', 'd']."""
    return [p for p in re.split(r"\.|\[|\]", path) if p != ""]


def get_path(row: Any, path: str) -> Any:
    """The value at `path`; MISSING when absent. `*` maps the rest of the path over every element of a list
    (an element lacking it gives MISSING in its place)."""
    return _walk(row, split_path(path))


def _walk(cur: Any, parts: list[str]) -> Any:
    for i, part in enumerate(parts):
        if part == "*":
            if not isinstance(cur, list):
                return MISSING
            return [_walk(el, parts[i + 1:]) for el in cur]
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.lstrip("-").isdigit() and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
    return cur




def _kind(value: Any) -> str:
    return {dict: "object", list: "list", bool: "boolean", str: "text"}.get(type(value), type(value).__name__)


class FieldReader:
    """The field map of one source, compiled once and applied row by row (`map_row`); it keeps no state between rows."""

    def __init__(self, fields: FieldMap, source: SourceConfig) -> None:
        self.fields = fields
        self.source = source
        self.specs = fields.specs()
        self.global_nulls = set(fields.nulls)
        self.patterns = {name: re.compile(s.pattern) for name, s in self.specs.items() if s.pattern}
        self.parts = {name: split_path(s.path) for name, s in self.specs.items()}
        # fields with no value rules: their values are read as they are (the common case, kept fast)
        self.plain = {name for name, s in self.specs.items()
                      if not (self.global_nulls or s.nulls or s.map is not None or s.pattern)}
        # top-level keys the map reads; the rest of the row goes to `extra`
        self.mapped_keys = {split_path(s.path)[0] for s in self.specs.values()}

    # -- value rules -------------------------------------------------------------------------------
    def _where(self, name: str) -> str:
        return f"field '{self.specs[name].path}' ({name})"

    def _rules(self, name: str, value: Any) -> Any:
        """nulls -> map -> pattern for one scalar value; None means no value."""
        if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN: Parquet/pandas' missing number
            return None
        if name in self.plain or not isinstance(value, (str, int, float, bool)):
            return value  # no rules; or objects and lists, whose reading says what is wrong with them
        spec = self.specs[name]
        key = value_key(value)
        if key in self.global_nulls or key in spec.nulls:
            return None
        if spec.map is not None:
            if key in spec.map:
                return spec.map[key]
            if spec.has_otherwise:
                return spec.otherwise
            if not spec.pattern:
                raise BadValue(f"{self._where(name)}: value {key!r} is not in its `map` ({', '.join(map(repr, spec.map))}); "
                               "add it to `map`, list it in `nulls`, or set `otherwise`")
        if spec.pattern:
            m = self.patterns[name].search(value if isinstance(value, str) else key)
            if m is None:
                raise BadValue(f"{self._where(name)}: value {value!r} does not match `pattern` {spec.pattern!r}; "
                               "add it to `map` or `nulls`")
            return m.group(1)
        return value

    def _single(self, name: str, raw: Any) -> Any:
        """The value rules applied, and a list reduced when the field says how; None = no value."""
        spec = self.specs[name]
        if isinstance(raw, list):
            if spec.reduce is None:
                raise BadValue(f"{self._where(name)} is a list ({excerpt(json.dumps(raw, default=str), 80)}); "
                               "set `reduce` (first, last, min, max, or first_true for per-step flags) to pick one value")
            values = [self._rules(name, v if v is not MISSING else None) for v in raw]
            if spec.reduce == "first_true":
                flags = [v is not None and _as_bool(v, self._where(name)) for v in values]
                return Position(next((i for i, f in enumerate(flags) if f), None))
            present = [v for v in values if v is not None]
            if not present:
                return None
            if spec.reduce in ("min", "max"):
                numbers = [_as_int(v, self._where(name)) for v in present]
                return min(numbers) if spec.reduce == "min" else max(numbers)
            return present[0] if spec.reduce == "first" else present[-1]
        return self._rules(name, raw)

    # -- field kinds -----------------------------------------------------------------------------------
    def _text(self, name: str, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            raise BadValue(f"{self._where(name)} is a boolean ({value}), expected text; map it with `map` if it means something")
        if isinstance(value, (int, float, Decimal)):
            return str(value)
        if isinstance(value, dict):
            keys = ", ".join(f"'{self.specs[name].path}.{k}'" for k in list(value)[:5])
            raise BadValue(f"{self._where(name)} is an object, expected text; map a path inside it ({keys})")
        raise BadValue(f"{self._where(name)} is a {_kind(value)}, expected text")

    def _steps(self, name: str, value: Any) -> list[str]:
        """A list of steps: each element text, or a list of texts (one step in parts, joined by newlines)."""
        if not isinstance(value, list):
            raise BadValue(f"{self._where(name)} is {_kind(value)}, expected a list of steps")
        steps: list[str] = []
        for i, el in enumerate(value):
            if isinstance(el, list) and all(isinstance(part, str) for part in el):
                steps.append("\n".join(el))
            elif isinstance(el, str):
                steps.append(el)
            elif el is MISSING:
                raise BadValue(f"{self._where(name)}: element {i} lacks the path; every step needs it")
            else:
                hint = f"; map a path inside it ('{self.specs[name].path}[*].<key>')" if isinstance(el, dict) else ""
                raise BadValue(f"{self._where(name)}: element {i} is {_kind(el)}, expected text or a list of texts{hint}")
        return steps

    def read(self, name: str, row: dict[str, Any]) -> tuple[Any, bool]:
        """(raw value, absent) for a mapped field."""
        value = _walk(row, self.parts[name])
        return (None, True) if value is MISSING else (value, False)

    # -- one row ---------------------------------------------------------------------------------------
    def map_row(self, row: Any, line: int) -> TraceDraft | Rejection:
        if not isinstance(row, dict):
            return Rejection(line, "bad_value", f"row is a JSON {_kind(row)}, expected an object", _raw(row))
        raw: dict[str, Any] = {}
        absent: list[str] = []
        for name, spec in self.specs.items():
            value, missing = self.read(name, row)
            raw[name] = value
            if missing:
                absent.append(f"{name} ({spec.path})")
        if raw.get("problem") is None:
            return Rejection(line, "missing_field", f"required field '{self.specs['problem'].path}' (problem) is missing", _raw(row))
        if raw.get("response") is None and raw.get("steps") is None:
            wanted = " or ".join(f"'{self.specs[f].path}'" for f in ("response", "steps") if f in self.specs)
            return Rejection(line, "missing_field", f"required field {wanted} (response) is missing", _raw(row))
        try:
            draft = self._draft(raw, line)
        except BadValue as exc:
            return Rejection(line, "bad_value", str(exc), _raw(row))
        # response and steps are alternatives and a row that got here gives one: the other's absence is no news
        # (without this, mapping only `steps` warned that the default `response` path matched nothing)
        draft.absent = tuple(a for a in absent if a.split(" (")[0] not in ("response", "steps"))
        kept = {k: v for k, v in row.items() if k not in self.mapped_keys and not isinstance(v, (bytes, bytearray))}
        draft.extra = kept | draft.extra  # draft.extra holds what make_consistent set aside
        return draft

    def _draft(self, raw: dict[str, Any], line: int) -> TraceDraft:
        values: dict[str, Any] = {}
        for name in self.specs:
            if name == "steps":
                continue
            if name == "response" and isinstance(raw[name], list):
                continue  # a list response is the steps (below)
            value = self._single(name, raw[name])
            if name in BOOL_FIELDS:
                values[name] = None if value is None else _as_bool(value, self._where(name))
            elif name in STEP_FIELDS:
                values[name] = self._step(name, value)
            else:
                values[name] = self._text(name, value)
        steps = None
        steps_raw = self._rules("steps", raw["steps"]) if "steps" in self.specs else None  # only `nulls` apply to steps
        if steps_raw is not None:
            if isinstance(raw.get("response"), list):
                raise BadValue(f"{self._where('response')} is a list and `steps` is mapped too: map the steps once")
            steps = self._steps("steps", steps_raw)
        elif isinstance(raw.get("response"), list):
            steps = self._steps("response", raw["response"])
        draft = TraceDraft(
            line=line,
            problem=values["problem"] or "",
            response=values.get("response"),
            steps=steps,
            gold_answer=values.get("gold_answer"),
            source_id=values.get("id"),
            model=values.get("model"),
            split=values.get("split"),
            domain=values.get("domain") or self.source.domain,
            label_correct=values.get("label_correct"),
            label_final_answer_correct=values.get("label_final_answer_correct"),
            label_first_error_step=values.get("label_first_error_step"),
            label_error_type=values.get("label_error_type"),
            label_error_description=values.get("label_error_description"),
        )
        draft.implied = make_consistent(draft)
        return draft

    def _step(self, name: str, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, Position):  # a position in a per-step list: 0-based already, step_base does not apply
            return value.index
        idx = _as_int(value, self._where(name))
        if idx < 0:  # ProcessBench-style -1 = "no error"
            return None
        return idx - self.source.step_base


@dataclass(frozen=True)
class Position:
    """The 0-based position `reduce: first_true` found in a per-step list (None: no element is true)."""

    index: int | None


def _as_int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise BadValue(f"{where}: step index must be a number, got the boolean {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)) and value == int(value):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise BadValue(f"{where}: step index must be a whole number, got {value!r}; "
                   "list it in `nulls` if it means no step, or use `pattern` to pick the number out of the text")


_TRUE = {"true", "yes", "1", "correct"}
_FALSE = {"false", "no", "0", "incorrect"}


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue(f"{where}: cannot read {value!r} as true/false; give its meaning with `map` (e.g. {{{value!r}: false}}) "
                   "or list it in `nulls`")


def make_consistent(draft: TraceDraft) -> tuple[str, ...]:
    """Make the labels agree; returns what was implied (for the ingest report).

    A first-error step means the trace is wrong unless a correctness label says otherwise; a trace labelled
    correct has no first error (its step label is cleared, and the report says so)."""
    notes: list[str] = []
    if draft.label_correct is True and draft.label_first_error_step is not None:
        draft.extra["ignored_label_first_error_step"] = draft.label_first_error_step
        draft.label_first_error_step = None
        notes.append("first error step cleared: the trace is labelled correct")
    if draft.label_correct is None and draft.label_first_error_step is not None:
        draft.label_correct = False
        notes.append("label_correct=false implied by a first error step")
    return tuple(notes)


def _raw(row: Any) -> str:
    return excerpt(json.dumps(row, ensure_ascii=False, default=str)[:500])
