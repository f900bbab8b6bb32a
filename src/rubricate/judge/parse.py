"""Turn a model's answer into a verdict, or into the reason it is not one.

Only the answer is parsed (thinking was split off by the backend). A parser returns its value or a
`ParseFailure`; the caller re-asks a bounded number of times and then stores an error row. Unknown
rubric item ids and step numbers outside the trace are failures, not quietly dropped.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from rubricate.llm.ask import ParseFailure, extract_json

__all__ = ["ParseFailure", "extract_json", "parse_plain", "parse_selection", "parse_check"]


def _step(value: Any, n_steps: int, what: str) -> int | None | ParseFailure:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return ParseFailure(f"{what} must be a step number, got {value!r}")
    try:
        step = int(value)
    except ValueError:
        return ParseFailure(f"{what} must be a step number, got {value!r}")
    if isinstance(value, float) and value != step:
        return ParseFailure(f"{what} must be a whole step number, got {value!r}")
    if not 0 <= step < n_steps:
        return ParseFailure(f"{what} {step} is outside the trace's steps 0..{n_steps - 1}")
    return step


def parse_plain(text: str | None, n_steps: int) -> tuple[str, int | None, str] | ParseFailure:
    """(verdict, first_error_step, explanation) of the plain judge."""
    obj = extract_json(text)
    if isinstance(obj, ParseFailure):
        return obj
    verdict = obj.get("verdict")
    if verdict not in ("correct", "incorrect"):
        return ParseFailure(f"'verdict' must be \"correct\" or \"incorrect\", got {verdict!r}")
    step: int | None | ParseFailure = None
    if verdict == "incorrect":
        step = _step(obj.get("first_error_step"), n_steps, "first_error_step")
        if isinstance(step, ParseFailure):
            return step
    explanation = obj.get("explanation")
    return verdict, step, str(explanation)[:2000] if explanation is not None else ""


def parse_selection(text: str | None, item_ids: set[str]) -> list[str] | ParseFailure:
    """The rubric item ids the selection pass picked (order kept, duplicates dropped)."""
    obj = extract_json(text)
    if isinstance(obj, ParseFailure):
        return obj
    selected = obj.get("selected")
    if not isinstance(selected, list) or not all(isinstance(s, str) for s in selected):
        return ParseFailure(f"'selected' must be a list of item ids, got {selected!r}"[:300])
    unknown = sorted({s for s in selected if s not in item_ids})
    if unknown:
        return ParseFailure(f"selection names items the rubric does not have: {unknown[:10]}")
    return list(dict.fromkeys(selected))


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def parse_check(
    text: str | None, item_ids: set[str], steps: tuple[str, ...], selected: Sequence[str]
) -> list[dict[str, Any]] | ParseFailure:
    """[{item_id, present, step, evidence, evidence_found}] of the checking pass, in the order of `selected`.

    The check must decide every selected item exactly once and nothing else: an item left out, one that
    was not selected or two contradicting decisions are failures (re-asked, then an error row), because
    an undecided item read as "absent" would turn an incomplete answer into a pass. Every item must be
    one of the rubric's; a present item must name a step of the trace. Whether the evidence quote really
    occurs in that step is recorded (`evidence_found`), not enforced: models paraphrase, and a missing
    quote is worth seeing, not worth discarding the verdict.
    """
    obj = extract_json(text)
    if isinstance(obj, ParseFailure):
        return obj
    raw_items = obj.get("items")
    if not isinstance(raw_items, list):
        return ParseFailure(f"'items' must be a list, got {type(raw_items).__name__}")
    wanted = list(dict.fromkeys(selected))
    out: dict[str, dict[str, Any]] = {}
    for raw in raw_items:
        if not isinstance(raw, dict):
            return ParseFailure(f"each entry of 'items' must be an object, got {raw!r}"[:300])
        item_id = raw.get("item_id")
        if item_id not in item_ids:
            return ParseFailure(f"check names an item the rubric does not have: {item_id!r}")
        if item_id not in wanted:
            return ParseFailure(f"check decides item {item_id!r}, which was not selected (selected: {', '.join(selected)})")
        present = raw.get("present")
        if not isinstance(present, bool):
            return ParseFailure(f"'present' of {item_id} must be true or false, got {present!r}")
        evidence = raw.get("evidence") or ""
        if not isinstance(evidence, str):
            return ParseFailure(f"'evidence' of {item_id} must be a string")
        step = None
        if present:
            parsed = _step(raw.get("step"), len(steps), f"step of {item_id}")
            if isinstance(parsed, ParseFailure):
                return parsed
            if parsed is None:
                return ParseFailure(f"item {item_id} is present but names no step")
            step = parsed
        found = bool(present and evidence.strip() and _normal(evidence) in _normal(steps[step])) if step is not None else None
        decision = {"item_id": item_id, "present": present, "step": step, "evidence": evidence[:500], "evidence_found": found}
        earlier = out.get(str(item_id))
        if earlier is not None and (earlier["present"], earlier["step"]) != (present, step):
            return ParseFailure(f"check decides item {item_id!r} twice, differently")
        out.setdefault(str(item_id), decision)
    if not out:
        return ParseFailure(f"check gives no decision; every selected item needs one ({', '.join(selected)})")
    missing = [i for i in wanted if i not in out]
    if missing:
        return ParseFailure(f"check gives no decision for selected item(s) {', '.join(missing)}; every selected item needs one")
    return [out[i] for i in wanted]


# -- JSON schemas for structured output (vLLM guided decoding, OpenAI strict mode) ----------------

def plain_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": ["correct", "incorrect"]},
            "first_error_step": {"type": ["integer", "null"]},
            "explanation": {"type": "string"},
        },
        "required": ["verdict", "first_error_step", "explanation"],
        "additionalProperties": False,
    }


def selection_schema(item_ids: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"selected": {"type": "array", "items": {"type": "string", "enum": item_ids}}},
        "required": ["selected"],
        "additionalProperties": False,
    }


def check_schema(item_ids: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "item_id": {"type": "string", "enum": item_ids},
                        "present": {"type": "boolean"},
                        "step": {"type": ["integer", "null"]},
                        "evidence": {"type": "string"},
                    },
                    "required": ["item_id", "present", "step", "evidence"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["items"],
        "additionalProperties": False,
    }


def dumps_compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
