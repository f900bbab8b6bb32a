"""What a judge reads (a trace) and what it returns (a verdict, stored as one `judge_verdicts` row)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Sequence

from rubricate.llm.base import ProgressFn, TokenSpend

Verdict = Literal["correct", "incorrect", "error"]


@dataclass(frozen=True)
class TraceToJudge:
    trace_id: str
    problem: str
    steps: tuple[str, ...]
    # Gold labels, when known: only the offline judge learns from them, and only on the labelled split.
    label_correct: bool | None = None
    label_first_error_step: int | None = None


@dataclass
class JudgeVerdict(TokenSpend):
    trace_id: str
    verdict: Verdict
    first_error_step: int | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    selected: list[str] | None = None
    explanation: str | None = None
    score: float | None = None
    error: str | None = None
    error_stage: str | None = None
    attempts: int = 1

    @classmethod
    def failed(cls, trace_id: str, stage: str, error: str, **kw: Any) -> "JudgeVerdict":
        return cls(trace_id=trace_id, verdict="error", error=error, error_stage=stage, **kw)

    def row(self, judge: "Judge") -> dict[str, Any]:
        return {
            "trace_id": self.trace_id, "judge_id": judge.judge_id, "judge_kind": judge.kind,
            "rubric_version": judge.rubric_version, "model": judge.model, "prompt_id": judge.prompt_id,
            "verdict": self.verdict, "first_error_step": self.first_error_step,
            "items": json.dumps(self.items, ensure_ascii=False) if self.items else None,
            "selected": json.dumps(self.selected) if self.selected is not None else None,
            "explanation": self.explanation, "score": self.score, "error": self.error, "error_stage": self.error_stage,
            "attempts": self.attempts, "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


class Judge(Protocol):
    kind: str  # rubric | plain | offline
    judge_id: str  # hash of everything that changes its verdicts: a new one judges again
    model: str | None
    prompt_id: str | None
    rubric_version: str | None

    def judge(self, traces: Sequence[TraceToJudge], progress: ProgressFn | None = None) -> list[JudgeVerdict]:
        """One verdict per trace, in order. Failures are error verdicts, never exceptions."""
        ...
