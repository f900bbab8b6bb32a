"""The LLM layer: one request/response contract, several backends (vllm_batch, litellm, none).

Import backends through `rubricate.llm.backends.get_backend(config)`; heavy clients load lazily there.
"""

from rubricate.llm.base import LLMBackend, LLMConfig, LLMRequest, LLMResponse

__all__ = ["LLMBackend", "LLMConfig", "LLMRequest", "LLMResponse"]
