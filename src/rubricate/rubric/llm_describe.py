"""The `llm` description source: an LLM reads problem, gold answer and trace, and returns JSON.

{"first_error_step": int, "description": str, "keyword": str, "how_to_check": str}. An answer that does
not parse or misses a field is re-asked once (a new sample, not the cached failure); what still fails is
an 'error' row with the reason and the raw answer, never a crash.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictInt, WithJsonSchema

from rubricate.llm.answers import LLMAnswer, Text, within_trace
from rubricate.llm.ask import ParseFailure, ask_with_retries
from rubricate.llm.base import LLMBackend, LLMRequest, LLMResponse
from rubricate.llm.prompts import fence_trace, load_prompt
from rubricate.rubric.config import RubricConfig
from rubricate.rubric.descriptions import DESCRIBE_PROMPT, description_row, first_sentences
from rubricate.rubric.generalize import generalize

RETRIES_PER_RUN = 1

# Asked for as a string; anything else (left out, a number) reads as not given rather than as a failure.
_OptionalText = Annotated[
    str | None, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else None), WithJsonSchema({"type": "string"})
]


class DescribedError(LLMAnswer):
    """The first error of a wrong trace, described in general terms (context `n_steps`)."""

    # Strictly an integer here (the judges also read "3" and 3.0): the describer never accepted those.
    first_error_step: Annotated[StrictInt, AfterValidator(within_trace)] | None = None
    description: Text
    keyword: _OptionalText = None
    how_to_check: _OptionalText = None


def build_request(trace: dict[str, Any], attempt: int) -> LLMRequest:
    prompt = load_prompt(DESCRIBE_PROMPT)
    steps = list(trace.get("steps") or [])
    fenced = fence_trace(trace["problem"], steps)
    step = trace.get("label_first_error_step")
    hint = f"A grader marked step {step} as the first wrong step.\n" if step is not None else ""
    messages = prompt.render(
        gold_answer=trace.get("gold_answer") or "(not given)", hint=hint, nonce=fenced.nonce, trace=fenced.block
    )
    return LLMRequest(
        key=trace["trace_id"],
        messages=messages,
        response_schema=DescribedError.response_schema(),
        prompt_id=prompt.prompt_id,
        sample_index=int(trace.get("attempts") or 0) + attempt,  # a retry on a later refresh is a new sample too
    )


def parse_answer(trace: dict[str, Any], response: LLMResponse) -> DescribedError | ParseFailure:
    return DescribedError.parse(response.text, n_steps=len(trace.get("steps") or []))


def describe_with_llm(
    traces: list[dict[str, Any]], did: str, rcfg: RubricConfig, backend: LLMBackend, now: Any
) -> list[dict[str, Any]]:
    """One description row per trace (ok or error), in the order given."""
    # Re-ask within this run only while every trace of the batch stays within llm_max_attempts in total.
    used = max((int(t.get("attempts") or 0) for t in traces), default=0)
    retries = max(0, min(RETRIES_PER_RUN, rcfg.llm_max_attempts - used - 1))
    outcomes = ask_with_retries(backend, traces, build_request, parse_answer, max_retries=retries)
    prompt_id = load_prompt(DESCRIBE_PROMPT).prompt_id
    rows = []
    for trace, out in zip(traces, outcomes):
        attempts = int(trace.get("attempts") or 0) + out.attempts
        common = {"origin": "llm", "prompt_id": prompt_id, "model": backend.model, "attempts": attempts}
        if out.value is None:
            rows.append(description_row(trace["trace_id"], did, "llm", now, status="error", error=out.error, **common))
            continue
        v = out.value
        # The LLM was asked for a general description; masking numbers and formulas is a cheap safety net.
        text = first_sentences(generalize(v.description) if rcfg.generalize else v.description, rcfg.max_description_words)
        rows.append(
            description_row(
                trace["trace_id"], did, "llm", now, status="ok", description=text, raw_text=v.description,
                keyword=v.keyword, how_to_check=v.how_to_check, first_error_step=v.first_error_step, **common,
            )
        )
    return rows
