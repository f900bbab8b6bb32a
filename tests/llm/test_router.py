"""Several OpenAI-compatible servers of one model behind litellm's Router (issue 13, item 3b): `llm.api_bases`.

Two real HTTP servers (tests/stub_server.py): the requests land on both, the answers go into the one response
cache (a rerun makes no request to either), and a server that is down costs nothing but a retry: its requests
are answered by the other.
"""

from __future__ import annotations

import socket

import pytest

from rubricate.config import parse_config
from rubricate.errors import ConfigError
from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMConfig, LLMRequest
from rubricate.store import Store
from tests.stub_server import Reply, StubOpenAIServer, user_text


def _cfg(*bases: str, **kw) -> LLMConfig:
    base = {"kind": "litellm", "model": "openai/stub-model", "api_bases": list(bases), "retry_base_s": 0.01, "retry_max_s": 0.05,
            "max_retries": 3, "timeout_s": 10, "max_concurrency": 8}
    return LLMConfig(**(base | kw))


def _requests(n: int, tag: str = "q") -> list[LLMRequest]:
    return [LLMRequest(key=f"{tag}{i}", messages=({"role": "user", "content": f"{tag} {i}: 2 + 2 = ?"},)) for i in range(n)]


def _echo(body: dict, n: int) -> Reply:
    return Reply(content=f"answer to {user_text(body)}")


def _dead_url() -> str:
    """The URL of a port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_requests_spread_over_both_servers_and_are_cached_once(store: Store):
    with StubOpenAIServer(_echo, latency_s=0.02) as a, StubOpenAIServer(_echo, latency_s=0.02) as b:
        backend = get_backend(_cfg(a.url, b.url), store=store)
        out = backend.complete(_requests(40))
        assert all(r.ok for r in out), [r.error for r in out if not r.ok][:3]
        assert [r.text for r in out] == [f"answer to q {i}: 2 + 2 = ?" for i in range(40)]  # each answer is its own request's
        assert a.n_requests + b.n_requests == 40
        assert a.n_requests >= 5 and b.n_requests >= 5, (a.n_requests, b.n_requests)  # random routing: both get a share
        assert {r.raw["api_base"] for r in out} == {a.url, b.url}

        # A rerun, by a new backend (a new Router) on the same store: all from the one cache, no request to either server.
        again = get_backend(_cfg(a.url, b.url), store=store).complete(_requests(40))
        assert [r.text for r in again] == [r.text for r in out] and all(r.cached for r in again)
        assert a.n_requests + b.n_requests == 40
        # The cache does not depend on the servers: one server alone, or another list, reads the same answers.
        assert all(r.cached for r in get_backend(_cfg(b.url), store=store).complete(_requests(40)))
        assert a.n_requests + b.n_requests == 40


def test_a_dead_servers_requests_go_to_the_other(store: Store):
    with StubOpenAIServer(_echo) as alive:
        backend = get_backend(_cfg(_dead_url(), alive.url), store=store)
        out = backend.complete(_requests(30))
        assert all(r.ok for r in out), [r.error for r in out if not r.ok][:3]
        assert alive.n_requests == 30  # every answer came from the live server
        assert {r.raw["api_base"] for r in out} == {alive.url}
        retried = [r for r in out if r.raw["attempts"] > 1]
        assert len(retried) <= 8  # at most the first requests in flight met the dead server; it was then left out


def test_the_router_is_built_once_per_backend():
    from rubricate.llm.litellm_backend import LiteLLMBackend

    with StubOpenAIServer(_echo) as a, StubOpenAIServer(_echo) as b:
        backend = LiteLLMBackend(_cfg(a.url, b.url))
        router = backend.router
        assert router is not None and len(router.model_list) == 2
        backend.complete(_requests(4, "x"))
        backend.complete(_requests(4, "y"))  # a second batch (a new event loop) reuses the Router
        assert backend.router is router and a.n_requests + b.n_requests == 8
    assert LiteLLMBackend(LLMConfig(kind="litellm", model="openai/m", api_base="http://127.0.0.1:1/v1")).router is None  # one server: no Router


def test_config_checks_api_bases():
    with pytest.raises(ConfigError, match="not both"):
        parse_config({"llm": {"kind": "litellm", "model": "m", "api_base": "http://a/v1", "api_bases": ["http://b/v1"]}})
    with pytest.raises(ConfigError, match="needs kind: litellm"):
        parse_config({"llm": {"kind": "llamacpp", "model": "smollm2-135m", "api_bases": ["http://b/v1"]}})
    with pytest.raises(ConfigError, match="twice"):
        parse_config({"llm": {"kind": "litellm", "model": "m", "api_bases": ["http://b/v1", "http://b/v1"]}})
