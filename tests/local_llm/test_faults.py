"""Bad answers and faults with a real model: each is an error row or a clear error, nothing lost, nothing
scored that was not judged. (Weights with a wrong sha256: tests/local_llm/test_local_models.py.)"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from rubricate.judge.llm_judges import PlainJudge, RubricJudge
from rubricate.judge.records import TraceToJudge
from rubricate.judge.stage import judge_traces
from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMRequest, LLMResponse
from rubricate.llm.llamacpp_backend import LlamaCppBackend
from rubricate.llm.llamacpp_server import LocalServerError
from tests.helpers import sql_records
from tests.judge.helpers import add_traces, arithmetic_traces, llm_cfg
from tests.local_llm.conftest import smol_cfg
from tests.local_llm.test_stages import rubric
from tests.stub_server import Reply, StubOpenAIServer

pytestmark = pytest.mark.slow


class SchemaNotSent:
    """The backend as a provider without structured output serves it (litellm drops `response_format` for
    those): the model answers free text and only the parser stands between it and a verdict."""

    def __init__(self, inner) -> None:
        self.inner, self.kind, self.model = inner, inner.kind, inner.model

    def complete(self, requests, progress=None):
        return self.inner.complete([replace(r, response_schema=None) for r in requests], progress)


def test_free_text_answers_that_are_not_json_become_error_rows_after_the_re_asks(smol, store):
    traces = arithmetic_traces(1)
    add_traces(store, traces)
    judge = PlainJudge(SchemaNotSent(get_backend(smol.model_copy(update={"max_tokens": 24}))), max_parse_retries=1)
    verdicts = judge.judge(traces)
    errors = [v for v in verdicts if v.verdict == "error"]
    assert errors, [v.explanation for v in verdicts]  # SmolLM2 does not write this JSON unconstrained
    for v in errors:
        assert v.attempts == 2 and v.first_error_step is None  # asked, re-asked, then an error row: no score
        assert re.search(r"not (valid )?JSON|lacks|must be|expected", v.error or ""), v.error
        assert v.completion_tokens > 0


def test_empty_answers_become_error_rows(store):
    """A real model cannot be made to answer nothing on demand, so a real HTTP server does: an empty message,
    then no message at all (content null), through the same litellm path the local model uses."""
    traces = arithmetic_traces(2)
    add_traces(store, traces)
    script = lambda body, n: Reply(content="" if n % 2 == 0 else None)  # noqa: E731
    with StubOpenAIServer(script) as server:
        for judge in (PlainJudge(get_backend(llm_cfg(server)), max_parse_retries=1), RubricJudge(get_backend(llm_cfg(server)), rubric(), max_parse_retries=1)):
            report = judge_traces(store, judge, [t.trace_id for t in traces])
            assert (report.n_judged, report.n_error) == (2, 2)
        stored = sql_records(store, "SELECT judge_kind, verdict, error, error_stage, attempts FROM judge_verdicts ORDER BY judge_kind")
        assert len(stored) == 4 and {r["verdict"] for r in stored} == {"error"}
        assert all("empty answer" in r["error"] and r["attempts"] == 2 for r in stored)
        assert {r["error_stage"] for r in stored} == {"judge", "select"}


def _requests(n: int) -> list[LLMRequest]:
    return [LLMRequest(key=f"r{i}", messages=({"role": "user", "content": f"Count from {i} to {i + 5}."},), max_tokens=24) for i in range(n)]


def _kill_after_first(backend: LlamaCppBackend):
    killed = threading.Event()
    pids: list[int | None] = []

    def on_response(i: int, resp: LLMResponse) -> None:
        if not killed.is_set():
            pids.append(backend.server.pid)
            backend.server.kill()  # SIGKILL, as the OOM killer would
            killed.set()

    return on_response, pids


def test_a_server_killed_mid_run_is_restarted_and_the_unanswered_requests_are_asked_again(llm_log_dir: Path):
    cfg = smol_cfg(llm_log_dir, local={"ctx_size": 1024, "max_restarts": 1})  # its own server: this one gets killed
    with LlamaCppBackend(cfg) as backend:
        on_response, pids = _kill_after_first(backend)
        out = backend.complete(_requests(4), on_response=on_response)
        assert [r.key for r in out] == ["r0", "r1", "r2", "r3"]
        assert all(r.ok for r in out), [r.error for r in out]  # nothing lost
        assert backend.restarts == 1 and backend.server.starts == 2 and backend.server.pid != pids[0]
        assert "killed by signal" not in str([r.error for r in out])


def test_a_server_killed_with_no_restart_left_gives_error_rows_that_say_why_and_keeps_the_answers(llm_log_dir: Path, store):
    cfg = smol_cfg(llm_log_dir, local={"ctx_size": 1536, "max_restarts": 0})
    cached = get_backend(cfg, store=store)
    backend: LlamaCppBackend = cached.inner  # type: ignore[attr-defined]
    try:
        killer, _ = _kill_after_first(backend)
        real_complete = backend.complete

        def complete_then_kill(requests, progress=None, on_response=None):  # the cache's writer, then the killer
            def both(i: int, resp: LLMResponse) -> None:
                on_response(i, resp)
                killer(i, resp)

            return real_complete(requests, progress=progress, on_response=both)

        backend.complete = complete_then_kill  # type: ignore[method-assign]
        out = cached.complete(_requests(4))
        backend.complete = real_complete  # type: ignore[method-assign]
        ok = [r for r in out if r.ok]
        failed = [r for r in out if not r.ok]
        assert ok and failed and len(ok) + len(failed) == 4
        for r in failed:
            assert "was killed by signal 9" in r.error and str(backend.server.log_path) in r.error  # type: ignore[operator]
            assert "not restarted" in r.error and "llm.local.max_restarts" in r.error  # type: ignore[operator]
        # a new batch on this backend: the dead server is reported, not silently restarted
        with pytest.raises(LocalServerError, match="max_restarts"):
            backend.complete(_requests(1))
    finally:
        backend.close()
    # nothing lost: through the cache, a new run (a fresh backend starts the server again) asks only what was not answered
    again = get_backend(cfg, store=store)
    try:
        rerun = again.complete(_requests(4))
        assert all(r.ok for r in rerun)
        assert again.usage.cached == len(ok) and again.inner.usage.requests == len(failed)  # type: ignore[attr-defined]
    finally:
        again.inner.close()  # type: ignore[attr-defined]


def test_a_trace_longer_than_the_context_is_an_error_row_that_says_so(llm_log_dir: Path, store):
    cfg = smol_cfg(llm_log_dir, local={"ctx_size": 512})
    long_trace = TraceToJudge("long", "Add the numbers.", tuple(f"Step {i}: {i} + {i} = {2 * i}, and we keep going." for i in range(120)))
    short = arithmetic_traces(1)
    add_traces(store, [long_trace, *short])
    with LlamaCppBackend(cfg) as backend:
        report = judge_traces(store, PlainJudge(backend, max_parse_retries=0), ["long", short[0].trace_id])
    assert report.n_judged == 2
    verdicts = {r["trace_id"]: r for r in sql_records(store, "SELECT trace_id, verdict, error, first_error_step FROM judge_verdicts")}
    long_v = verdicts["long"]
    assert long_v["verdict"] == "error" and long_v["first_error_step"] is None
    assert re.search(r"context overflow: the prompt has \d+ tokens, the context 512 .*llm\.local\.ctx_size", long_v["error"]), long_v["error"]
    assert verdicts[short[0].trace_id]["error"] is None or "context overflow" not in verdicts[short[0].trace_id]["error"]
