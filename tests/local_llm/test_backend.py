"""The llamacpp backend against real inference: server lifecycle, the litellm path, structured output, cache."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMRequest
from rubricate.llm.llamacpp_backend import LlamaCppBackend
from rubricate.llm.llamacpp_server import HOST

pytestmark = pytest.mark.slow

VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"enum": ["correct", "incorrect"]}, "step": {"type": "integer"}},
    "required": ["verdict", "step"],
    "additionalProperties": False,
}


def ask(key: str, text: str, **kw) -> LLMRequest:
    return LLMRequest(key=key, messages=({"role": "system", "content": "You grade arithmetic. Answer in JSON."}, {"role": "user", "content": text}), **kw)


def test_structured_answers_through_the_litellm_path_with_token_counts(smol):
    backend = get_backend(smol)
    assert isinstance(backend, LlamaCppBackend) and backend.kind == "llamacpp" and backend.model == "smollm2-135m"
    assert backend.server.alive() and backend.server.url.startswith(f"http://{HOST}:")
    # the server is llama.cpp's own OpenAI-compatible one, answering to the model's alias
    with urllib.request.urlopen(backend.server.api_base + "/models", timeout=10) as resp:
        assert [m["id"] for m in json.load(resp)["data"]] == ["smollm2-135m"]
    out = backend.complete([ask(f"q{i}", f"Is {i} + {i} = {2 * i + i % 2}?", response_schema=VERDICT_SCHEMA) for i in range(3)])
    assert [r.key for r in out] == ["q0", "q1", "q2"]
    for r in out:
        assert r.ok, r.error
        value = json.loads(r.text)  # grammar-constrained: valid JSON under the schema by construction
        assert set(value) == {"verdict", "step"} and value["verdict"] in ("correct", "incorrect") and isinstance(value["step"], int)
        assert r.prompt_tokens > 0 and r.completion_tokens > 0
        assert r.raw["finish_reason"] == "stop"
    assert backend.usage.requests == 3 and backend.usage.errors == 0 and backend.usage.prompt_tokens > 0


def test_a_rerun_is_answered_from_the_cache_with_no_new_requests(smol, store):
    requests = [ask(f"c{i}", f"Is {i} * 2 = {2 * i}?", response_schema=VERDICT_SCHEMA) for i in range(2)]
    first = get_backend(smol, store=store)
    a = first.complete(requests)
    assert all(r.ok and not r.cached for r in a)
    again = get_backend(smol, store=store)
    b = again.complete(requests)
    assert [r.text for r in b] == [r.text for r in a]
    assert all(r.cached for r in b)
    assert again.inner.usage.requests == 0  # the server was not asked again  # type: ignore[attr-defined]
    assert again.usage.cached == 2


def test_backends_of_one_process_share_one_server(smol):
    one, two = get_backend(smol), get_backend(smol)
    assert one.server is two.server  # type: ignore[attr-defined]


def test_the_server_dies_with_its_parent(smol, tmp_path):
    """A SIGKILLed parent runs no cleanup: the server notices and exits by itself (no orphan)."""
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from rubricate.llm.llamacpp_server import LlamaCppServer, ServerSpec\n"
        "from rubricate.llm.local_models import resolve_gguf\n"
        f"s = LlamaCppServer(ServerSpec(resolve_gguf('smollm2-135m', Path('.')), 'smollm2-135m', threads=1, ctx_size=512), Path({str(tmp_path / 'child.log')!r}))\n"  # noqa: E501 (a test case reads best on one line)
        "s.start()\n"
        "print(s.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        os.kill(child, 0)  # running
        parent.kill()
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30  # hang guard only
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.kill(child, 9)
            pytest.fail(f"the llama.cpp server {child} outlived its parent")
        assert "parent process is gone" in (tmp_path / "child.log").read_text()
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_cache_writes_each_answer_before_the_next_request(smol, store, monkeypatch):
    """The kill -9 bound (README "Reliability": a rerun repeats at most the requests in flight) needs the cache's
    writer to reach the litellm backend through the llama.cpp one."""
    from rubricate.llm.litellm_backend import LiteLLMBackend

    seen: list[object] = []
    real = LiteLLMBackend.complete

    def spy(self, requests, progress=None, on_response=None, flush=None):  # type: ignore[no-untyped-def]
        seen.append(flush)
        return real(self, requests, progress=progress, on_response=on_response, flush=flush)

    monkeypatch.setattr(LiteLLMBackend, "complete", spy)
    out = get_backend(smol, store=store).complete([ask("w0", "Is 3 + 4 = 7?", response_schema=VERDICT_SCHEMA)])
    assert out[0].ok, out[0].error
    assert seen and all(callable(f) for f in seen)
