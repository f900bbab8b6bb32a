"""The `collect:` section: which policy model samples responses, and how many per problem."""

from __future__ import annotations

from pydantic import Field

from rubricate.llm.base import LLMConfig
from rubricate.strict import Strict


class CollectConfig(Strict):
    # The policy model being sampled (not the judge): its own backend, model and server.
    policy: LLMConfig = LLMConfig()
    samples_per_problem: int = Field(default=4, ge=1, le=1024)  # k
    temperature: float = Field(default=1.0, ge=0)  # sampling, so the k responses differ
    max_tokens: int = Field(default=4096, ge=1)
    output_dir: str | None = None  # where the rollout Parquet files go; default <data_dir>/collected
