"""The `judge:` section of the pipeline config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rubricate.strict import Strict


class JudgeConfig(Strict):
    # auto: the rubric judge when an LLM backend is configured, the offline embedding judge when llm.kind is none.
    kind: Literal["auto", "rubric", "plain", "offline"] = "auto"
    max_parse_retries: int = Field(default=2, ge=0, le=10)  # re-asks after a verdict that does not parse; then an error row
    retry_temperature: float = Field(default=0.7, ge=0)  # re-asks sample, so they can differ from the first answer
    batch_size: int = Field(default=2000, ge=1)  # traces judged and stored per round (a killed run loses at most one)
    # Evaluation against gold labels: build the rubric (and fit the offline judge) on this fraction, score the rest.
    gold_fraction: float = Field(default=0.2, gt=0, lt=1)
    split_seed: int = 0
    rubric_version: str | None = None  # a stored rubric version to judge with
    rubric_path: str | None = None  # or a rubric exported as JSON
    offline_k: int = Field(default=3, ge=1, le=50)  # neighbours per step the offline judge averages
