"""The LLM layer: one request/response contract, several backends (vllm_batch, litellm, none).

Get a backend with `rubricate.llm.backends.get_backend(cfg.llm, store=store)` (the store adds the response
cache); heavy clients load lazily inside their own backend module.
"""

from rubricate.llm.base import LLMBackend, LLMConfig, LLMRequest, LLMResponse

__all__ = ["LLMBackend", "LLMConfig", "LLMRequest", "LLMResponse"]
