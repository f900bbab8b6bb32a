"""Scale-out on one machine: the same work on 1 and on 2 workers, and the ratio.

    python bench/scale_out.py                      # defaults below; about 3 minutes on 2 cores
    python bench/scale_out.py --traces 5000 --requests 200   # quicker
    python bench/scale_out.py --skip-verify --skip-judge     # the store part only (lake against file, 1M reward rows)

Part 1, verification through the Dask runner (compute.runner: dask): `--traces` demo traces (the sample reader's
generated set) rule-verified as verify-piece Prefect tasks on a local Dask cluster of 1, then 2 worker processes,
submitted from a flow run on Prefect's temporary API server; the flow reads and writes a fresh DuckDB store each
time. The cluster is started and warmed (each worker's verifier process is up) before the clock starts, and the
time to start it is printed apart. Beside it, the stage as it runs on one machine (compute.runner: local: the
verifier's own process pool with 1, then 2 workers): the peer a user has without Dask.

Part 2, judging over 1 and 2 servers of fixed capacity: stub OpenAI-compatible servers (tests/stub_server.py), each
in its own process, each answering after `--latency` s with at most `--server-concurrency` answers in progress (the
rest queue): each has a capacity of exactly server-concurrency / latency requests per second. The litellm backend
sends `--requests` judge-sized requests with `llm.api_base` (one server) and with `llm.api_bases` (two, through
litellm's Router), keeping twice the servers' total slots in flight.

Part 3, the store: the same `--reward-rows` (default 1,000,000) traces with verdicts written into the DuckDB file and
into DuckLake lakes (catalog in a local SQLite file; in PostgreSQL when initdb/pg_ctl are installed: a throwaway server
on a free loopback port), then the pipeline's own code on each: compute_rewards writes the 1M reward rows (one
transaction), the verl export reads them back (streaming, Parquet), the by-source summary query aggregates them, and
`--small-commits` single-answer writes to the LLM cache show what one commit costs (a judge or verifier writes small
batches). Sizes on disk: the file, or the lake's Parquet plus its catalog.

Each ratio is 2 workers' (servers') rate over 1's; 2.0 is perfect scaling. On a machine whose cores are shared
with other work (the load average is printed) part 1 is bounded by the cores that are free, not by the design.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench.judge_throughput import ServerProcess, requests_for  # noqa: E402
from rubricate.config import ComputeConfig, SourceConfig, VerifyConfig  # noqa: E402
from rubricate.llm.base import LLMConfig  # noqa: E402


def _demo_store(path: Path, n_traces: int):
    from rubricate.ingest.run import ingest_source
    from rubricate.store import Store

    store = Store(path)
    # the sample reader writes about 3 traces per problem
    report = ingest_source(store, SourceConfig(name="sample", reader="sample", options={"n_problems": max(1, n_traces // 3), "seed": 0}))
    return store, report.n_accepted


def bench_dask(n_traces: int, workers: int, piece_size: int, chunk_size: int, tmp: Path) -> dict:
    """Verify n_traces through a DaskTaskRunner with `workers` processes, from a flow run. Seconds to start, to verify."""
    from prefect import flow

    from rubricate.verify.pieces import PiecewisePool
    from rubricate.verify.stage import verify_traces
    from tasks.compute import dask_runner, run_pieces
    from tasks.verify import verify_piece_task

    compute = ComputeConfig(runner="dask", n_workers=workers, piece_size=piece_size)
    path = tmp / f"dask-{workers}.duckdb"
    store, n = _demo_store(path, n_traces)
    store.close()

    @flow(name=f"scale-out-verify-{workers}")
    def run() -> dict:
        from rubricate.store import Store

        t0 = time.perf_counter()
        with dask_runner(compute) as runner:
            # warm: every worker's own verifier process up (one tiny piece per worker, at once)
            run_pieces(runner, verify_piece_task, [[("1", "\\boxed{1}")]] * (2 * workers), timeout_s=5.0)
            started = time.perf_counter() - t0
            store = Store(path)
            try:
                pool = PiecewisePool(lambda pieces: run_pieces(runner, verify_piece_task, pieces, timeout_s=5.0), piece_size)
                t1 = time.perf_counter()
                report = verify_traces(store, VerifyConfig(timeout_s=5.0, chunk_size=chunk_size), pool=pool)
                seconds = time.perf_counter() - t1
            finally:
                store.close()
        return {"start_s": started, "verify_s": seconds, "n": report.n_verified, "correct": report.correct}

    return {**run(), "traces": n}


def bench_local(n_traces: int, workers: int, chunk_size: int, tmp: Path) -> dict:
    """The one-machine stage: the verifier's own pool of `workers` processes (started before the clock)."""
    from rubricate.verify.pool import VerifyPool
    from rubricate.verify.stage import verify_traces

    store, n = _demo_store(tmp / f"local-{workers}.duckdb", n_traces)
    cfg = VerifyConfig(workers=workers, timeout_s=5.0, chunk_size=chunk_size)
    with VerifyPool(workers, 5.0, batch_size=max(1, cfg.chunk_size // (2 * workers))) as pool:
        pool.map([("1", "\\boxed{1}")] * workers)
        t0 = time.perf_counter()
        report = verify_traces(store, cfg, pool=pool)
        seconds = time.perf_counter() - t0
    store.close()
    return {"verify_s": seconds, "n": report.n_verified, "correct": report.correct, "traces": n}


def bench_servers(n_servers: int, n_requests: int, latency: float, concurrency: int) -> dict:
    """n_requests through the litellm backend over `n_servers` stub servers of fixed capacity."""
    from rubricate.llm.backends import get_backend

    servers = [ServerProcess(latency, concurrency) for _ in range(n_servers)]
    try:
        in_flight = 2 * concurrency * n_servers
        common = {"kind": "litellm", "model": "openai/stub", "max_concurrency": in_flight, "timeout_s": 600}
        cfg = LLMConfig(**common, api_base=servers[0].url) if n_servers == 1 else LLMConfig(**common, api_bases=[s.url for s in servers])
        backend = get_backend(cfg)
        backend.complete(requests_for(in_flight, "warm"))  # client set-up is not part of the steady state
        before = [s.stats()["n_requests"] for s in servers]
        t0 = time.perf_counter()
        out = backend.complete(requests_for(n_requests, "bench"))
        seconds = time.perf_counter() - t0
        assert all(r.ok for r in out), [r.error for r in out if not r.ok][:3]
        share = [s.stats()["n_requests"] - b for s, b in zip(servers, before)]
    finally:
        for s in servers:
            s.close()
    return {"rate": n_requests / seconds, "ideal": n_servers * concurrency / latency, "share": share, "in_flight": in_flight}


SQL = REPO / "bench" / "sql"


def _tree_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def bench_store(target, n_rows: int, small_commits: int, tmp: Path) -> dict:  # noqa: ANN001 - a Path or a Lake
    """The store part on one target: seconds to write the traces, write the rewards, read them (export, aggregate)."""
    from rubricate.rewards.compute import compute_rewards
    from rubricate.rewards.config import ExportConfig, RewardsConfig
    from rubricate.rewards.export import export_rewards
    from rubricate.rewards.rule import RewardRule
    from rubricate.store import Store
    from rubricate.store.db import utcnow

    out: dict = {}
    t0 = time.perf_counter()
    store = Store(target)
    out["open_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # The synthetic traces and verdicts of bench/export.py; plain INSERTs, one transaction.
    store.write(lambda tx: [tx.sql((SQL / f"{name}.sql").read_text(), {"n": n_rows})
                            for name in ("export_synth_traces", "export_synth_verdicts", "export_synth_judge")], what="synthesis")
    out["write_traces_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = compute_rewards(store, RewardsConfig(rule=RewardRule(unscorable="value")))  # every trace is a reward row
    out["write_rewards_s"] = time.perf_counter() - t0
    out["rows"] = report.n_traces
    t0 = time.perf_counter()
    # 2GB, not the default 1GB, on every target: on a lake the ordered join over Parquet needs more than 1GB on 2 threads
    # at 1M rows (it fails at 1GB and passes at 1.5GB, measured 2026-12-02); the DuckDB file needs less.
    result = export_rewards(store, report.reward_set_id, tmp / f"export-{id(target)}", ExportConfig(formats=["verl"], memory_limit="2GB"))
    out["export_s"] = time.perf_counter() - t0
    assert result.rows == report.n_traces, (result.rows, report.n_traces)
    t0 = time.perf_counter()
    for _ in range(5):
        store.records("rewards/by_source", {"reward_set_id": report.reward_set_id})
    out["aggregate_s"] = (time.perf_counter() - t0) / 5
    import polars as pl

    t0 = time.perf_counter()
    for i in range(small_commits):
        answer = pl.DataFrame({"cache_key": [f"bench-{i}"], "backend": ["litellm"], "model": ["m"], "prompt_id": ["p"], "sampling": ["{}"],
                               "text": ["x"], "reasoning": [None], "prompt_tokens": [1], "completion_tokens": [1], "cost_usd": [0.0], "raw": [None]},
                              schema_overrides={"reasoning": pl.String, "raw": pl.String})
        store.insert_frame("llm/insert_llm_cache", answer, {"created_at": utcnow()})
    out["commit_ms"] = (time.perf_counter() - t0) / max(small_commits, 1) * 1000
    store.close()
    return out


def run_store_part(n_rows: int, small_commits: int) -> None:
    from rubricate.postgres import SUPERUSER, LocalPostgres, missing_binaries
    from rubricate.processes import free_port
    from rubricate.store.lake import Lake

    print(f"\n## the store: {n_rows:,} traces with verdicts, then {n_rows:,} reward rows written, exported, aggregated; "
          f"{small_commits} one-row commits", flush=True)
    root = Path(tempfile.mkdtemp(prefix="scale-out-store-"))
    root.chmod(0o711)  # PostgreSQL runs as another user under root and must reach its folder
    pg = None
    try:
        targets: dict[str, tuple] = {
            "DuckDB file": (root / "store.duckdb", [root / "store.duckdb"]),
            "lake, SQLite catalog": (Lake(f"sqlite:{root / 'catalog.sqlite'}", str(root / "lake-sqlite")), [root / "catalog.sqlite", root / "lake-sqlite"]),
        }
        if not missing_binaries():
            pg = LocalPostgres(root / "postgres", port=free_port(), database="lake")
            pg.start()
            catalog = f"postgres:host=127.0.0.1 port={pg.port} user={SUPERUSER} dbname=lake"
            targets["lake, PostgreSQL catalog"] = (Lake(catalog, str(root / "lake-pg")), [root / "lake-pg"])
        else:
            print("(PostgreSQL not installed: no PostgreSQL-catalog row)")
        rows = {}
        for name, (target, disk) in targets.items():
            r = bench_store(target, n_rows, small_commits, root)
            r["disk_mb"] = sum(_tree_mb(p) for p in disk if p.exists())
            rows[name] = r
            print(f"{name:<26} write traces {r['write_traces_s']:6.2f} s   write rewards {r['write_rewards_s']:6.2f} s   "
                  f"export (read) {r['export_s']:6.2f} s   aggregate {r['aggregate_s'] * 1000:7.1f} ms   one-row commit {r['commit_ms']:7.1f} ms   "
                  f"on disk {r['disk_mb']:7.1f} MB   load {os.getloadavg()[0]:.2f}", flush=True)
        base = rows["DuckDB file"]
        for name, r in rows.items():
            if name != "DuckDB file":
                print(f"{name} / file: write traces {r['write_traces_s'] / base['write_traces_s']:.2f}x, write rewards "
                      f"{r['write_rewards_s'] / base['write_rewards_s']:.2f}x, export {r['export_s'] / base['export_s']:.2f}x, aggregate "
                      f"{r['aggregate_s'] / base['aggregate_s']:.2f}x, one-row commit {r['commit_ms'] / base['commit_ms']:.1f}x")
    finally:
        if pg is not None:
            pg.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=30_000, help="demo traces verified per run (default 30,000)")
    parser.add_argument("--piece-size", type=int, default=1024, help="traces per verify-piece task (default 1,024)")
    parser.add_argument("--chunk-size", type=int, default=8192, help="traces per round read from the store, both runners (default 8,192)")
    parser.add_argument("--requests", type=int, default=600, help="requests per judging run (default 600)")
    parser.add_argument("--latency", type=float, default=0.25, help="each server's seconds per answer (default 0.25)")
    parser.add_argument("--server-concurrency", type=int, default=4, help="answers each server has in progress at most (default 4)")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--skip-judge", action="store_true")
    parser.add_argument("--reward-rows", type=int, default=1_000_000, help="traces, then reward rows, in the store part (default 1,000,000)")
    parser.add_argument("--small-commits", type=int, default=50, help="one-row writes timed in the store part (default 50)")
    parser.add_argument("--skip-store", action="store_true")
    args = parser.parse_args()

    started = datetime.now(timezone.utc)
    print(f"# scale_out  {started:%Y-%m-%d %H:%M} UTC  {platform.node()}  {os.cpu_count()} cores  python {platform.python_version()}  "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    if not args.skip_verify:
        from prefect.testing.utilities import prefect_test_harness

        print(f"\n## verification, {args.traces:,} demo traces, rounds of {args.chunk_size:,}, pieces of {args.piece_size:,}", flush=True)
        with tempfile.TemporaryDirectory(prefix="scale-out-") as tmp, prefect_test_harness(server_startup_timeout=120):
            rows = {}
            for workers in (1, 2):
                local = bench_local(args.traces, workers, args.chunk_size, Path(tmp))
                dask = bench_dask(args.traces, workers, args.piece_size, args.chunk_size, Path(tmp))
                assert dask["n"] == local["n"] and dask["correct"] == local["correct"], (dask, local)
                rows[workers] = (local, dask)
                print(f"{workers} worker(s): local pool {local['n'] / local['verify_s']:8.0f} traces/s ({local['verify_s']:6.2f} s)   "
                      f"Dask runner {dask['n'] / dask['verify_s']:8.0f} traces/s ({dask['verify_s']:6.2f} s; cluster start + warm-up "
                      f"{dask['start_s']:5.1f} s)   load {os.getloadavg()[0]:.2f}", flush=True)
            (l1, d1), (l2, d2) = rows[1], rows[2]
            print(f"ratio 2/1 workers: local pool {l1['verify_s'] / l2['verify_s']:.2f}x   Dask runner {d1['verify_s'] / d2['verify_s']:.2f}x"
                  f"   (verdicts: {d2['n']:,}, {d2['correct']:,} correct, the same on every run)")

    if not args.skip_judge:
        print(f"\n## judging, {args.requests} requests, servers of {args.server_concurrency} slots x {args.latency} s "
              f"= {args.server_concurrency / args.latency:.1f} req/s each", flush=True)
        rates = {}
        for n in (1, 2):
            r = bench_servers(n, args.requests, args.latency, args.server_concurrency)
            rates[n] = r["rate"]
            print(f"{n} server(s){' (Router, simple-shuffle)' if n > 1 else ''}: {r['rate']:7.1f} req/s = {r['rate'] / r['ideal']:.3f} of ideal "
                  f"{r['ideal']:.1f}; {r['in_flight']} in flight; requests per server {r['share']}   load {os.getloadavg()[0]:.2f}", flush=True)
        print(f"ratio 2/1 servers: {rates[2] / rates[1]:.2f}x")

    if not args.skip_store:
        run_store_part(args.reward_rows, args.small_commits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
