"""Helpers of the LLM tests."""

from __future__ import annotations

from rubricate.llm.base import LLMConfig
from tests.stub_server import StubOpenAIServer


def litellm_cfg(server: StubOpenAIServer, **kw) -> LLMConfig:
    """The litellm backend pointed at the stub server, with fast retries."""
    base = {"kind": "litellm", "model": "openai/stub-model", "api_base": server.url, "retry_base_s": 0.01, "retry_max_s": 0.05,
            "max_retries": 2, "timeout_s": 10}
    return LLMConfig(**(base | kw))
