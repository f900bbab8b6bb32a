"""The response cache: a rerun makes zero requests, a killed run resumes, errors are asked again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMRequest
from rubricate.store import Store
from tests.llm.helpers import litellm_cfg
from tests.stub_server import Reply, user_text

REPO = Path(__file__).resolve().parents[2]


def reqs(n: int, **kw) -> list[LLMRequest]:
    return [LLMRequest(key=f"k{i}", messages=({"role": "user", "content": f"question {i}"},), prompt_id="p1", **kw) for i in range(n)]


def test_second_run_makes_zero_requests(server, store):
    server.script = lambda body, n: Reply(content=f"<think>hm</think>answer to {user_text(body)}")
    cfg = litellm_cfg(server)
    first = get_backend(cfg, store=store).complete(reqs(20))
    assert server.n_requests == 20 and not any(r.cached for r in first)
    server.reset_counts()
    backend = get_backend(cfg, store=store)
    second = backend.complete(reqs(20))
    assert server.n_requests == 0
    assert all(r.cached for r in second)
    assert [(r.key, r.text, r.reasoning, r.prompt_tokens) for r in second] == [(r.key, r.text, r.reasoning, r.prompt_tokens) for r in first]
    assert backend.usage.cached == 20 and backend.usage.prompt_tokens == 0  # cached answers cost nothing now


def test_key_covers_model_sampling_and_sample_index(server, store):
    cfg = litellm_cfg(server)
    get_backend(cfg, store=store).complete(reqs(3))
    server.reset_counts()
    get_backend(cfg, store=store).complete(reqs(3, sample_index=1))  # k-th sample of the same prompt: new
    get_backend(cfg, store=store).complete(reqs(3, temperature=0.9))  # other sampling: new
    get_backend(litellm_cfg(server, model="openai/other"), store=store).complete(reqs(3))  # other model: new
    assert server.n_requests == 9


def test_identical_requests_in_one_batch_are_sent_once(server, store):
    batch = reqs(2) + reqs(2)
    out = get_backend(litellm_cfg(server), store=store).complete(batch)
    assert server.n_requests == 2
    assert [r.key for r in out] == ["k0", "k1", "k0", "k1"] and all(r.ok for r in out)


def test_errors_are_not_cached(server, store):
    server.script = lambda body, n: Reply(status=500)
    cfg = litellm_cfg(server, max_retries=0)
    assert not any(r.ok for r in get_backend(cfg, store=store).complete(reqs(2)))
    server.script = lambda body, n: Reply(content="now fine")
    server.reset_counts()
    out = get_backend(cfg, store=store).complete(reqs(2))
    assert server.n_requests == 2 and all(r.ok and not r.cached for r in out)


_CHILD = textwrap.dedent(
    """
    import sys
    from rubricate.llm.backends import get_backend
    from rubricate.llm.base import LLMConfig, LLMRequest
    from rubricate.store import Store
    cfg = LLMConfig(kind="litellm", model="openai/stub", api_base=sys.argv[2], max_concurrency=2)
    backend = get_backend(cfg, store=Store(sys.argv[1]))  # default settings: each answer is written before the next request
    reqs = [LLMRequest(key=f"k{i}", messages=({"role": "user", "content": f"question {i}"},)) for i in range(40)]
    backend.complete(reqs)
    """
)


def test_a_killed_run_resumes_where_it_stopped(server, tmp_path):
    server.latency_s = 0.05
    db = tmp_path / "kill.duckdb"
    env = {**os.environ, "PYTHONPATH": str(REPO), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(db), server.url], env=env)
    deadline = time.monotonic() + 60
    while server.n_requests < 16 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)  # no cleanup, no final flush
    child.wait()
    first_run = server.n_requests
    assert 0 < first_run < 40, "the child should have been killed half way"
    store = Store(db)
    cached = store.scalar("llm/count_llm_cache", {"backend": "litellm", "model": "openai/stub"})
    assert 0 < cached < 40
    assert first_run - cached <= 2  # only the answers in flight (max_concurrency) were lost
    server.reset_counts()
    cfg = litellm_cfg(server, model="openai/stub", max_concurrency=2)
    out = get_backend(cfg, store=store).complete(
        [LLMRequest(key=f"k{i}", messages=({"role": "user", "content": f"question {i}"},)) for i in range(40)]
    )
    assert all(r.ok for r in out)
    assert server.n_requests == 40 - cached  # only what the killed run had not stored
    assert sum(r.cached for r in out) == cached
    store.close()
