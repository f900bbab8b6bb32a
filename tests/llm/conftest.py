from __future__ import annotations

import pytest

from rubricate.llm.base import LLMConfig
from rubricate.llm.stub_server import StubOpenAIServer


@pytest.fixture
def server():
    """A real OpenAI-compatible server on 127.0.0.1; tests set `server.script`."""
    with StubOpenAIServer() as s:
        yield s


def litellm_cfg(server: StubOpenAIServer, **kw) -> LLMConfig:
    base = {"kind": "litellm", "model": "openai/stub-model", "api_base": server.url, "retry_base_s": 0.01, "retry_max_s": 0.05,
            "max_retries": 2, "timeout_s": 10}
    return LLMConfig(**(base | kw))
