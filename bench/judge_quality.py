"""The headline comparison: with the same local model, does a data-driven rubric make the LLM judge catch more wrong traces?

    python bench/judge_quality.py --quick                 # under 10 minutes on 2 idle cores: ProcessBench and PRMBench only, tiny samples of short traces
    python bench/judge_quality.py                         # the full run: ~1.5 hours on 2 idle cores (run it in the background)
    python bench/judge_quality.py --config my-llm.yaml    # another model (any `llm:` section: local, vLLM serve, an API)

Everything goes through the real pipeline code against one DuckDB store (a fresh one under data/bench-judge-quality
unless --store names one to resume): readers, the LLM describer, embedding and HDBSCAN, the LLM namer, the judges
(rubric: selection pass then checking pass; plain: one question), the response cache, the verify stage and the
LLM false-negative verifier. Data is read from ../shared/data and never copied.

Part 1, judges. For ProcessBench and MR-Ben (math): a seeded sample of labelled traces (half wrong, half right,
traces of at most --max-chars characters so a CPU run stays affordable) is split by rubricate's own gold split
(20% gold, by a stable hash). The rubric is mined from the gold part's wrong traces with the LLM describer
(the model describes each wrong trace's first error; descriptions are embedded, clustered and named by the
model): at most --describe of them. Both judges then judge the same seeded balanced sample of the held-out part.
Per judge: share of wrong traces caught (sensitivity), share of right traces passed (specificity), balanced
accuracy, the ProcessBench step F1, judge errors, tokens, seconds per trace, and the prompt cache: the share of
prompt tokens the server took from its prefix cache (read from llama.cpp's /metrics; "n/a" for servers without it)
and the seconds those tokens would have cost at the run's own prompt speed.

Part 2, the describer. Rubric items built from LLM descriptions vs the dataset-text mode (the dataset's own error
text, made domain-general), scored by cluster agreement (ARI) against the dataset's error classes on a seeded,
class-balanced sample of PRMBench (8 classes) and MathDial (6 teacher categories).

Part 3, the verifier. Answer pairs from Math-Verify's regression cases and rewritten big_math gold answers with a
known truth; the rule verifier runs first (verify stage), and on a seeded sample of the pairs it rejects, half
truly equivalent and half not, the LLM false-negative verifier runs: recovered = true equivalents it accepts,
wrong accepted = non-equivalents it accepts.

Part 4, the verifier by class (issue 11). The hand-written regression table of TinyV's classes of rule false
negatives (tests/verify/class_cases.py): the rules accept every equivalent pair there, so what they reject are the
wrong near misses; on a seeded sample of them per class (plus any equivalent pair the rules still reject) the LLM
verifier runs, and the table says per class how many wrong answers it accepts (and recovers, where there are any).

Timings are wall-clock on this machine; say whether other jobs were running when you quote them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import re
import shutil
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
DATA = (REPO / ".." / "shared" / "data").resolve()
SQL = Path(__file__).resolve().parent / "sql"
for var, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                   ("LITELLM_LOCAL_MODEL_COST_MAP", "True"), ("NUMBA_CACHE_DIR", str(REPO / "data" / "numba-cache"))):
    os.environ.setdefault(var, value)

from bench.cluster_quality import load_mathdial, load_prmbench, score, source, traces_jsonl  # noqa: E402
from bench.verify_answers import big_math_pairs, math_verify_pairs  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    pool: int  # labelled traces sampled per judge dataset (half wrong); 20% of them are the gold part
    describe: int  # gold wrong traces the LLM describes for the rubric
    judge: int  # held-out traces each judge judges (half wrong)
    ari: int  # descriptions per ARI dataset
    verify: int  # rule-rejected pairs the LLM verifier sees (half truly equivalent)
    per_class: int  # part 4: rule-rejected near misses per class the LLM verifier sees
    min_cluster: int  # smallest cluster that becomes a rubric item (tiny samples need 2)


# The rubric miner finds no item in fewer than ~16 descriptions (UMAP + HDBSCAN; measured on MathDial samples of
# 8-32: 0 items up to 12, 2-3 from 16), so even the smoke run describes 16.
QUICK = Sizes(pool=200, describe=16, judge=6, ari=16, verify=6, per_class=1, min_cluster=2)
# The full run: about 1.5 hours on 2 idle cores (20 wrong and 20 right held-out traces per judge and set: enough to
# tell a judge that catches half the wrong traces from one that catches a tenth). Larger samples: --judge/--describe.
FULL = Sizes(pool=1000, describe=32, judge=40, ari=48, verify=40, per_class=4, min_cluster=3)

JUDGE_SETS = {
    # name -> (reader, path under ../shared/data)
    "processbench": ("processbench", "processbench"),
    "mr_ben": ("mr_ben", "mr_ben/math.json"),
}


# -- the server's own counters (llama.cpp /metrics) ------------------------------------------------
_METRIC = re.compile(r"^llamacpp:(\w+) ([0-9.eE+-]+)$", re.M)


def server_metrics(api_base: str | None) -> dict[str, float] | None:
    """llama.cpp's Prometheus counters, or None when the server has none (vLLM, an API, metrics off)."""
    if not api_base:
        return None
    url = api_base.rstrip("/").removesuffix("/v1") + "/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return {k: float(v) for k, v in _METRIC.findall(resp.read().decode())}
    except Exception:
        return None


def metrics_base(cfg) -> str | None:
    """Where the model's server listens: the config's api_base, or the local llama.cpp server rubricate starts
    (started here once; every stage of this process shares it), or None (vLLM batch)."""
    if cfg.llm.api_base:
        return cfg.llm.api_base
    from rubricate.llm.backends import build_backend

    backend = build_backend(cfg.llm)
    start = getattr(backend, "start", None)
    if callable(start):
        start()
    return getattr(getattr(backend, "server", None), "api_base", None)


def cache_effect(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, Any]:
    """Share of prompt tokens served from the prefix cache, and the prompt seconds they saved (at this run's speed)."""
    if not before or not after or "prompt_tokens_cached_total" not in after:
        return {"cached_share": None, "saved_s": None}
    computed = after["prompt_tokens_total"] - before["prompt_tokens_total"]
    cached = after["prompt_tokens_cached_total"] - before.get("prompt_tokens_cached_total", 0.0)
    seconds = after["prompt_seconds_total"] - before["prompt_seconds_total"]
    total = computed + cached
    return {"cached_share": cached / total if total else None, "saved_s": cached * seconds / computed if computed else None,
            "prompt_tok_per_s": computed / seconds if seconds else None}


# -- sampling --------------------------------------------------------------------------------------
def balanced(rows: list[dict[str, Any]], n: int, rng: random.Random, key: str = "label_correct") -> list[dict[str, Any]]:
    """n rows, half with key False (wrong) and half True, seeded; fewer when a side runs out."""
    wrong = [r for r in rows if not r[key]]
    right = [r for r in rows if r[key]]
    rng.shuffle(wrong)
    rng.shuffle(right)
    half = n // 2
    return wrong[: n - half] + right[:half]


def trace_chars(problem: str, steps: tuple[str, ...]) -> int:
    return len(problem) + sum(len(s) for s in steps)


# -- part 1: judges --------------------------------------------------------------------------------
@dataclass
class JudgeRow:
    dataset: str
    judge: str
    n: int
    metrics: dict[str, Any]
    seconds: float
    tokens: int
    cache: dict[str, Any]
    note: str = ""


@dataclass
class JudgeSetResult:
    dataset: str
    n_gold: int
    n_described: int
    rubric_items: list[str] = field(default_factory=list)
    rubric_seconds: float = 0.0
    rows: list[JudgeRow] = field(default_factory=list)
    error: str | None = None


def ingest(store, name: str, reader: str, rel: str) -> None:
    from rubricate.config import SourceConfig
    from rubricate.ingest import ingest_source

    ingest_source(store, SourceConfig(name=name, reader=reader, path=str(DATA / rel)))


def judge_set(store, cfg, name: str, sizes: Sizes, seed: int, max_chars: int, log, api_base: str | None) -> JudgeSetResult:
    from rubricate.judge.gold_eval import run_judge, score_judge, split_gold
    from rubricate.judge.rubric_source import build_rubric_from
    from rubricate.judge.stage import labelled_trace_ids, load_traces
    from rubricate.rubric.config import with_overrides

    reader, rel = JUDGE_SETS[name]
    ingest(store, name, reader, rel)
    labelled = labelled_trace_ids(store, [name])
    traces = {t.trace_id: t for t in load_traces(store, labelled["trace_id"].to_list())}
    rows = [{"trace_id": tid, "label_correct": t.label_correct} for tid, t in traces.items()
            if trace_chars(t.problem, t.steps) <= max_chars and (t.label_correct or t.label_first_error_step is not None)]
    rng = random.Random(seed)
    pool = balanced(rows, sizes.pool, rng)
    gold, held_out = split_gold([r["trace_id"] for r in pool], cfg.judge.gold_fraction, seed)
    gold_wrong = sorted((t for t in gold if not traces[t].label_correct), key=lambda t: rng.random())[: sizes.describe]
    eval_ids = [r["trace_id"] for r in balanced([r for r in pool if r["trace_id"] in set(held_out)], sizes.judge, rng)]
    res = JudgeSetResult(name, n_gold=len(gold), n_described=len(gold_wrong))
    log(f"[{name}] {len(rows)} labelled traces <= {max_chars} chars; pool {len(pool)} -> gold {len(gold)} "
        f"({len(gold_wrong)} wrong ones described), judging {len(eval_ids)} held-out")
    # The rubric: LLM-described first errors of the gold part's wrong traces, embedded, clustered, LLM-named.
    rcfg = with_overrides(cfg.rubric, source="llm", **{"naming.namer": "llm", "cluster.min_cluster_size_floor": sizes.min_cluster})
    rcfg = rcfg.model_copy(update={"datasets": [name], "name": f"bench-{name}"})
    t0 = time.perf_counter()
    try:
        rubric = build_rubric_from(store, cfg.model_copy(update={"rubric": rcfg}), gold_wrong)
    except Exception as exc:  # a rubric with no items is a result of this bench, not a crash
        res.error = f"no rubric: {exc}"
        log(f"[{name}] {res.error}")
        rubric = None
    res.rubric_seconds = time.perf_counter() - t0
    if rubric is not None:
        res.rubric_items = [f"{i.item_id}: {i.name}" for i in rubric.items]
        log(f"[{name}] rubric {rubric.version_id} in {res.rubric_seconds:.0f}s: " + "; ".join(res.rubric_items))
    for kind in ("rubric", "plain"):
        if kind == "rubric" and rubric is None:
            continue
        before = server_metrics(api_base)
        run = run_judge(store, cfg, kind, rubric, gold, eval_ids)
        effect = cache_effect(before, server_metrics(api_base))
        scored = score_judge(store, run.report.judge_id, eval_ids)
        m = scored.metrics
        row = JudgeRow(name, kind, len(eval_ids), m, run.report.seconds, m["prompt_tokens"] + m["completion_tokens"], effect)
        res.rows.append(row)
        log(f"[{name}] {kind}: caught {m['tp']}/{m['tp'] + m['fn']} wrong, passed {m['tn']}/{m['tn'] + m['fp']} right, "
            f"{m['n_judge_errors']} errors, {run.report.seconds:.0f}s")
    return res


# -- part 2: the describer's clusters against the dataset's error classes --------------------------
def ari_set(store, cfg, name: str, rows: list[dict[str, Any]], workdir: Path, min_cluster: int, log) -> dict[str, Any]:
    from rubricate.ingest import ingest_source
    from rubricate.rubric.build import build_rubric

    ingest_source(store, source(f"ari_{name}", traces_jsonl(rows, workdir / f"ari_{name}.jsonl")))
    out: dict[str, Any] = {"n": len(rows), "classes": len(set(r["label"] for r in rows))}
    for mode in ("dataset", "llm"):
        from rubricate.rubric.config import with_overrides

        rcfg = with_overrides(cfg.rubric, source=mode, **{"naming.namer": "offline", "cluster.min_cluster_size_floor": min_cluster})
        rcfg = rcfg.model_copy(update={"datasets": [f"ari_{name}"], "name": f"bench-ari-{name}-{mode}"})
        t0 = time.perf_counter()
        built = build_rubric(store, rcfg, llm=cfg.llm, force=True)
        seconds = time.perf_counter() - t0
        labels, gold = item_labels(store, built, f"ari_{name}")
        s = score(labels, gold) if len(gold) else {"ari": float("nan"), "k": 0, "noise": float("nan")}
        n_err = built.describe.get("n_error", 0)
        out[mode] = {"ari": s["ari"], "k": s["k"], "noise": s["noise"], "described": len(gold), "describe_errors": n_err, "seconds": seconds}
        log(f"[ari {name}] {mode}: ARI {s['ari']:.3f}, {s['k']} items, noise {s['noise']:.0%}, {len(gold)} described, {seconds:.0f}s")
    return out


def bench_sql(store, name: str, params: dict[str, Any]):
    """A query of bench/sql (the bench's own, not the product's) as a Polars frame."""
    cur = store.cursor()
    try:
        return cur.sql((SQL / f"{name}.sql").read_text(encoding="utf-8"), params=params).pl()
    finally:
        cur.close()


def item_labels(store, built, dataset: str):
    """Per described trace of `dataset`: the rubric item it landed in (index, -1 = uncategorised) and its gold class."""
    import numpy as np

    frame = bench_sql(store, "judge_quality_items", {"describer_id": built.describe["describer_id"],
                                                     "version_id": built.rubric.version_id, "dataset": dataset})
    index = {iid: i for i, iid in enumerate(sorted({i for i in frame["item_id"].to_list() if i}))}
    return np.array([index[i] if i else -1 for i in frame["item_id"].to_list()]), frame["label_error_type"].to_list()


# -- part 3: the LLM verifier on what the rules reject ---------------------------------------------
def verifier_part(store, cfg, sizes: Sizes, seed: int, workdir: Path, log) -> dict[str, Any]:
    from rubricate.ingest import ingest_source
    from rubricate.llm.backends import get_backend
    from rubricate.verify.llm_addon import recover_false_negatives
    from rubricate.verify.rules import verify_response
    from rubricate.verify.stage import verify_traces

    pairs = math_verify_pairs() + big_math_pairs(200, seed)
    rejected = [p for p in pairs if verify_response(p.gold, p.response).verdict != "correct"]
    rng = random.Random(seed)
    chosen = balanced([{"pair": p, "truth": p.truth} for p in rejected], sizes.verify, rng, key="truth")
    path = workdir / "verify_pairs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, c in enumerate(chosen):
            p = c["pair"]
            fh.write(json.dumps({"id": f"vp-{i}", "problem": f"(a {p.source} test case: no problem text)", "response": p.response,
                                 "gold": p.gold, "truth": p.truth}) + "\n")
    from rubricate.config import SourceConfig

    ingest_source(store, SourceConfig(name="verify_pairs", reader="jsonl", path=str(path), fields={
        "problem": "problem", "response": "response", "gold_answer": "gold", "id": "id", "label_correct": "truth"}))
    verify_traces(store, cfg.verify)
    backend = get_backend(cfg.llm, store=store)
    t0 = time.perf_counter()
    report = recover_false_negatives(store, backend)
    seconds = time.perf_counter() - t0
    frame = bench_sql(store, "judge_quality_llm_verdicts", {"verifier_id": report.llm_verifier_id, "dataset": "verify_pairs"})
    truth_eq = frame.filter(frame["label_correct"])
    truth_ne = frame.filter(~frame["label_correct"])
    out = {
        "n_rule_rejected_pool": len(rejected), "n_asked": report.n_asked, "n_true_equivalent": truth_eq.height,
        "recovered": int((truth_eq["verdict"] == "correct").sum()), "n_not_equivalent": truth_ne.height,
        "wrong_accepted": int((truth_ne["verdict"] == "correct").sum()), "errors": report.n_error, "seconds": seconds,
        "tokens": report.prompt_tokens + report.completion_tokens,
    }
    log(f"[verify] {out}")
    return out


# -- part 4: the LLM verifier on the rule rejections of each class -------------------------------
def class_part(store, cfg, per_class: int, seed: int, workdir: Path, log) -> dict[str, dict[str, Any]]:
    from rubricate.config import SourceConfig
    from rubricate.ingest import ingest_source
    from rubricate.llm.backends import get_backend
    from rubricate.verify.llm_addon import recover_false_negatives
    from rubricate.verify.rules import verify_response
    from rubricate.verify.stage import verify_traces
    from tests.verify.class_cases import CLASSES

    rng = random.Random(seed)
    path = workdir / "class_pairs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for c, (name, (equivalent, near_misses)) in enumerate(CLASSES.items()):
            rejected_eq = [p for p in equivalent if verify_response(p[0], f"\\boxed{{{p[1]}}}").verdict != "correct"]
            rejected_ne = [p for p in near_misses if verify_response(p[0], f"\\boxed{{{p[1]}}}").verdict != "correct"]
            chosen = [(p, True) for p in rejected_eq] + [(p, False) for p in rng.sample(rejected_ne, min(per_class, len(rejected_ne)))]
            for i, ((gold, answer, _why), truth) in enumerate(chosen):  # the why stays out: it would tell the model
                fh.write(json.dumps({"id": f"vc-{c}-{i}", "problem": "(a test case: no problem text)",
                                     "response": f"The answer is \\boxed{{{answer}}}", "gold": gold, "truth": truth, "split": name}) + "\n")
    ingest_source(store, SourceConfig(name="verify_classes", reader="jsonl", path=str(path), fields={
        "problem": "problem", "response": "response", "gold_answer": "gold", "id": "id", "label_correct": "truth", "split": "split"}))
    verify_traces(store, cfg.verify)
    t0 = time.perf_counter()
    report = recover_false_negatives(store, get_backend(cfg.llm, store=store))
    frame = bench_sql(store, "judge_quality_llm_verdicts", {"verifier_id": report.llm_verifier_id, "dataset": "verify_classes"})
    out: dict[str, dict[str, Any]] = {}
    for r in frame.iter_rows(named=True):
        row = out.setdefault(r["split"], {"equivalent": 0, "recovered": 0, "near_misses": 0, "wrong_accepted": 0, "errors": 0})
        kind = ("equivalent", "recovered") if r["label_correct"] else ("near_misses", "wrong_accepted")
        row[kind[0]] += 1
        row[kind[1]] += int(r["verdict"] == "correct")
        row["errors"] += int(r["verdict"] == "error")
    log(f"[classes] {report.n_asked} rule rejections asked in {time.perf_counter() - t0:.0f}s: {out}")
    return out


def class_table(by_class: dict[str, dict[str, Any]]) -> str:
    lines = ["| class | rule-rejected equivalents: recovered | rule-rejected near misses: wrongly accepted | errors |", "|---|---|---|---|"]
    total = {"equivalent": 0, "recovered": 0, "near_misses": 0, "wrong_accepted": 0, "errors": 0}
    for name, r in by_class.items():
        lines.append(f"| {name} | {r['recovered']}/{r['equivalent']} | {r['wrong_accepted']}/{r['near_misses']} | {r['errors']} |")
        total = {k: total[k] + r[k] for k in total}
    lines.append(f"| all | {total['recovered']}/{total['equivalent']} | {total['wrong_accepted']}/{total['near_misses']} | {total['errors']} |")
    return "\n".join(lines)


# -- the table -------------------------------------------------------------------------------------
def fmt(v: Any, pct: bool = False, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "n/a"
    if pct:
        return f"{v:.0%}"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def judges_table(results: list[JudgeSetResult]) -> str:
    head = ("| dataset | judge | traces | wrong caught | right passed | balanced acc. | PB step F1 | judge errors "
            "| tokens | s / trace | prompt cached | cache saved s |")
    lines = [head, "|" + "---|" * 12]
    for res in results:
        for r in res.rows:
            m = r.metrics
            caught = f"{m['tp']}/{m['tp'] + m['fn']}"
            passed = f"{m['tn']}/{m['tn'] + m['fp']}"
            per = r.seconds / r.n if r.n else None
            lines.append(f"| {r.dataset} | {r.judge} | {r.n} | {caught} | {passed} | {fmt(m['balanced_accuracy'])} | {fmt(m['pb_f1'])} "
                         f"| {m['n_judge_errors']} | {r.tokens} | {fmt(per, digits=1)} | {fmt(r.cache['cached_share'], pct=True)} "
                         f"| {fmt(r.cache['saved_s'], digits=0)} |")
        if res.error:
            lines.append(f"| {res.dataset} | rubric | - | no rubric (below) |" + " |" * 8)
    notes = [f"- {res.dataset}: {res.error}" for res in results if res.error]
    return "\n".join(lines + ([""] + notes if notes else []))


def describer_table(ari: dict[str, dict[str, Any]]) -> str:
    lines = ["| dataset | descriptions | classes | ARI dataset-text | ARI LLM | items (text / LLM) | LLM describe errors |", "|" + "---|" * 7]
    for name, a in ari.items():
        d, llm = a["dataset"], a["llm"]
        lines.append(f"| {name} | {a['n']} | {a['classes']} | {fmt(d['ari'])} | {fmt(llm['ari'])} | {d['k']} / {llm['k']} | {llm['describe_errors']} |")
    return "\n".join(lines)


def verifier_table(v: dict[str, Any]) -> str:
    return ("| rule-rejected pairs asked | truly equivalent: recovered | not equivalent: wrongly accepted | errors | s / pair |\n"
            "|---|---|---|---|---|\n"
            f"| {v['n_asked']} | {v['recovered']}/{v['n_true_equivalent']} | {v['wrong_accepted']}/{v['n_not_equivalent']} "
            f"| {v['errors']} | {fmt(v['seconds'] / v['n_asked'] if v['n_asked'] else None, digits=1)} |")


def summary_line(results: list[JudgeSetResult]) -> str:
    parts = []
    for res in results:
        by = {r.judge: r.metrics for r in res.rows}
        if "rubric" in by and "plain" in by:
            r, p = by["rubric"], by["plain"]
            parts.append(f"{res.dataset}: rubric caught {fmt(r['sensitivity'], True)} of wrong traces vs plain {fmt(p['sensitivity'], True)}, "
                         f"balanced accuracy {fmt(r['balanced_accuracy'])} vs {fmt(p['balanced_accuracy'])}")
        else:
            parts.append(f"{res.dataset}: {'no rubric, so no rubric judge' if res.error else 'incomplete'}")
    return "SUMMARY: " + "; ".join(parts)


# -- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny seeded samples (a smoke run of every part)")
    parser.add_argument("--config", default=str(REPO / "configs" / "local-llm.yaml"), help="a pipeline config with an `llm:` section")
    parser.add_argument("--store", help="a DuckDB file to use (and resume); default a fresh one under data/bench-judge-quality")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-chars", type=int, help="judge and describe only traces of at most this many characters "
                        "(default 2500; --quick: 1200, so the smoke run stays within 10 minutes on 2 cores)")
    parser.add_argument("--parts", help="comma-separated parts (default: judge,describer,verifier,classes; --quick: all but classes)")
    parser.add_argument("--datasets", help=f"judge sets, comma-separated (default: {','.join(JUDGE_SETS)}; --quick: processbench)")
    parser.add_argument("--describe", type=int, help="override: gold wrong traces described for each rubric")
    parser.add_argument("--judge", type=int, help="override: held-out traces each judge judges")
    parser.add_argument("--ari", type=int, help="override: descriptions per ARI dataset")
    parser.add_argument("--verify", type=int, help="override: rule-rejected pairs the LLM verifier sees")
    parser.add_argument("--per-class", type=int, help="override: rule-rejected near misses per class (part 4)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    given = {"describe": args.describe, "judge": args.judge, "ari": args.ari, "verify": args.verify, "per_class": args.per_class}
    overrides = {k: v for k, v in given.items() if v is not None}
    sizes = dataclasses.replace(sizes, **overrides)
    parts = set((args.parts or ("judge,describer,verifier" if args.quick else "judge,describer,verifier,classes")).split(","))
    max_chars = args.max_chars or (1200 if args.quick else 2500)

    from rubricate.config import load_config
    from rubricate.store import open_store

    cfg = load_config(args.config)
    if cfg.llm.kind == "none":
        print(f"error: {args.config} configures no LLM (llm.kind: none); use configs/local-llm.yaml (after `make fetch-llm`)", file=sys.stderr)
        return 2
    if cfg.llm.kind == "llamacpp" and cfg.llm.local.threads is None:
        # The pipeline's default (half the cores) leaves room for other work; a benchmark wants the machine to itself.
        local = cfg.llm.local.model_copy(update={"threads": os.cpu_count() or 1})
        cfg = cfg.model_copy(update={"llm": cfg.llm.model_copy(update={"local": local})})
    workdir = Path(args.store).resolve().parent if args.store else REPO / "data" / "bench-judge-quality" / datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    store_path = Path(args.store).resolve() if args.store else workdir / "bench.duckdb"
    cfg = cfg.model_copy(update={"store": cfg.store.model_copy(update={"path": str(store_path)})})
    store = open_store(store_path)
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"{time.perf_counter() - t_start:7.0f}s  {msg}", flush=True)

    started = datetime.now(timezone.utc)
    threads = f", llama.cpp threads {cfg.llm.local.threads}" if cfg.llm.kind == "llamacpp" else ""
    log(f"judge quality ({'quick' if args.quick else 'full'}): model {cfg.llm.model}{threads}, store {store_path}, sizes {sizes}")
    api_base = metrics_base(cfg)
    judges: list[JudgeSetResult] = []
    ari: dict[str, dict[str, Any]] = {}
    verifier: dict[str, Any] | None = None
    class_verdicts: dict[str, dict[str, Any]] | None = None
    if "judge" in parts:
        for name in (args.datasets or ("processbench" if args.quick else ",".join(JUDGE_SETS))).split(","):
            judges.append(judge_set(store, cfg, name, sizes, args.seed, max_chars, log, api_base))
    if "describer" in parts:
        rng = random.Random(args.seed)
        ari_sets = {"prmbench": load_prmbench} | ({} if args.quick else {"mathdial": lambda: load_mathdial(keep_none=False)})
        for name, load in ari_sets.items():
            rows = load()
            if args.quick:  # short ones only: each LLM description of a long trace costs tens of seconds on a CPU
                rows = [r for r in rows if trace_chars(r["problem"], tuple(r["steps"])) <= max_chars]
            by_class: dict[str, list[dict[str, Any]]] = {}
            for r in rows:
                by_class.setdefault(r["label"], []).append(r)
            per = max(1, sizes.ari // len(by_class))
            sample = [r for rs in by_class.values() for r in rng.sample(rs, min(per, len(rs)))]
            ari[name] = ari_set(store, cfg, name, sample, workdir, sizes.min_cluster, log)
    if "verifier" in parts:
        # A store of its own: the LLM verifier asks about every rule rejection in its store, and the judge sets'
        # traces (MR-Ben has gold answers) must not be among them.
        vpath = store_path.with_name(store_path.stem + "-verify.duckdb")
        vcfg = cfg.model_copy(update={"store": cfg.store.model_copy(update={"path": str(vpath)})})
        verifier = verifier_part(open_store(vpath), vcfg, sizes, args.seed, workdir, log)
    if "classes" in parts:  # a store of its own too, for the same reason
        cpath = store_path.with_name(store_path.stem + "-classes.duckdb")
        ccfg = cfg.model_copy(update={"store": cfg.store.model_copy(update={"path": str(cpath)})})
        class_verdicts = class_part(open_store(cpath), ccfg, sizes.per_class, args.seed, workdir, log)
    total = time.perf_counter() - t_start
    print()
    print(f"# Judge quality, {'quick' if args.quick else 'full'} run: {started:%Y-%m-%d %H:%M} UTC, {platform.node()} "
          f"({os.cpu_count()} cores), model {cfg.llm.model}, {total / 60:.1f} min in all")
    if judges:
        print("\n## Rubric judge vs plain judge (positive = the trace is wrong)\n")
        print(judges_table(judges))
    if ari:
        print("\n## LLM describer vs dataset text: rubric items against the dataset's error classes\n")
        print(describer_table(ari))
    if verifier:
        print("\n## LLM verifier on pairs the rules rejected\n")
        print(verifier_table(verifier))
    if class_verdicts:
        print("\n## LLM verifier on the rule rejections of each class (tests/verify/class_cases.py)\n")
        print(class_table(class_verdicts))
    if judges:
        print()
        print(summary_line(judges))
    if not args.store:
        shutil.rmtree(workdir / "mlruns", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
