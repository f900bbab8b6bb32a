"""One million traces through the whole pipeline: ingest, verify, rewards, export, stage by stage, each beside
what a user would use instead where one exists.

    python bench/pipeline_1m.py [--traces 1000000] [--workdir .bench/pipeline] [--workers 2] [--keep]

The traces come from the demo generator (rubricate.demo: 12 problem templates, k sampled solutions each, a
share with an injected error), written once as JSON Lines like a user's rollouts (generation timed apart).
Every stage runs in its own fresh process, so its wall time and peak RSS are its own:

  stage    rubricate                                     instead
  ingest   the jsonl reader (field map, ids, duplicates,  Polars `read_ndjson` of the same file (parse only)
           rejected-row accounting) into DuckDB           and DuckDB `read_json` into a table (parse + store)
  verify   the rule verifier, `--workers` processes       plain math-verify `verify(parse(gold), parse(resp))`
                                                           on a sample of the same pairs, one core (its rate)
  rewards  the reward rule over every verdict (SQL)       -
  export   verl, TRL (Parquet + JSONL), OpenRLHF JSONL    DuckDB `COPY (verl query) TO parquet`, one format
           with the manifest

math-verify on all 1M pairs would take hours here, so it is timed on `--mv-sample` pairs and its time for
all of them is that rate extrapolated (printed as such). The machine's load is printed with each line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from export import peak_rss_mb  # noqa: E402  (bench/export.py: the same measure for its exporters)

SQL = REPO / "bench" / "sql"
SOURCE_FIELDS = {"problem": "question", "steps": "steps", "gold_answer": "answer", "id": "uid", "model": "policy"}


# -- children: one stage each, in a fresh process ------------------------------------------------------
def _source(path: str):  # noqa: ANN202 - SourceConfig
    from rubricate.config import SourceConfig

    return SourceConfig(name="rollouts", reader="jsonl", path=path, fields=SOURCE_FIELDS)


def child_generate(path: str, traces: int) -> dict:
    from rubricate.demo import SampleOptions, generate

    k = 10
    opts = SampleOptions(n_problems=-(-traces // k), k=k, seed=1)
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for d in generate(opts):
            if n == traces:
                break
            f.write(json.dumps({"uid": f"t{n}", "question": d.problem, "steps": d.steps, "answer": d.gold_answer,
                                "policy": d.model or "demo-policy"}, ensure_ascii=False) + "\n")
            n += 1
    return {"rows": n, "mb": os.path.getsize(path) / 2**20}


def child_ingest(db: str, path: str) -> dict:
    from rubricate.ingest import ingest_source
    from rubricate.store import Store

    report = ingest_source(Store(db), _source(path))
    return {"rows": report.n_accepted, "rejected": report.n_rejected, "duplicates": report.n_duplicates}


def child_polars_read(path: str) -> dict:
    import polars as pl

    return {"rows": pl.read_ndjson(path).height}


def child_duckdb_read(db: str, path: str) -> dict:
    import duckdb

    con = duckdb.connect(db)
    con.execute((SQL / "pipeline_peer_read.sql").read_text(), {"path": path})
    return {"rows": con.execute("SELECT count(*) FROM rollouts").fetchone()[0]}  # type: ignore[index]


def child_verify(db: str, workers: int) -> dict:
    from rubricate.config import VerifyConfig
    from rubricate.store import Store
    from rubricate.verify.stage import verify_traces

    report = verify_traces(Store(db), VerifyConfig(workers=workers))
    return {"rows": report.n_verified, "by_verdict": {v: getattr(report, v) for v in ("correct", "incorrect", "no_answer", "error")}}


def child_math_verify(db: str, sample: int) -> dict:
    import logging

    from math_verify import parse, verify

    from rubricate.store import Store

    logging.disable(logging.WARNING)
    cur = Store(db).cursor()
    pairs = cur.execute((SQL / "pipeline_verify_pairs.sql").read_text(), {"n": sample}).fetchall()
    verify(parse("$1$"), parse("$1$"))  # its parser is built on first use: not timed
    t0 = time.perf_counter()
    accepted = sum(bool(verify(parse(g), parse(r))) for g, r in pairs)
    return {"rows": len(pairs), "accepted": accepted, "timed_s": time.perf_counter() - t0}


def child_rewards(db: str) -> dict:
    from rubricate.rewards.compute import compute_rewards
    from rubricate.rewards.config import RewardsConfig
    from rubricate.store import Store

    report = compute_rewards(Store(db), RewardsConfig())
    return {"rows": report.n_traces, "reward_set_id": report.reward_set_id}


def child_export(db: str, set_id: str, out: str) -> dict:
    from rubricate.rewards.config import ExportConfig
    from rubricate.rewards.export import export_rewards
    from rubricate.store import Store

    result = export_rewards(Store(db), set_id, out, ExportConfig())
    return {"rows": result.rows, "mb": sum(p.stat().st_size for p in Path(out).iterdir()) / 2**20}


def child_duckdb_copy(db: str, set_id: str, out: str) -> dict:
    from rubricate.store import Store

    cur = Store(db).cursor()
    Path(out).mkdir(parents=True, exist_ok=True)
    query = (SQL / "export_peer_verl.sql").read_text()
    cur.sql(query, params={"reward_set_id": set_id}).write_parquet(str(Path(out) / "verl.parquet"), compression="zstd")
    return {"rows": cur.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(Path(out) / "verl.parquet")}).fetchone()[0]}  # type: ignore[index]


CHILDREN = {
    "generate": child_generate, "ingest": child_ingest, "polars-read": child_polars_read, "duckdb-read": child_duckdb_read,
    "verify": child_verify, "math-verify": child_math_verify, "rewards": child_rewards, "export": child_export,
    "duckdb-copy": child_duckdb_copy,
}


def run_child(name: str, *args: object) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", name, *map(str, args)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"stage {name} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**result, "wall_s": wall}


def line(stage: str, who: str, r: dict, note: str = "") -> None:
    rate = r["rows"] / r.get("timed_s", r["wall_s"]) if r.get("rows") else 0.0
    print(f"{stage:8s} {who:34s} {r.get('timed_s', r['wall_s']):9.1f} s {rate:11,.0f} rows/s {r['peak_rss_mb']:8,.0f} MB"
          f"  load {os.getloadavg()[0]:4.1f}  {note}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--workdir", default=str(REPO / ".bench" / "pipeline"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="verification worker processes")
    parser.add_argument("--mv-sample", type=int, default=2_000, help="pairs plain math-verify is timed on")
    parser.add_argument("--keep", action="store_true", help="keep the store and the files afterwards")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        fn = CHILDREN[name]
        typed = [int(a) if a.isdigit() else a for a in rest]
        t0 = time.perf_counter()
        result = fn(*typed)
        result.setdefault("timed_s", time.perf_counter() - t0)
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))
        return 0

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, peer_db, path = str(work / "pipeline.duckdb"), str(work / "peer.duckdb"), str(work / "rollouts.jsonl")
    print(f"# {args.traces:,} traces through the pipeline | {date.today()} | {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores | python {platform.python_version()} | verify workers {args.workers}")
    gen = run_child("generate", path, args.traces)
    print(f"generated {gen['rows']:,} traces ({gen['mb']:,.0f} MB of JSON Lines) in {gen['wall_s']:.1f} s (not a stage)\n")
    print(f"{'stage':8s} {'who':34s} {'time':>11s} {'rate':>18s} {'peak RSS':>11s}")
    total = 0.0
    ingest = run_child("ingest", db, path)
    total += ingest["timed_s"]
    line("ingest", "rubricate (jsonl reader -> DuckDB)", ingest, f"{ingest['rows']:,} stored, {ingest['rejected']} rejected")
    polars = run_child("polars-read", path)
    line("", "Polars read_ndjson (parse only)", polars, f"rubricate {ingest['timed_s'] / polars['timed_s']:.1f}x its time")
    duck = run_child("duckdb-read", peer_db, path)
    line("", "DuckDB read_json into a table", duck, f"rubricate {ingest['timed_s'] / duck['timed_s']:.1f}x its time")
    verify = run_child("verify", db, args.workers)
    total += verify["timed_s"]
    line("verify", f"rubricate rules, {args.workers} workers", verify, json.dumps(verify.get("by_verdict")))
    mv = run_child("math-verify", db, args.mv_sample)
    mv_rate = mv["rows"] / mv["timed_s"]
    ours_per_core = verify["rows"] / verify["timed_s"] / args.workers
    line("", f"math-verify, 1 core, {mv['rows']:,} pairs", mv,
         f"all {verify['rows']:,} at this rate: {verify['rows'] / mv_rate / 3600:.1f} h on one core; rubricate per core "
         f"{ours_per_core / mv_rate:.1f}x its rate")
    rewards = run_child("rewards", db)
    total += rewards["timed_s"]
    line("rewards", "rubricate reward rule (SQL)", rewards)
    export = run_child("export", db, rewards["reward_set_id"], str(work / "export"))
    total += export["timed_s"]
    line("export", "rubricate, 4 formats + manifest", export, f"{export['mb']:,.0f} MB written")
    copy = run_child("duckdb-copy", db, rewards["reward_set_id"], str(work / "copy"))
    line("", "DuckDB COPY to Parquet (verl only)", copy, f"rubricate {export['timed_s'] / copy['timed_s']:.1f}x its time for 4 formats")
    peak = max(r["peak_rss_mb"] for r in (ingest, verify, rewards, export))
    print(f"\npipeline {args.traces:,} traces: ingest + verify + rewards + export {total:.1f} s ({total / 60:.1f} min), "
          f"peak RSS of any stage {peak:,.0f} MB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
