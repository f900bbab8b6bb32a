"""Benchmark the reward export and the online reward's rule path, side by side with the peers.

1. Export: N (default 1,000,000) synthetic traces with verdicts in DuckDB -> compute rewards (SQL) ->
   verl Parquet. Each exporter runs in its own fresh process, so its peak RSS is its own:
     - rubricate.rewards.export (streaming, fixed row groups, manifest, hashes)
     - peer: DuckDB's native Parquet writer on the same query (`relation.write_parquet`)
     - peer: materialise everything in Polars, then `write_parquet` (what a naive exporter does)
2. compute_score (verl entry point, rule path only: no LLM, no judge) against math-verify's own
   `verify(parse(gold), parse(response))` on the same inputs: Math-Verify's test cases and Big-Math
   problems with synthetic responses (half right, half wrong) from ../shared/data. Each method runs in its
   own process, one warm-up call on an unrelated input, then one timed pass over every input.

    python bench/export.py [--rows 1000000] [--workdir .bench/export] [--score-samples 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQL = Path(__file__).resolve().parent / "sql"
SHARED = (REPO / ".." / "shared" / "data").resolve()
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from
    the parent's RSS at fork (exec keeps the old high-water mark), which would bill the parent's memory here."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; macOS: bytes (then off by 1024)


# -- children (each in a fresh process) ---------------------------------------------------------------
def python_jsonl(table, f) -> None:  # noqa: ANN001 - pyarrow Table, binary file
    """rubricate's JSONL writer until the native one: json.dumps per row (the byte reference it must match)."""
    f.write("".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in table.to_pylist()).encode("utf-8"))


def child_export(kind: str, db: str, set_id: str, out: str) -> dict:
    from rubricate.rewards.config import ExportConfig
    from rubricate.rewards.export import export_rewards
    from rubricate.store import Store

    store = Store(db)
    base = peak_rss_mb()
    t0 = time.perf_counter()
    if kind == "ours":
        res = export_rewards(store, set_id, out, ExportConfig(formats=["verl"]))
        rows = res.rows
    elif kind == "ours-512MB":
        res = export_rewards(store, set_id, out, ExportConfig(formats=["verl"], memory_limit="512MB"))
        rows = res.rows
    elif kind == "ours-all-formats":
        res = export_rewards(store, set_id, out, ExportConfig())
        rows = res.rows
    elif kind == "ours-all-formats-pyjson":
        import rubricate.rewards.export.writer as writer_module

        writer_module.write_jsonl = python_jsonl  # the JSONL writer before the native one, for the side-by-side
        res = export_rewards(store, set_id, out, ExportConfig())
        rows = res.rows
    elif kind == "duckdb-native":
        cur = store.cursor()
        cur.execute("SET memory_limit = $l", {"l": "1GB"})  # the same cap our exporter sets
        Path(out).mkdir(parents=True, exist_ok=True)
        rel = cur.sql((SQL / "export_peer_verl.sql").read_text(), params={"reward_set_id": set_id})
        rel.write_parquet(str(Path(out) / "verl.parquet"), compression="zstd")
        rows = cur.sql("SELECT count(*) FROM read_parquet($p)", params={"p": str(Path(out) / "verl.parquet")}).fetchall()[0][0]
    elif kind == "polars-materialise":
        cur = store.cursor()
        frame = cur.sql((SQL / "export_peer_verl.sql").read_text(), params={"reward_set_id": set_id}).pl()
        Path(out).mkdir(parents=True, exist_ok=True)
        frame.write_parquet(Path(out) / "verl.parquet", compression="zstd")
        rows = frame.height
    else:
        raise SystemExit(f"unknown exporter {kind}")
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in Path(out).glob("*.parquet"))
    return {"kind": kind, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "peak_rss_mb": peak_rss_mb(),
            "base_rss_mb": base, "parquet_mb": size / 2**20}


def score_inputs(limit: int) -> list[tuple[str, str, str]]:
    """(set, gold, response) triples from ../shared/data."""
    out: list[tuple[str, str, str]] = []
    mv = SHARED / "math_verify_tests" / "math_verify_test_cases.jsonl"
    if mv.exists():
        for line in mv.read_text().splitlines():
            row = json.loads(line)
            if isinstance(row.get("gold"), str) and isinstance(row.get("pred"), str):
                out.append(("math_verify_tests", row["gold"], row["pred"]))
    bm = SHARED / "big_math_5k" / "bigmath_rl_tinyv_train.parquet"
    if bm.exists():
        import pyarrow.parquet as pq

        rows = pq.read_table(bm, columns=["reward_model"]).column("reward_model").to_pylist()[:limit]
        for i, rm in enumerate(rows):
            gold = rm["ground_truth"]
            answer = gold if i % 2 == 0 else f"{gold} + {i % 7 + 1}"  # half right, half wrong
            response = (
                "Let's think step by step. We first restate the problem and list what is given.\n\n"
                "Next we set up the relation between the quantities and simplify it carefully.\n\n"
                f"Solving gives the value we need. Therefore the final answer is $\\boxed{{{answer}}}$."
            )
            out.append(("big_math", gold, response))
    return out


def child_score(kind: str, limit: int) -> dict:
    inputs = score_inputs(limit)
    if kind == "math-verify":
        from math_verify import parse, verify

        def one(gold: str, resp: str) -> object:
            return verify(parse(gold), parse(resp))

    elif kind == "verify_response":
        from rubricate.verify.rules import verify_response

        def one(gold: str, resp: str) -> object:
            return verify_response(gold, resp)

    elif kind == "compute_score":
        from rubricate.config import PipelineConfig
        from rubricate.rewards import online

        online.configure(PipelineConfig())  # rules only: no LLM configured, every input has a gold answer

        def one(gold: str, resp: str) -> object:
            return online.compute_score("bench", resp, gold, {})

    else:
        raise SystemExit(f"unknown scorer {kind}")
    one("\\frac{3}{7}", "so we get \\boxed{\\frac{6}{14}}")  # warm-up: imports, first compile
    per_set: dict[str, list[float]] = {}
    for name, gold, resp in inputs:
        t0 = time.perf_counter()
        try:
            one(gold, resp)
        except Exception:
            pass  # math-verify raises on some inputs; the time still counts
        per_set.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
    return {
        "kind": kind,
        "sets": {
            name: {"n": len(ms), "mean_ms": statistics.fmean(ms), "median_ms": statistics.median(ms), "p99_ms": sorted(ms)[int(0.99 * (len(ms) - 1))]}
            for name, ms in per_set.items()
        },
    }


def child_overhead(limit: int) -> dict:
    """compute_score's own cost over the rule verifier it calls: the same inputs, each already seen once
    (so both sides hit the verifier's caches equally), timed alternately many times."""
    from rubricate.config import PipelineConfig
    from rubricate.rewards import online
    from rubricate.verify.rules import verify_response

    online.configure(PipelineConfig())
    # Inputs the verifier settles on its cheap path (under 2 ms): the heavy math-verify tail would drown
    # a difference of microseconds in noise, and the wrapper's cost does not depend on the input's cost.
    inputs = []
    for _, g, r in score_inputs(limit):
        t0 = time.perf_counter()
        verify_response(g, r)
        if (time.perf_counter() - t0) * 1000 < 2.0:
            inputs.append((g, r))
        online.compute_score("bench", r, g, {})
        if len(inputs) == 300:
            break
    direct, wrapped = [], []
    for _ in range(10):
        for g, r in inputs:
            t0 = time.perf_counter()
            verify_response(g, r)
            t1 = time.perf_counter()
            online.compute_score("bench", r, g, {})
            t2 = time.perf_counter()
            direct.append((t1 - t0) * 1000)
            wrapped.append((t2 - t1) * 1000)
    return {"n": len(direct), "verify_response_ms": statistics.fmean(direct), "compute_score_ms": statistics.fmean(wrapped),
            "verify_response_median_ms": statistics.median(direct), "compute_score_median_ms": statistics.median(wrapped)}


def run_child(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'src'}", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the parent ---------------------------------------------------------------------------------------
def build_store(db: Path, n: int) -> tuple[str, float, float]:
    from rubricate.rewards.compute import compute_rewards
    from rubricate.rewards.config import RewardsConfig
    from rubricate.rewards.rule import RewardRule
    from rubricate.store import Store

    if db.exists():
        db.unlink()
    store = Store(db)
    t0 = time.perf_counter()
    cur = store.cursor()
    for name in ("export_synth_traces", "export_synth_verdicts", "export_synth_judge"):
        cur.execute((SQL / f"{name}.sql").read_text(), {"n": n})
    cur.close()
    synth_s = time.perf_counter() - t0
    # unscorable rows get the stated value, so every synthetic trace is an exported reward row
    report = compute_rewards(store, RewardsConfig(rule=RewardRule(unscorable="value")))
    cur = store.cursor()
    cur.execute("CHECKPOINT")  # children must not replay a large WAL (that would count in their RSS)
    cur.close()
    store.close()
    return report.reward_set_id, synth_s, report.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", default=str(REPO / ".bench" / "export"))
    parser.add_argument("--score-samples", type=int, default=2000, help="Big-Math problems for the compute_score part")
    parser.add_argument("--exporters", default="ours,ours-512MB,duckdb-native,polars-materialise,ours-all-formats,ours-all-formats-pyjson",
                        help="comma-separated subset of the exporters to run")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--skip-score", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, *rest = args.child
        if what == "export":
            result = child_export(*rest)
        elif what == "overhead":
            result = child_overhead(int(rest[0]))
        else:
            result = child_score(rest[0], int(rest[1]))
        print(json.dumps(result))
        return 0

    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    if not args.skip_export:
        work = Path(args.workdir)
        work.mkdir(parents=True, exist_ok=True)
        db = work / "bench.duckdb"
        set_id, synth_s, compute_s = build_store(db, args.rows)
        print(f"\n== export: {args.rows:,} traces; synthesised in {synth_s:.1f}s; rewards computed (SQL, no model) in {compute_s:.2f}s "
              f"({args.rows / compute_s:,.0f} rows/s)")
        results = []
        for kind in args.exporters.split(","):
            out = work / f"out-{kind}"
            shutil.rmtree(out, ignore_errors=True)
            results.append(run_child("export", kind, str(db), set_id, str(out)))
        ours = results[0]
        print(f"{'exporter':<22}{'rows':>10}{'seconds':>9}{'rows/s':>11}{'peak RSS MB':>13}{'(after open)':>13}{'parquet MB':>12}"
              f"{'time vs ours':>14}{'RSS vs ours':>13}")
        for r in results:
            print(
                f"{r['kind']:<22}{r['rows']:>10,}{r['seconds']:>9.2f}{r['rows_per_s']:>11,.0f}{r['peak_rss_mb']:>13.0f}{r['base_rss_mb']:>13.0f}"
                f"{r['parquet_mb']:>12.1f}{r['seconds'] / ours['seconds']:>13.2f}x{r['peak_rss_mb'] / ours['peak_rss_mb']:>12.2f}x"
            )
        print("(ours-all-formats writes verl.parquet + trl.parquet + trl.jsonl + openrlhf.jsonl; parquet MB counts its two Parquet files;")
        print(" ours-512MB caps DuckDB at 512MB instead of the default export.memory_limit of 1GB; 'after open' = RSS before exporting;")
        print(" ours-all-formats-pyjson is the same export with the former Python json.dumps JSONL writer)")
        native, python = work / "out-ours-all-formats", work / "out-ours-all-formats-pyjson"
        if native.exists() and python.exists():
            hashes = [{f["name"]: f["sha256"] for f in json.loads((d / "manifest.json").read_text())["files"]} for d in (native, python)]
            for name in ("trl.jsonl", "openrlhf.jsonl"):
                same = hashes[0][name] == hashes[1][name]
                print(f"{name}: native writer's bytes {'identical to' if same else 'DIFFER from'} the Python writer's")
    if not args.skip_score:
        if not SHARED.exists():
            print(f"\n== compute_score: skipped, {SHARED} is absent")
            return 0
        print("\n== compute_score rule path vs math-verify, ms per sample (fresh process each, one timed pass)")
        rows = {kind: run_child("score", kind, str(args.score_samples)) for kind in ("math-verify", "verify_response", "compute_score")}
        for name in rows["math-verify"]["sets"]:
            mv = rows["math-verify"]["sets"][name]
            print(f"-- {name} (n={mv['n']})")
            print(f"{'scorer':<18}{'mean':>9}{'median':>9}{'p99':>9}{'mean - math-verify':>20}{'ratio':>8}")
            for kind in ("math-verify", "verify_response", "compute_score"):
                s = rows[kind]["sets"][name]
                print(f"{kind:<18}{s['mean_ms']:>9.3f}{s['median_ms']:>9.3f}{s['p99_ms']:>9.3f}"
                      f"{s['mean_ms'] - mv['mean_ms']:>20.3f}{s['mean_ms'] / mv['mean_ms']:>7.2f}x")
        o = run_child("overhead", str(args.score_samples))
        print(f"\ncompute_score's own cost over the rule verifier it calls ({o['n']} calls on inputs the verifier settles in < 2 ms, alternated):")
        print(f"  verify_response {o['verify_response_ms']:.4f} ms mean ({o['verify_response_median_ms']:.4f} median), "
              f"compute_score {o['compute_score_ms']:.4f} ms mean ({o['compute_score_median_ms']:.4f} median): "
              f"+{o['compute_score_ms'] - o['verify_response_ms']:.4f} ms per sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
