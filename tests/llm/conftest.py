from __future__ import annotations

import pytest

from tests.stub_server import StubOpenAIServer


@pytest.fixture
def server():
    """A real OpenAI-compatible server on 127.0.0.1; tests set `server.script`."""
    with StubOpenAIServer() as s:
        yield s
