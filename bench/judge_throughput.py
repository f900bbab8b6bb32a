"""Judge throughput against a server of known capacity, and the cost of a rerun that is all cache.

    python bench/judge_throughput.py                       # defaults below; about 3-4 minutes on 2 cores
    python bench/judge_throughput.py --n 500 --cached 2000 # quicker

Part 1: a stub OpenAI-compatible server in its own process answers every request after `--latency` seconds
with at most `--concurrency` answers in progress (the rest queue), so its capacity is exactly
concurrency / latency requests per second. The litellm backend sends `--n` requests, first with max_concurrency
equal to the server's (each answer's round trip leaves a slot idle for a moment), then with twice that (the
server's queue is never empty, as a user would run it against `vllm serve`); the figure is achieved req/s
divided by the ideal capacity (goal >= 0.9). The peer is the plain
OpenAI SDK client (AsyncOpenAI + a semaphore) on the same server: what litellm's convenience costs.

Part 2: the judge stage (plain judge, response cache in DuckDB) on `--cached` synthetic traces: a first
run fills the cache, a rerun of the same flow must make zero requests (the verdicts are stored), and a run
with the verdicts deleted re-derives all of them from the cache: the time for `--cached` cached verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from rubricate.llm.base import LLMConfig, LLMRequest  # noqa: E402

ANSWER = '{"verdict": "incorrect", "first_error_step": 1, "explanation": "stub"}'


class ServerProcess:
    """The stub server in its own process, so its threads do not share our interpreter lock."""

    def __init__(self, latency: float, concurrency: int | None) -> None:
        args = [sys.executable, "-m", "tests.stub_server", "--latency", str(latency), "--answer", ANSWER]
        if concurrency:
            args += ["--concurrency", str(concurrency)]
        env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        self.url = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.url.startswith("http"):
            raise SystemExit(f"stub server did not start: {self.url!r}")

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + "/stats", timeout=10) as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def requests_for(n: int, tag: str) -> list[LLMRequest]:
    system = {"role": "system", "content": "You grade solutions. " * 20}
    return [LLMRequest(key=f"{tag}{i}", messages=(system, {"role": "user", "content": f"{tag} trace {i}: 2 + 2 = 5"})) for i in range(n)]


def bench_litellm(url: str, model: str, concurrency: int, n: int) -> float:
    from rubricate.llm.backends import get_backend

    backend = get_backend(LLMConfig(kind="litellm", model=model, api_base=url, max_concurrency=concurrency, timeout_s=600))
    backend.complete(requests_for(min(concurrency, 8), "warm"))  # client set-up is not part of the steady state
    t0 = time.perf_counter()
    out = backend.complete(requests_for(n, "bench"))
    dt = time.perf_counter() - t0
    assert all(r.ok for r in out), [r.error for r in out if not r.ok][:3]
    return n / dt


def bench_openai_sdk(url: str, concurrency: int, n: int) -> float:
    from openai import AsyncOpenAI

    async def run() -> float:
        client = AsyncOpenAI(base_url=url, api_key="none", max_retries=0, timeout=600)
        gate = asyncio.Semaphore(concurrency)

        async def one(r: LLMRequest) -> str | None:
            async with gate:
                resp = await client.chat.completions.create(model="stub", messages=list(r.messages), temperature=0, max_tokens=256)  # type: ignore[arg-type]
                return resp.choices[0].message.content

        await asyncio.gather(*(one(r) for r in requests_for(min(concurrency, 8), "warm")))
        t0 = time.perf_counter()
        await asyncio.gather(*(one(r) for r in requests_for(n, "sdk")))
        dt = time.perf_counter() - t0
        await client.close()
        return n / dt

    return asyncio.run(run())


def bench_cached_judge(url: str, model: str, concurrency: int, n: int) -> dict[str, float]:
    import polars as pl

    from rubricate.config import SourceConfig
    from rubricate.ingest.run import ingest_source
    from rubricate.judge.llm_judges import PlainJudge
    from rubricate.judge.stage import judge_traces
    from rubricate.llm.backends import get_backend
    from rubricate.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="judge-bench-"))
    rows = [{"q": f"What is {i} + {i}?", "steps": [f"We add {i} and {i}.", f"{i} + {i} = {2 * i + i % 2}.", f"The answer is {2 * i + i % 2}."]}
            for i in range(n)]
    pl.DataFrame(rows).write_ndjson(tmp / "traces.jsonl")
    store = Store(tmp / "bench.duckdb")
    ingest_source(store, SourceConfig(name="bench", reader="jsonl", path=str(tmp / "traces.jsonl"),
                                      fields={"problem": "q", "response": None, "steps": "steps"}))
    ids = [r[0] for r in store.cursor().execute("SELECT trace_id FROM traces").fetchall()]
    cfg = LLMConfig(kind="litellm", model=model, api_base=url, max_concurrency=concurrency, timeout_s=600)

    def run() -> tuple[float, object]:
        judge = PlainJudge(get_backend(cfg, store=store))
        t0 = time.perf_counter()
        report = judge_traces(store, judge, ids, batch_size=n)
        return time.perf_counter() - t0, report

    fill_s, fill = run()
    rerun_s, rerun = run()
    store.execute("judge/delete_judge_verdicts", {"judge_id": fill.judge_id})  # type: ignore[attr-defined]
    cached_s, cached = run()
    store.close()
    return {"n": n, "fill_s": fill_s, "fill_judged": fill.n_judged, "rerun_s": rerun_s, "rerun_judged": rerun.n_judged,  # type: ignore[attr-defined]
            "cached_s": cached_s, "cached_judged": cached.n_judged, "errors": fill.n_error}  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per answer (default 0.5)")
    parser.add_argument("--concurrency", type=int, default=16, help="server's answers in progress at most (default 16)")
    parser.add_argument("--client-concurrency", type=int, default=None,
                        help="client's bound on requests in flight for the second line (default 2 x server's: keeps its queue non-empty)")
    parser.add_argument("--n", type=int, default=1000, help="requests in the throughput run (default 1000)")
    parser.add_argument("--model", default="openai/stub", help="litellm model string for part 1 (default openai/stub)")
    parser.add_argument("--cached", type=int, default=10_000, help="traces in the cache run (default 10000)")
    parser.add_argument("--cache-model", default="hosted_vllm/stub", help="litellm model string for part 2 (the vllm serve route)")
    args = parser.parse_args()
    args.client_concurrency = args.client_concurrency or 2 * args.concurrency
    ideal = args.concurrency / args.latency
    print(f"# judge_throughput  {date.today()}  {platform.machine()} {os.cpu_count()} cores  python {platform.python_version()}")
    print(f"server: latency {args.latency}s, concurrency {args.concurrency} -> ideal capacity {ideal:.1f} req/s; {args.n} requests")

    server = ServerProcess(args.latency, args.concurrency)
    try:
        for client in (args.concurrency, args.client_concurrency):
            rate = bench_litellm(server.url, args.model, client, args.n)
            peer = bench_openai_sdk(server.url, client, args.n)
            print(f"client in flight <= {client:3d}: litellm backend ({args.model}) {rate:7.1f} req/s = {rate / ideal:.3f} of ideal"
                  f" | openai SDK + semaphore (peer) {peer:7.1f} req/s = {peer / ideal:.3f} | litellm/peer {rate / peer:.3f}")
        print(f"server saw at most {server.stats()['max_in_flight']} answers in progress (its limit: {args.concurrency})")
    finally:
        server.close()

    # Part 2 on a fast server: only the client's own speed matters for filling the cache.
    server = ServerProcess(0.0, None)
    try:
        before = server.stats()["n_requests"]
        r = bench_cached_judge(server.url, args.cache_model, 64, args.cached)
        total = server.stats()["n_requests"] - before
        fill_requests = r["fill_judged"]
        print(f"judge stage, {r['n']} traces, plain judge, {args.cache_model}, DuckDB response cache:")
        print(f"  first run (fills the cache):   {r['fill_s']:7.2f} s  {r['n'] / r['fill_s']:8.1f} verdicts/s  {fill_requests} requests")
        print(f"  rerun of the same flow:        {r['rerun_s']:7.2f} s  judged {r['rerun_judged']}  (verdicts stored)")
        print(f"  verdicts deleted, rerun:       {r['cached_s']:7.2f} s  {r['n'] / r['cached_s']:8.1f} verdicts/s  ({r['cached_judged']} cached verdicts)")
        print(f"  server requests over all three runs: {total}  (= the first run's {r['n']}: the reruns made {total - r['n']})")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
