"""Ask an LLM a batch of questions whose answers must parse, re-asking the failures a bounded number of times.

Only the answer is parsed (a backend has already split thinking off). A parser returns its value or a
`ParseFailure`; whatever still fails after the re-asks is returned as an error for the caller to store
as an error row, never turned into a score.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Generic, Sequence, TypeVar

from rubricate.llm.base import LLMBackend, LLMRequest, LLMResponse, ProgressFn, TokenSpend

T = TypeVar("T")
R = TypeVar("R")


_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


@dataclass(frozen=True)
class ParseFailure:
    reason: str


def extract_json(text: str | None) -> dict[str, Any] | ParseFailure:
    """The JSON object the answer consists of: the whole text, or a ```json fenced block, or the first
    object that starts the answer after some words. Anything else is a failure."""
    if text is None or not text.strip():
        return ParseFailure("empty answer")
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        start = body.find("{")
        if start < 0:
            return ParseFailure(f"answer is not JSON: {text[:200]!r}")
        try:
            value, _ = json.JSONDecoder().raw_decode(body[start:])
        except json.JSONDecodeError as exc:
            return ParseFailure(f"answer is not valid JSON ({exc.msg}): {text[:200]!r}")
    if not isinstance(value, dict):
        return ParseFailure(f"answer is JSON {type(value).__name__}, expected an object")
    return value


@dataclass
class Outcome(TokenSpend, Generic[R]):
    value: R | None = None
    error: str | None = None
    attempts: int = 0  # answers asked for (the first ask and the re-asks)
    # HTTP requests behind those answers, transport retries included; a cached answer counts the requests
    # that first produced it, so the number is the same on a rerun.
    requests: int = 0
    retries_used: int = 0  # transport retries spent so far: the re-asks share one budget with them
    reasoning: list[str] = field(default_factory=list)


def ask_with_retries(
    backend: LLMBackend,
    subjects: Sequence[T],
    build: Callable[[T, int], LLMRequest],
    parse: Callable[[T, LLMResponse], R | ParseFailure],
    max_retries: int,
    progress: ProgressFn | None = None,
) -> list[Outcome[R]]:
    """Ask about every subject in one batch; re-ask the ones whose answer failed, up to `max_retries` rounds.

    `build(subject, attempt)` makes the request; re-asks carry `sample_index = attempt` so they are new
    cache entries (and new samples), not the cached failure again.

    One budget per question: a re-ask carries the transport retries already spent (`retries_used`), so a
    backend retries only what is left of llm.max_retries, and a request the backend gave up on (retries
    spent, or an error no retry fixes) is not re-asked. A question thus sends at most
    1 + llm.max_retries + max_retries (the re-asks here) requests, never their product.
    """
    outcomes: list[Outcome[R]] = [Outcome() for _ in subjects]
    pending = list(range(len(subjects)))
    for attempt in range(max_retries + 1):
        if not pending:
            break
        requests = [_with_budget(build(subjects[i], attempt), outcomes[i].retries_used) for i in pending]
        responses = backend.complete(requests, progress=progress if attempt == 0 else None)
        still: list[int] = []
        for i, resp in zip(pending, responses):
            out = outcomes[i]
            out.attempts += 1
            sent = max(1, int(resp.raw.get("attempts") or 1))
            out.requests += sent
            out.retries_used += sent - 1
            out.add_spend(resp)
            if resp.reasoning:
                out.reasoning.append(resp.reasoning)
            if not resp.ok:
                out.error = f"llm error: {resp.error}"
                if not resp.raw.get("gave_up"):  # e.g. an empty answer: another sample may do
                    still.append(i)
                continue
            parsed = parse(subjects[i], resp)
            if isinstance(parsed, ParseFailure):
                out.error = parsed.reason
                still.append(i)
            else:
                out.value, out.error = parsed, None
        pending = still
    return outcomes


def _with_budget(request: LLMRequest, retries_used: int) -> LLMRequest:
    return replace(request, retries_used=retries_used) if retries_used else request
