"""The contract every LLM backend honours.

Stages build `LLMRequest`s (shared instructions first, the trace last, so prefix caching hits), hand a
whole batch to `backend.complete(requests)` and get one `LLMResponse` per request, in order. A failed
request is a response with `error` set, never an exception: a bad rollout is data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Protocol, Sequence

from pydantic import ConfigDict, Field, field_validator, model_validator

from rubricate.secrets import check_env_var_name
from rubricate.strict import Strict


class LocalServerConfig(Strict):
    """`llm.kind: llamacpp`: the llama.cpp server rubricate starts on 127.0.0.1 for a GGUF file.

    Defaults measured on 2 cores (README "Local model (no GPU, no key)"): threads = half the cores (more threads
    than idle cores collapses llama.cpp's speed), one slot, prompt caching on (the shared instructions and
    rubric are a cached prefix).
    """

    threads: int | None = Field(default=None, ge=1, le=512)  # None: half the visible cores, at least 1
    ctx_size: int = Field(default=4096, ge=256, le=262_144)  # tokens of context per slot (per request in flight)
    parallel: int = Field(default=1, ge=1, le=64)  # slots: requests the server decodes together
    cache_prompt: bool = True  # reuse the KV cache of a shared prompt prefix across requests
    startup_timeout_s: float = Field(default=300.0, gt=0)  # load + warm-up; a busy machine is slow
    max_restarts: int = Field(default=2, ge=0, le=100)  # per backend: a server that dies is restarted this often
    models_dir: str | None = None  # where fetched weights live; default <data_dir>/models
    log_dir: str | None = None  # the server's log file goes here; default <data_dir>/llm-logs


class LLMConfig(Strict):
    """Which model answers the LLM stages. `none` = offline implementations everywhere."""

    # A pasted key must not reappear in a validation error (pydantic shows the input otherwise).
    model_config = ConfigDict(**Strict.model_config, hide_input_in_errors=True)

    kind: Literal["none", "litellm", "vllm_batch", "llamacpp"] = "none"
    # litellm model string ("openai/gpt-4o-mini", "hosted_vllm/Qwen/..."), a vLLM model path, or for llamacpp a
    # known local model name (rubricate.llm.local_models: qwen2.5-coder-1.5b, smollm2-135m) or a .gguf path
    model: str | None = None
    api_base: str | None = None
    # Several OpenAI-compatible servers of the same model (kind litellm): litellm's Router spreads the requests over
    # them (`router_strategy`), a server that fails (connection refused, timeout, 5xx, 429) is left out for
    # `router_cooldown_s` and its requests are retried on the others. One response cache for all: its key names the
    # model, not the server. `max_concurrency` is the total in flight over all servers.
    api_bases: list[str] = Field(default_factory=list)
    router_strategy: Literal["simple-shuffle", "least-busy"] = "simple-shuffle"
    router_cooldown_s: float = Field(default=30.0, gt=0)
    api_key_env: str | None = None  # name of the environment variable that holds the key (never the key itself)
    max_concurrency: int = Field(default=16, ge=1, le=1024)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=1024, ge=1)
    seed: int | None = 0
    # vllm_batch: where the separate vLLM environment lives (its `vllm` executable) and extra CLI arguments.
    vllm_executable: str | None = None
    vllm_args: list[str] = Field(default_factory=list)
    batch_dir: str | None = None  # where batch JSONL files go; default <data_dir>/llm-batches
    batch_size: int = Field(default=5000, ge=1)  # requests per `vllm run-batch` call (a killed run loses at most one)
    batch_timeout_s: float = Field(default=6 * 3600.0, gt=0)
    # Retries (litellm): exponential backoff from retry_base_s, capped at retry_max_s, on timeouts, 429 and 5xx.
    retry_base_s: float = Field(default=1.0, ge=0)
    retry_max_s: float = Field(default=30.0, ge=0)
    # Every call goes through the DuckDB response cache when the stage hands the backend a store.
    cache: bool = True
    local: LocalServerConfig = LocalServerConfig()

    @field_validator("api_key_env")
    @classmethod
    def _env_var_name_not_key(cls, value: str | None) -> str | None:
        return None if value is None else check_env_var_name(value)

    @model_validator(mode="after")
    def _one_way_to_the_servers(self) -> "LLMConfig":
        if not self.api_bases:
            return self
        if self.kind != "litellm":
            raise ValueError(f"api_bases (several servers behind litellm's Router) needs kind: litellm, not '{self.kind}'")
        if self.api_base:
            raise ValueError("set api_base (one server) or api_bases (several), not both")
        if len(set(self.api_bases)) != len(self.api_bases):
            raise ValueError("api_bases lists a server twice")
        return self


@dataclass(frozen=True)
class LLMRequest:
    key: str  # caller's id for this request (echoed back; custom_id in batch files)
    messages: tuple[dict[str, str], ...]
    response_schema: dict[str, Any] | None = None  # JSON schema for structured output, when the backend supports it
    max_tokens: int | None = None
    temperature: float | None = None
    prompt_id: str = ""  # hash of the prompt template file, stored with every result
    sample_index: int = 0  # k-th sample of the same prompt (k responses per problem; a retry): part of the cache key and the seed
    # Transport retries (timeouts, 429, 5xx) already spent on this question by earlier asks: a backend that
    # retries allows only what is left of llm.max_retries, so re-asks never multiply the retry budget.
    retries_used: int = 0


class SpendLike(Protocol):
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(kw_only=True)
class TokenSpend:
    """What LLM calls cost: the three fields every stage report, verdict and outcome carries, declared once."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add_spend(self, other: SpendLike) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd


@dataclass
class LLMResponse:
    key: str
    text: str | None  # the answer, thinking removed
    reasoning: str | None = None  # <think> content or the provider's reasoning field: kept, never parsed as the verdict
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


ProgressFn = Callable[[int, int], None]  # (done, total)


class LLMBackend(Protocol):
    kind: str
    model: str

    def complete(self, requests: Sequence[LLMRequest], progress: ProgressFn | None = None) -> list[LLMResponse]:
        """One response per request, in the same order."""
        ...
