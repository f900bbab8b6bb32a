"""The LLM judges: the rubric judge (selection pass, then checking pass) and the plain judge baseline.

Both send whole batches (one backend call per pass and per re-ask round, never one per trace), put the
shared instructions and rubric in the system message and the fenced trace last, and turn every answer
that does not parse into a bounded re-ask and then an error verdict.
"""

from __future__ import annotations

from typing import Any, Sequence

from rubricate.ids import content_hash
from rubricate.judge.answers import CheckAnswer, PlainAnswer, SelectionAnswer
from rubricate.judge.records import JudgeVerdict, TraceToJudge
from rubricate.llm.ask import Outcome, ParseFailure, ask_with_retries
from rubricate.llm.base import LLMBackend, LLMRequest, LLMResponse, ProgressFn
from rubricate.llm.prompts import combined_prompt_id, fence_trace, load_prompt
from rubricate.rubric.model import Rubric


def _usage(o: Outcome[Any]) -> dict[str, Any]:
    # `attempts` is stored as the HTTP requests the verdict took (transport retries included), not the asks.
    return {"attempts": o.requests, "prompt_tokens": o.prompt_tokens, "completion_tokens": o.completion_tokens, "cost_usd": o.cost_usd}


def render_rubric(rubric: Rubric) -> str:
    return "\n".join(f"{i.item_id}: {i.name}. {i.description.strip()} Check: {i.how_to_check.strip()}" for i in rubric.items)


class _LLMJudgeBase:
    def __init__(self, backend: LLMBackend, *, max_parse_retries: int = 2, retry_temperature: float = 0.7) -> None:
        self.backend = backend
        self.model: str | None = backend.model
        self.max_parse_retries = max_parse_retries
        self.retry_temperature = retry_temperature

    def _request(self, key: str, messages: tuple[dict[str, str], ...], schema: dict[str, Any], prompt_id: str, attempt: int) -> LLMRequest:
        return LLMRequest(
            key=f"{key}#{attempt}", messages=messages, response_schema=schema, prompt_id=prompt_id, sample_index=attempt,
            temperature=self.retry_temperature if attempt > 0 else None,
        )


class PlainJudge(_LLMJudgeBase):
    """The baseline users would otherwise use: "is this solution correct, and where is the first error?"."""

    kind = "plain"
    rubric_version: str | None = None  # the Judge protocol's type: a plain judge uses no rubric

    def __init__(self, backend: LLMBackend, **kw: Any) -> None:
        super().__init__(backend, **kw)
        self.prompt = load_prompt("judge_plain")
        self.prompt_id: str | None = self.prompt.prompt_id
        self.judge_id = content_hash("plain", backend.kind, self.model, self.prompt_id)
        self._schema = PlainAnswer.response_schema()

    def _build(self, trace: TraceToJudge, attempt: int) -> LLMRequest:
        fenced = fence_trace(trace.problem, trace.steps)
        messages = self.prompt.render(nonce=fenced.nonce, trace=fenced.block)
        return self._request(trace.trace_id, messages, self._schema, self.prompt.prompt_id, attempt)

    def judge(self, traces: Sequence[TraceToJudge], progress: ProgressFn | None = None) -> list[JudgeVerdict]:
        outcomes = ask_with_retries(
            self.backend, traces, self._build, lambda t, r: PlainAnswer.parse(r.text, n_steps=len(t.steps)), self.max_parse_retries, progress
        )
        verdicts = []
        for trace, o in zip(traces, outcomes):
            if o.value is None:
                verdicts.append(JudgeVerdict.failed(trace.trace_id, "judge", o.error or "no answer", **_usage(o)))
                continue
            answer = o.value
            verdicts.append(JudgeVerdict(
                trace_id=trace.trace_id, verdict=answer.verdict, first_error_step=answer.first_error_step,
                explanation=answer.explanation[:2000], **_usage(o),
            ))
        return verdicts


class RubricJudge(_LLMJudgeBase):
    """(a) a selection pass picks the rubric items that could apply; (b) a checking pass decides, for each
    selected item, present or not, at which step, with a quote as evidence. Incorrect if any item is present;
    the first error step is the earliest step of a present item."""

    kind = "rubric"

    def __init__(self, backend: LLMBackend, rubric: Rubric, **kw: Any) -> None:
        super().__init__(backend, **kw)
        if not rubric.items:
            raise ValueError(f"rubric {rubric.version_id} has no items; build a rubric first (or use the plain judge)")
        self.rubric = rubric
        self.rubric_version: str | None = rubric.version_id
        self.select_prompt = load_prompt("judge_rubric_select")
        self.check_prompt = load_prompt("judge_rubric_check")
        self.prompt_id: str | None = combined_prompt_id(self.select_prompt, self.check_prompt)
        self.judge_id = content_hash("rubric", backend.kind, self.model, self.prompt_id, rubric.version_id)
        ids = [i.item_id for i in rubric.items]
        self._ids = set(ids)
        self._rubric_text = render_rubric(rubric)
        self._select_schema = SelectionAnswer.response_schema(item_ids=ids)
        self._check_schema = CheckAnswer.response_schema(item_ids=ids)

    def _build_select(self, trace: TraceToJudge, attempt: int) -> LLMRequest:
        fenced = fence_trace(trace.problem, trace.steps)
        messages = self.select_prompt.render(rubric=self._rubric_text, nonce=fenced.nonce, trace=fenced.block)
        return self._request(f"{trace.trace_id}:select", messages, self._select_schema, self.select_prompt.prompt_id, attempt)

    def _build_check(self, subject: tuple[TraceToJudge, list[str]], attempt: int) -> LLMRequest:
        trace, selected = subject
        fenced = fence_trace(trace.problem, trace.steps)
        messages = self.check_prompt.render(rubric=self._rubric_text, selected=", ".join(selected), nonce=fenced.nonce, trace=fenced.block)
        return self._request(f"{trace.trace_id}:check", messages, self._check_schema, self.check_prompt.prompt_id, attempt)

    def _parse_select(self, trace: TraceToJudge, response: LLMResponse) -> list[str] | ParseFailure:
        answer = SelectionAnswer.parse(response.text, item_ids=self._ids)
        return answer if isinstance(answer, ParseFailure) else answer.selected

    def _parse_check(self, subject: tuple[TraceToJudge, list[str]], response: LLMResponse) -> list[dict[str, Any]] | ParseFailure:
        trace, selected = subject
        answer = CheckAnswer.parse(response.text, item_ids=self._ids, n_steps=len(trace.steps), selected=selected)
        return answer if isinstance(answer, ParseFailure) else answer.decisions(selected, trace.steps)

    def judge(self, traces: Sequence[TraceToJudge], progress: ProgressFn | None = None) -> list[JudgeVerdict]:
        selections = ask_with_retries(self.backend, traces, self._build_select, self._parse_select, self.max_parse_retries, progress)
        to_check = [(t, s.value) for t, s in zip(traces, selections) if s.value]
        checks = ask_with_retries(self.backend, to_check, self._build_check, self._parse_check, self.max_parse_retries)
        check_by_trace = {sub[0].trace_id: c for sub, c in zip(to_check, checks)}
        verdicts = []
        for trace, sel in zip(traces, selections):
            usage = _usage(sel)
            if sel.value is None:
                verdicts.append(JudgeVerdict.failed(trace.trace_id, "select", sel.error or "no answer", **usage))
                continue
            if not sel.value:  # nothing could apply: no checking pass needed
                verdicts.append(JudgeVerdict(trace_id=trace.trace_id, verdict="correct", selected=[], **usage))
                continue
            chk = check_by_trace[trace.trace_id]
            usage = {k: usage[k] + v for k, v in _usage(chk).items()}
            if chk.value is None:
                verdicts.append(JudgeVerdict.failed(trace.trace_id, "check", chk.error or "no answer", selected=sel.value, **usage))
                continue
            items = chk.value
            present_steps = [i["step"] for i in items if i["present"]]
            verdicts.append(JudgeVerdict(
                trace_id=trace.trace_id,
                verdict="incorrect" if present_steps else "correct",
                first_error_step=min(present_steps) if present_steps else None,
                items=items,
                selected=sel.value,
                **usage,
            ))
        return verdicts
