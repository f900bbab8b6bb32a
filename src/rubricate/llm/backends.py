"""Pick the LLM backend a config names; every backend answers `complete(requests, progress) -> responses`.

`get_backend(cfg.llm)` gives the bare backend; `get_backend(cfg.llm, store=store)` wraps it in the DuckDB
response cache (rubricate.llm.cache), so a rerun makes no repeated calls and a killed run resumes.
Heavy clients (litellm) load lazily inside their own module, only when that backend is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rubricate.errors import ConfigError
from rubricate.llm.base import LLMBackend, LLMConfig, LLMRequest, LLMResponse, ProgressFn
from rubricate.llm.usage import Usage

if TYPE_CHECKING:
    from rubricate.store import Store

BACKEND_KINDS = ("none", "litellm", "vllm_batch", "llamacpp")


class NoneBackend:
    """No model. Stages check `backend.kind == "none"` and use their offline implementation instead;
    a stage that calls it anyway gets error responses (data, not a crash) that say so."""

    kind = "none"
    model = ""

    def __init__(self, cfg: LLMConfig | None = None) -> None:
        self.cfg = cfg or LLMConfig()
        self.usage = Usage()

    def complete(self, requests: Sequence[LLMRequest], progress: ProgressFn | None = None) -> list[LLMResponse]:
        out = [
            LLMResponse(key=r.key, text=None, error="llm.kind is 'none': no model is configured; use the stage's offline implementation or set llm.kind")
            for r in requests
        ]
        self.usage.add(out)
        if progress:
            progress(len(out), len(out))
        return out


def sampling_params(cfg: LLMConfig, request: LLMRequest) -> dict[str, Any]:
    """The sampling parameters a request is sent with: its own overrides, else the config's.

    The seed moves with `sample_index`, so the k samples of one prompt differ and each is reproducible.
    """
    return {
        "temperature": cfg.temperature if request.temperature is None else request.temperature,
        "max_tokens": cfg.max_tokens if request.max_tokens is None else request.max_tokens,
        "seed": None if cfg.seed is None else cfg.seed + request.sample_index,
    }


def json_schema_format(schema: dict[str, Any], name: str = "verdict") -> dict[str, Any]:
    """OpenAI `response_format` for structured output (vLLM's guided decoding reads the same field)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def build_backend(cfg: LLMConfig) -> LLMBackend:
    """The bare backend for `cfg.kind`, without the cache."""
    if cfg.kind == "none":
        return NoneBackend(cfg)
    if not cfg.model:
        raise ConfigError(
            f"llm.kind is '{cfg.kind}' but llm.model is empty; set llm.model (a litellm model string, a vLLM model path, "
            "or for llamacpp a known local model name or a .gguf path)"
        )
    if cfg.kind == "litellm":
        from rubricate.llm.litellm_backend import LiteLLMBackend

        return LiteLLMBackend(cfg)
    if cfg.kind == "vllm_batch":
        from rubricate.llm.vllm_batch import VLLMBatchBackend

        return VLLMBatchBackend(cfg)
    if cfg.kind == "llamacpp":
        from rubricate.llm.llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(cfg)
    raise ConfigError(f"unknown llm.kind '{cfg.kind}'; choose one of {', '.join(BACKEND_KINDS)}")


def check_model(cfg: LLMConfig, data_dir: Path) -> None:
    """Fail before any work when the configured model cannot be used here: a local model's weights missing (the
    error names the fix: `make install` or `make fetch-llm`) or not the expected file. Other kinds: nothing to check."""
    if cfg.kind == "llamacpp":
        if not cfg.model:
            build_backend(cfg)  # raises the ConfigError that says llm.model is empty
        from rubricate.llm.llamacpp_backend import check_weights

        check_weights(cfg, data_dir)


def get_backend(cfg: LLMConfig, store: "Store | None" = None) -> LLMBackend:
    """The backend `cfg` names; with a store (and `cfg.cache`), every call goes through the response cache."""
    backend = build_backend(cfg)
    if store is None or not cfg.cache or cfg.kind == "none":
        return backend
    from rubricate.llm.cache import CachedBackend

    return CachedBackend(backend, cfg, store)
