"""The JSON answers the LLM stages ask for, each declared once as a pydantic model.

A model's JSON schema is what goes to `response_format` (vLLM guided decoding, llama.cpp's grammar, OpenAI
strict mode) and its validation is what parses the answer, so the two cannot drift apart. The schema is
rewritten into the plain form those decoders take: one self-contained object (nested models inlined, no
`$defs`/`$ref`), `X | None` as a type list, every property required and no other property allowed (strict
mode's rule: a model says "none" with null, never by leaving a field out). Parsing is more tolerant than the
schema, for answers made without one: extra keys are ignored, and a field's own validators say what else is.

Values only known at request time (the rubric's item ids) are enums filled in per request: a field marked
`enum_from("item_ids")` gets `response_schema(item_ids=[...])`'s list, and its validator reads the same
name from the validation context that `parse(text, item_ids=...)` passes.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Self, Sequence

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo, WithJsonSchema

from rubricate.llm.ask import ParseFailure, extract_json

_ENUM_FROM = "x-enum-from"  # placeholder key in a generated schema, replaced by the enum's values
_SCHEMA_KEYS = ("type", "enum", "properties", "items", "required", "additionalProperties")  # kept, in this order
# Pydantic's additions for human readers (titles, the class docstring) and defaults (strict mode has none):
# dropped, so the schema constrains the answer and nothing else; the prompt is what explains it.
_DOCS_ONLY = frozenset({"title", "description", "default"})
_ANSWER_EXCERPT = 200  # characters of the raw answer quoted in a parse failure


class LLMAnswer(BaseModel):
    """Base of every answer model: `response_schema()` for the request, `parse()` for the answer."""

    model_config = ConfigDict(extra="ignore")  # keys the schema would forbid are dropped, not failures

    @classmethod
    def response_schema(cls, **enums: Sequence[str]) -> dict[str, Any]:
        """The `response_format` schema, with the values of every `enum_from(name)` field filled in."""
        generated = _generated_schema(cls)
        return _decoder_schema(generated, generated.get("$defs", {}), enums)

    @classmethod
    def parse(cls, text: str | None, **context: Any) -> Self | ParseFailure:
        """The answer as this model, or why it is not one. `context` is what the validators check against
        (`n_steps`, `item_ids`, ...). Thinking is never passed in: backends split it off already."""
        value = extract_json(text)
        if isinstance(value, ParseFailure):
            return value
        try:
            return cls.model_validate(value, context=context)
        except ValidationError as exc:
            return ParseFailure(f"{describe_errors(exc)}; answer: {str(text)[:_ANSWER_EXCERPT]!r}")


def describe_errors(exc: ValidationError) -> str:
    """Every problem of an answer, where it is and what was there: `items[0].step: 9 is outside ...`."""
    parts = []
    for err in exc.errors(include_url=False):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        if err["type"] == "value_error":  # our own validators: the message says it all
            what = str(err["ctx"]["error"])
        elif err["type"] == "missing":
            what = "missing"
        else:
            what = f"{err['msg']}, got {repr(err['input'])[:100]}"
        parts.append(f"{where}: {what}" if where else what)
    return "; ".join(parts)[:500]


def enum_from(name: str) -> WithJsonSchema:
    """Schema of a string field whose allowed values are given per request as `response_schema(name=[...])`."""
    return WithJsonSchema({"type": "string", _ENUM_FROM: name})


def context_value(info: ValidationInfo, name: str) -> Any:
    if not info.context or name not in info.context:
        raise TypeError(f"parsing this answer needs {name!r}: pass it to parse({name}=...)")
    return info.context[name]


# -- Field types shared by several answers ------------------------------------------------------------

def within_trace(step: int, info: ValidationInfo) -> int:
    """A 0-based step of the trace the answer is about (context `n_steps`)."""
    n_steps = context_value(info, "n_steps")
    if not 0 <= step < n_steps:
        raise ValueError(f"{step} is outside the trace's steps " + (f"0..{n_steps - 1}" if n_steps else "(it has none)"))
    return step


def _not_a_bool(value: Any) -> Any:
    # JSON true/false are not step numbers, though pydantic's lax int would read them as 1/0.
    if isinstance(value, bool):
        raise ValueError(f"must be a step number, got {value!r}")
    return value


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    return text.strip()


# A 0-based step of the trace being judged (context `n_steps`). Lenient like the judges always were: a whole
# float or a numeric string is read as the number, true/false are not.
TraceStep = Annotated[int, BeforeValidator(_not_a_bool), AfterValidator(within_trace)]
# Text that must say something; kept stripped.
Text = Annotated[str, AfterValidator(_not_blank)]


@cache
def _generated_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _decoder_schema(node: dict[str, Any], defs: dict[str, Any], enums: dict[str, Sequence[str]]) -> dict[str, Any]:
    """`node` in the plain form every structured-output decoder takes (see the module docstring)."""
    unknown = set(node) - {*_SCHEMA_KEYS, *_DOCS_ONLY, "$ref", "$defs", "anyOf", _ENUM_FROM}
    if unknown:
        raise TypeError(f"answer schema uses {sorted(unknown)}, which structured-output decoders are not known to take")
    if "$ref" in node:
        return _decoder_schema(defs[node["$ref"].removeprefix("#/$defs/")], defs, enums)
    if "anyOf" in node:  # `X | None`: a type list, which every decoder reads
        variants = [_decoder_schema(v, defs, enums) for v in node["anyOf"]]
        if any(set(v) != {"type"} or isinstance(v["type"], list) for v in variants):
            raise TypeError(f"answer schema has a union of more than simple types: {node['anyOf']}")
        return {"type": [v["type"] for v in variants]}
    out: dict[str, Any] = {}
    if "type" in node:
        out["type"] = node["type"]
    if _ENUM_FROM in node:
        name = node[_ENUM_FROM]
        if name not in enums:
            raise TypeError(f"this answer's schema needs the values of {name!r}: pass response_schema({name}=[...])")
        out["enum"] = list(enums[name])
    elif "enum" in node:
        out["enum"] = list(node["enum"])
    if "properties" in node:
        out["properties"] = {k: _decoder_schema(v, defs, enums) for k, v in node["properties"].items()}
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    if "items" in node:
        out["items"] = _decoder_schema(node["items"], defs, enums)
    return out
