"""kill -9 in the middle of a judge run: the rerun asks again only what was in flight at the kill."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from rubricate.judge.llm_judges import PlainJudge
from rubricate.judge.stage import judge_traces
from rubricate.llm.backends import get_backend
from rubricate.store import Store
from tests.judge.helpers import add_traces, arithmetic_traces, llm_cfg
from tests.judge.judge_sim import judge_answer
from tests.stub_server import Reply, StubOpenAIServer, user_text

REPO = Path(__file__).resolve().parents[2]
MAX_CONCURRENCY = 4
N_TRACES = 60

_CHILD = textwrap.dedent(
    """
    import sys
    from rubricate.judge.llm_judges import PlainJudge
    from rubricate.judge.stage import judge_traces
    from rubricate.llm.backends import get_backend
    from rubricate.llm.base import LLMConfig
    from rubricate.store import Store

    store = Store(sys.argv[1])
    cfg = LLMConfig(kind="litellm", model="openai/judge-sim", api_base=sys.argv[2], max_concurrency=int(sys.argv[3]), max_retries=0)
    cur = store.cursor()
    ids = [r[0] for r in cur.execute("SELECT trace_id FROM traces ORDER BY trace_id").fetchall()]
    cur.close()
    judge_traces(store, PlainJudge(get_backend(cfg, store=store)), ids)
    """
)


@pytest.mark.slow
def test_a_judge_run_killed_with_sigkill_repeats_at_most_the_requests_in_flight(tmp_path):
    asked: Counter[str] = Counter()
    lock = threading.Lock()

    def script(body, n):
        problem = re.search(r"Problem \d+:", user_text(body))
        with lock:
            asked[problem.group(0) if problem else "?"] += 1
        return Reply(content=judge_answer(body))

    db = tmp_path / "judge.duckdb"
    traces = arithmetic_traces(N_TRACES)
    store = Store(db)
    add_traces(store, traces)
    store.close()
    with StubOpenAIServer(script, latency_s=0.02) as server:
        env = {**os.environ, "PYTHONPATH": str(REPO), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(db), server.url, str(MAX_CONCURRENCY)], env=env)
        deadline = time.monotonic() + 120  # hang guard only: the child needs a few seconds to import litellm
        while server.n_requests < N_TRACES // 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)  # no cleanup, no final flush
        child.wait()
        first_run = server.n_requests
        assert 0 < first_run < N_TRACES, "the child should have been killed half way"

        store = Store(db)
        try:
            report = judge_traces(store, PlainJudge(get_backend(llm_cfg(server, max_concurrency=MAX_CONCURRENCY), store=store)),
                                  [t.trace_id for t in traces])
        finally:
            store.close()
    assert report.n_already_judged + report.n_judged == N_TRACES and report.n_error == 0
    assert set(asked) == {f"Problem {i}:" for i in range(N_TRACES)}  # every trace asked
    repeated = sorted(p for p, k in asked.items() if k > 1)
    assert all(k <= 2 for k in asked.values())
    # Only answers still in flight at the kill can be lost: at most max_concurrency requests are asked twice.
    assert len(repeated) <= MAX_CONCURRENCY, (first_run, repeated)
