"""What the judges' models answer: the plain verdict, and the rubric judge's selection and check.

An answer is parsed against the trace and rubric it is about (the validation context: `n_steps`,
`item_ids`, `selected`). Unknown rubric item ids, steps outside the trace and, in a check, a selected item
left undecided or an item decided that was not selected are failures (re-asked, then an error row), never
quietly dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, Sequence

from pydantic import AfterValidator, BaseModel, BeforeValidator, StrictBool, ValidationInfo, model_validator

from rubricate.llm.answers import LLMAnswer, TraceStep, context_value, enum_from


def _known_item(item_id: str, info: ValidationInfo) -> str:
    if item_id not in context_value(info, "item_ids"):
        raise ValueError(f"{item_id!r} is not an item of the rubric")
    return item_id


# An item id of the rubric being judged with: enforced by the schema's enum and again when parsed.
RubricItemId = Annotated[str, AfterValidator(_known_item), enum_from("item_ids")]


class PlainAnswer(LLMAnswer):
    """The plain judge: is the solution correct, and if not, where is the first error?"""

    verdict: Literal["correct", "incorrect"]
    first_error_step: TraceStep | None = None
    explanation: Annotated[str, BeforeValidator(lambda v: "" if v is None else str(v))] = ""

    @model_validator(mode="before")
    @classmethod
    def _correct_has_no_error_step(cls, data: Any) -> Any:
        # A correct solution has no first error: whatever the answer put there is ignored, not a failure.
        if isinstance(data, dict) and data.get("verdict") == "correct":
            return {**data, "first_error_step": None}
        return data


class SelectionAnswer(LLMAnswer):
    """The rubric judge's first pass: the items that could apply (order kept, duplicates dropped)."""

    selected: Annotated[list[RubricItemId], AfterValidator(lambda ids: list(dict.fromkeys(ids)))]


class ItemDecision(BaseModel):
    """One item of a check: present or not, at which step, with a quote as evidence."""

    item_id: RubricItemId
    present: StrictBool
    step: TraceStep | None = None
    evidence: Annotated[str, BeforeValidator(lambda v: v or "")] = ""

    @model_validator(mode="before")
    @classmethod
    def _absent_has_no_step(cls, data: Any) -> Any:
        # Only a present item is located: the step of an absent one is ignored, not a failure.
        if isinstance(data, dict) and data.get("present") is False:
            return {**data, "step": None}
        return data

    @model_validator(mode="after")
    def _present_names_a_step(self) -> Self:
        if self.present and self.step is None:
            raise ValueError(f"item {self.item_id} is present but names no step")
        return self


class CheckAnswer(LLMAnswer):
    """The rubric judge's second pass: a decision for every selected item, and for nothing else.

    An item left out, one that was not selected or two contradicting decisions are failures, because an
    undecided item read as "absent" would turn an incomplete answer into a pass.
    """

    items: list[ItemDecision]

    @model_validator(mode="after")
    def _decides_every_selected_item_once(self, info: ValidationInfo) -> Self:
        selected = list(dict.fromkeys(context_value(info, "selected")))
        decided: dict[str, ItemDecision] = {}
        for item in self.items:
            if item.item_id not in selected:
                raise ValueError(f"check decides item {item.item_id!r}, which was not selected (selected: {', '.join(selected)})")
            earlier = decided.setdefault(item.item_id, item)
            if (earlier.present, earlier.step) != (item.present, item.step):
                raise ValueError(f"check decides item {item.item_id!r} twice, differently")
        if not decided:
            raise ValueError(f"check gives no decision; every selected item needs one ({', '.join(selected)})")
        missing = [i for i in selected if i not in decided]
        if missing:
            raise ValueError(f"check gives no decision for selected item(s) {', '.join(missing)}; every selected item needs one")
        return self

    def decisions(self, selected: Sequence[str], steps: Sequence[str]) -> list[dict[str, Any]]:
        """[{item_id, present, step, evidence, evidence_found}] in the order of `selected`.

        Whether the evidence quote really occurs in its step is recorded (`evidence_found`), not enforced:
        models paraphrase, and a missing quote is worth seeing, not worth discarding the verdict.
        """
        first: dict[str, ItemDecision] = {}
        for item in self.items:
            first.setdefault(item.item_id, item)
        out = []
        for item_id in dict.fromkeys(selected):
            d = first[item_id]
            found = bool(d.evidence.strip() and _normal(d.evidence) in _normal(steps[d.step])) if d.step is not None else None
            out.append({"item_id": item_id, "present": d.present, "step": d.step, "evidence": d.evidence[:500], "evidence_found": found})
        return out


def _normal(text: str) -> str:
    return " ".join(text.lower().split())
