"""The litellm backend over a real socket: order, concurrency bound, retries, errors as data, thinking."""

from __future__ import annotations

import asyncio
import threading
import time
from email.utils import formatdate

from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMRequest
from tests.llm.helpers import litellm_cfg
from tests.stub_server import Reply, user_text


def req(key: str, text: str | None = None, **kw) -> LLMRequest:
    return LLMRequest(key=key, messages=({"role": "system", "content": "be brief"}, {"role": "user", "content": text or key}), **kw)


def test_answers_come_back_in_order_with_tokens_and_bounded_concurrency(server):
    server.latency_s = 0.05
    server.script = lambda body, n: Reply(content=f"echo {user_text(body)}")
    backend = get_backend(litellm_cfg(server, max_concurrency=3))
    done: list[tuple[int, int]] = []
    out = backend.complete([req(f"k{i}") for i in range(12)], progress=lambda d, t: done.append((d, t)))
    assert [r.key for r in out] == [f"k{i}" for i in range(12)]
    assert [r.text for r in out] == [f"echo k{i}" for i in range(12)]
    assert all(r.ok and r.prompt_tokens > 0 and r.completion_tokens == 2 for r in out)
    assert 1 < server.max_in_flight <= 3
    assert server.n_requests == 12
    assert done[-1] == (12, 12)
    usage = backend.usage.as_dict()
    assert usage["requests"] == 12 and usage["errors"] == 0 and usage["completion_tokens"] == 24


def test_429_and_500_are_retried_then_succeed(server):
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def script(body, n):
        text = user_text(body)
        with lock:
            seen[text] = seen.get(text, 0) + 1
            k = seen[text]
        if text == "rate" and k <= 2:
            return Reply(status=429, headers={"Retry-After": "0"})
        if text == "flaky" and k == 1:
            return Reply(status=503)
        return Reply(content="fine")

    server.script = script
    backend = get_backend(litellm_cfg(server, max_retries=3))
    out = backend.complete([req("rate"), req("flaky"), req("plain")])
    assert [r.text for r in out] == ["fine", "fine", "fine"]
    assert [r.raw["attempts"] for r in out] == [3, 2, 1]
    assert seen == {"rate": 3, "flaky": 2, "plain": 1}


def test_persistent_5xx_becomes_an_error_response_after_bounded_retries(server):
    server.script = lambda body, n: Reply(status=500)
    backend = get_backend(litellm_cfg(server, max_retries=2))
    [r] = backend.complete([req("x")])
    assert not r.ok and "500" in r.error and "3 attempt" in r.error
    assert server.n_requests == 3
    assert backend.usage.errors == 1


def test_client_errors_are_not_retried(server):
    server.script = lambda body, n: Reply(status=400)
    [r] = get_backend(litellm_cfg(server, max_retries=3)).complete([req("x")])
    assert not r.ok and "400" in r.error
    assert server.n_requests == 1


def test_timeouts_are_retried_and_reported(server):
    server.script = lambda body, n: Reply(content="late", delay_s=1.5)
    [r] = get_backend(litellm_cfg(server, timeout_s=0.3, max_retries=1)).complete([req("slow")])
    assert not r.ok and "Timeout" in r.error
    assert r.raw["attempts"] == 2


def test_a_body_that_is_not_json_is_an_error_response_not_a_crash(server):
    server.script = lambda body, n: Reply(raw_body="{this is not json")
    backend = get_backend(litellm_cfg(server, max_retries=1))
    out = backend.complete([req("a"), req("b")])
    assert all(not r.ok and r.text is None for r in out)


def test_thinking_is_kept_but_split_from_the_answer(server):
    def script(body, n):
        if user_text(body) == "inline":
            return Reply(content='<think>the verdict is {"verdict": "correct"}</think>{"verdict": "incorrect"}')
        return Reply(content='{"verdict": "incorrect"}', reasoning="maybe correct?")

    server.script = script
    out = get_backend(litellm_cfg(server)).complete([req("inline"), req("field")])
    assert [r.text for r in out] == ['{"verdict": "incorrect"}', '{"verdict": "incorrect"}']
    assert '"correct"' in out[0].reasoning and out[1].reasoning == "maybe correct?"


def test_structured_output_and_sampling_reach_the_server(server):
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": False}
    get_backend(litellm_cfg(server, seed=7)).complete([req("s", response_schema=schema, sample_index=2, temperature=0.5, max_tokens=33)])
    body = server.bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert body["seed"] == 9 and body["temperature"] == 0.5 and body["max_tokens"] == 33
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_works_when_called_from_inside_a_running_event_loop(server):
    backend = get_backend(litellm_cfg(server))

    async def caller():
        return backend.complete([req("x")])

    [r] = asyncio.run(caller())
    assert r.ok


def test_cost_comes_from_the_local_cost_map(server):
    server.script = lambda body, n: Reply(content="one two three")
    backend = get_backend(litellm_cfg(server, model="openai/gpt-4o-mini"))
    [r] = backend.complete([req("x", "four words of prompt")])
    assert r.cost_usd > 0 and "cost_unknown" not in r.raw
    [u] = get_backend(litellm_cfg(server, model="openai/not-a-priced-model")).complete([req("x")])
    assert u.cost_usd == 0 and u.raw["cost_unknown"]


def _rate_limited_once(server, retry_after: str) -> list[float]:
    """Answer 429 with `retry_after` to the first request, then 200; return when each request reached the server."""
    arrivals: list[float] = []

    def script(body, n):
        arrivals.append(time.monotonic())
        if n == 0:
            return Reply(status=429, headers={"Retry-After": retry_after})
        return Reply(content="fine")

    server.script = script
    return arrivals


def test_retry_after_in_seconds_is_waited_for(server):
    arrivals = _rate_limited_once(server, "2")
    backend = get_backend(litellm_cfg(server, max_retries=2, retry_base_s=0.01, retry_max_s=30))
    [r] = backend.complete([req("x")])
    assert r.ok and r.raw["attempts"] == 2 and server.n_requests == 2
    # measured at the server; a generous lower bound (the server asked for 2 s), not a speed assertion
    assert arrivals[1] - arrivals[0] >= 1.8


def test_retry_after_as_an_http_date_is_waited_for(server):
    # three seconds ahead, written with whole seconds: the wait asked for is between 2 and 3 s
    arrivals = _rate_limited_once(server, formatdate(time.time() + 3, usegmt=True))
    [r] = get_backend(litellm_cfg(server, max_retries=2, retry_base_s=0.01, retry_max_s=30)).complete([req("x")])
    assert r.ok and server.n_requests == 2
    assert arrivals[1] - arrivals[0] >= 1.5


def test_retry_after_values_are_parsed():
    from rubricate.llm.litellm_backend import retry_after_s

    now = time.time()
    assert retry_after_s("2") == 2.0
    assert retry_after_s(" 1.5 ") == 1.5
    assert retry_after_s(formatdate(now - 60, usegmt=True)) == 0.0  # a date in the past: go now
    assert 9 <= retry_after_s(formatdate(now + 10, usegmt=True), now=now) <= 10  # type: ignore[operator]
    assert retry_after_s("soon") is None and retry_after_s(None) is None and retry_after_s("-3") is None
