"""Benchmark: rubricate's rubric mining vs BERTopic's default recipe and raw HDBSCAN, on labelled error text.

    python bench/cluster_quality.py [--datasets prmbench,mathdial,mathdial7] [--scale 10000,100000] [--no-quality]

Data (read from ../shared/data, never copied):
  prmbench   PRMBench `reason` of the 8 error classes (multi_solutions has no reason): 6,051 texts.
  mathdial   MathDial `error_description`, non-empty, teacher category not "None of the above": 645 texts,
             6 categories (the 645 the team measured BERTopic on).
  mathdial7  the same with "None of the above" kept: 707 texts, 7 categories.

Every method clusters embeddings from the same model (all-MiniLM-L6-v2, offline package):
  rubricate       the real pipeline: traces ingested (generic JSONL reader) -> dataset descriptions made
                  domain-general -> embedded (DuckDB cache) -> build_rubric_version with the default config.
                  Scored at the item level and at the category level (the rubric's two levels).
  rubricate/raw   rubricate's clustering on the raw text's embeddings (no generalisation): what masking adds.
  bertopic        BERTopic's default recipe on the raw text: UMAP(5, n_neighbors 15, min_dist 0, cosine,
                  random_state 42) then hdbscan.HDBSCAN(min_cluster_size 10, euclidean, eom).
  bertopic/gen    the same recipe on rubricate's generalised text: what the clustering adds.
  raw-hdbscan     hdbscan.HDBSCAN(min_cluster_size 10) directly on the 384-d raw-text embeddings.
ARI and NMI count noise as one more cluster (label -1), for every method alike; "noise" is the share of
points left uncategorised. Seconds are clustering (+ naming and storing, for rubricate) only; the shared
embedding cost is printed once per dataset.
"signal" = 5-fold logistic-regression accuracy on the embeddings (what a supervised probe can recover) next
to the majority-class rate: an upper bound on what any clustering of those embeddings can reflect.
"oracle-f" (MathDial) replaces a fraction f of the descriptions by their category's name, i.e. an LLM
describer that names the right error type that often: how far the LLM description mode would have to go.

Scale: --scale N builds a rubric from N descriptions synthesised by resampling the real PRMBench and
MathDial descriptions (half each; PRMBench reasons cut to their first sentence, <= 30 words, the length a
describer writes) and perturbing every copy (one word dropped, two neighbouring words swapped, so no two
texts are equal), each with its own problem text. Times ingest, describe, embed and build separately.
The machine's cores are shared with other work; timings are indicative, read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
DATA = (REPO / ".." / "shared" / "data").resolve()
SQL = Path(__file__).resolve().parent / "sql"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / "data" / "numba-cache"))

import numpy as np  # noqa: E402

MATHDIAL_NONE = "None of the above"
PRMBENCH_CLASSES = {"circular", "confidence", "counterfactual", "deception", "domain_inconsistency", "missing_condition",
                    "redundency", "step_contradiction"}


# -- data ------------------------------------------------------------------------------------------
def load_prmbench() -> list[dict[str, Any]]:
    rows = []
    for f in sorted((DATA / "prmbench" / "prmtest_classified").glob("*_4o_*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r.get("reason") and r.get("classification") != "multi_solutions":
                rows.append({"id": r["idx"] + ":" + r["classification"], "problem": r["modified_question"],
                             "steps": r["modified_process"], "text": r["reason"], "label": r["classification"]})
    return rows


def load_mathdial(keep_none: bool) -> list[dict[str, Any]]:
    rows = []
    for i, r in enumerate(json.loads((DATA / "mathdial_stepwise" / "dataset.json").read_text(encoding="utf-8"))):
        text = (r.get("error_description") or "").strip()
        if text and (keep_none or r["error_category"] != MATHDIAL_NONE):
            rows.append({"id": f"md-{i}", "problem": r["problem"], "steps": r["student_incorrect_solution"],
                         "text": text, "label": r["error_category"]})
    return rows


DATASETS = {
    "prmbench": load_prmbench,
    "mathdial": lambda: load_mathdial(keep_none=False),
    "mathdial7": lambda: load_mathdial(keep_none=True),
}


def traces_jsonl(rows: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "problem": r["problem"], "steps": r["steps"] or [r["text"]],
                                 "correct": False, "description": r["text"], "label": r["label"]}) + "\n")
    return path


def source(name: str, path: Path):
    from rubricate.config import SourceConfig

    return SourceConfig(name=name, reader="jsonl", path=str(path), fields={
        "problem": "problem", "response": None, "steps": "steps", "id": "id", "label_correct": "correct",
        "label_error_description": "description", "label_error_type": "label"})


# -- scoring ---------------------------------------------------------------------------------------
def score(labels: np.ndarray, gold: list[str]) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = np.asarray(labels)
    k = len(set(labels[labels >= 0].tolist()))
    return {"ari": adjusted_rand_score(gold, labels), "nmi": normalized_mutual_info_score(gold, labels),
            "noise": float((labels < 0).mean()), "k": k}


def signal(x: np.ndarray, gold: list[str]) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    counts = Counter(gold)
    keep = [i for i, g in enumerate(gold) if counts[g] >= 5]  # a class needs a member in every fold
    y = [gold[i] for i in keep]
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(LogisticRegression(max_iter=2000), x[keep], y, cv=cv).mean())


def bertopic_recipe(x: np.ndarray) -> np.ndarray:
    import hdbscan
    import umap

    reduced = umap.UMAP(n_components=5, n_neighbors=15, min_dist=0.0, metric="cosine", random_state=42).fit_transform(x)
    return hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom", prediction_data=True).fit_predict(reduced)


def raw_hdbscan(x: np.ndarray) -> np.ndarray:
    import hdbscan

    return hdbscan.HDBSCAN(min_cluster_size=10).fit_predict(x.astype(np.float64))


def rubricate_clustering(x: np.ndarray, rcfg) -> tuple[np.ndarray, np.ndarray]:
    """The build's clustering, merge and categories on given embeddings (items, categories per point)."""
    from rubricate.rubric.cluster import centroids, cluster_embeddings
    from rubricate.rubric.hierarchy import group_categories, merge_near_duplicates

    c = cluster_embeddings(x, rcfg.cluster)
    labels, _ = merge_near_duplicates(x, c.labels, rcfg.naming.merge_min_similarity)
    k = int(labels.max()) + 1 if (labels >= 0).any() else 0
    cats = group_categories(centroids(x, labels, k), rcfg.naming.n_categories, rcfg.naming.category_min_similarity)
    return labels, np.where(labels >= 0, cats[np.maximum(labels, 0)] if k else -1, -1)


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


# -- the real pipeline -----------------------------------------------------------------------------
def run_pipeline(store, name: str, rows: list[dict[str, Any]], workdir: Path, rcfg) -> dict[str, Any]:
    """Ingest, describe, embed, build with rubricate; returns per-trace labels, texts, embeddings, timings."""
    from rubricate.ingest import ingest_source
    from rubricate.llm.base import LLMConfig
    from rubricate.rubric.build import build_rubric_version
    from rubricate.rubric.descriptions import describe_new_traces
    from rubricate.rubric.embed import embed_new_descriptions, embedding_model_id, to_matrix
    from rubricate.rubric.versions import version_items

    rcfg = rcfg.model_copy(update={"name": f"bench-{name}", "datasets": [name]})
    times = {}
    _, times["ingest"] = timed(ingest_source, store, source(name, traces_jsonl(rows, workdir / f"{name}.jsonl")))
    described, times["describe"] = timed(describe_new_traces, store, rcfg, LLMConfig())
    embedded, times["embed"] = timed(embed_new_descriptions, store, rcfg, described.describer_id)
    built, times["build"] = timed(lambda: build_rubric_version(store, rcfg, LLMConfig(), force=True))
    cur = store.cursor()
    try:
        frame = cur.sql((SQL / "cluster_quality_traces.sql").read_text(), params={
            "describer_id": described.describer_id, "model_id": embedding_model_id(rcfg.embedder),
            "version_id": built.version_id, "dataset": name}).pl()
    finally:
        cur.close()
    items = version_items(store, built.version_id)
    item_index = {iid: i for i, iid in enumerate(items["item_id"].to_list())}
    cat_index = {c: i for i, c in enumerate(dict.fromkeys(items["category"].to_list()))}
    return {
        "gold": frame["label"].to_list(),
        "source_ids": frame["source_id"].to_list(),
        "x": to_matrix(frame["embedding"]),
        "items": np.array([item_index[i] if i else -1 for i in frame["item_id"].to_list()]),
        "categories": np.array([cat_index[c] if c else -1 for c in frame["category"].to_list()]),
        "times": times, "built": built, "items_frame": items, "embedded_new": embedded.n_new,
    }


# -- reporting -------------------------------------------------------------------------------------
def row(method: str, s: dict[str, float], seconds: float | None, note: str = "") -> str:
    secs = f"{seconds:8.1f}" if seconds is not None else "       -"
    return f"  {method:<24} ARI {s['ari']:6.3f}  NMI {s['nmi']:6.3f}  noise {s['noise']:5.1%}  k {s['k']:4d}  s {secs}  {note}"


def quality(store, name: str, workdir: Path, rcfg, embedder) -> dict[str, Any]:
    from rubricate.rubric.embed import embed_texts_cached

    rows = DATASETS[name]()
    print(f"\n## {name}: {len(rows)} descriptions, {len(set(r['label'] for r in rows))} classes "
          f"(largest class {Counter(r['label'] for r in rows).most_common(1)[0][1] / len(rows):.1%})")
    res = run_pipeline(store, name, rows, workdir, rcfg)
    gold = res["gold"]
    by_id = {r["id"]: r for r in rows}
    assert len(gold) == len(rows), (len(gold), len(rows))
    x_gen = res["x"]
    raw_texts = [by_id[sid]["text"] for sid in res["source_ids"]]  # the raw text, in the pipeline's order
    (x_raw, raw_report), embed_raw_s = timed(embed_texts_cached, store, embedder, raw_texts)
    t = res["times"]
    print(f"  rubricate stages: ingest {t['ingest']:.1f}s, describe {t['describe']:.1f}s, embed {t['embed']:.1f}s "
          f"({res['embedded_new']} new), build {t['build']:.1f}s; raw-text embedding {embed_raw_s:.1f}s ({raw_report.n_new} new)")
    out: dict[str, Any] = {"n": len(rows), "results": {}}
    results = out["results"]
    results["rubricate items"] = (score(res["items"], gold), t["build"])
    results["rubricate categories"] = (score(res["categories"], gold), None)
    (lab_raw, cat_raw), s_raw = timed(rubricate_clustering, x_raw, rcfg)
    results["rubricate/raw items"] = (score(lab_raw, gold), s_raw)
    results["rubricate/raw categories"] = (score(cat_raw, gold), None)
    lab, s = timed(bertopic_recipe, x_raw)
    results["bertopic"] = (score(lab, gold), s)
    lab, s = timed(bertopic_recipe, x_gen)
    results["bertopic/gen"] = (score(lab, gold), s)
    lab, s = timed(raw_hdbscan, x_raw)
    results["raw-hdbscan"] = (score(lab, gold), s)
    for method, (sc, secs) in results.items():
        print(row(method, sc, secs))
    base = results["bertopic"][0]
    best = results["rubricate items"][0]
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0.02 else "n/a (peer near 0)"

    print(f"  rubricate items vs bertopic: ARI {best['ari'] - base['ari']:+.3f} ({ratio(best['ari'], base['ari'])}), "
          f"NMI {best['nmi'] - base['nmi']:+.3f} ({ratio(best['nmi'], base['nmi'])}), noise {best['noise'] - base['noise']:+.1%}")
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    sig_raw, sig_gen = signal(x_raw, gold), signal(x_gen, gold)
    out["signal"] = {"majority": majority, "raw": sig_raw, "generalised": sig_gen}
    print(f"  signal (5-fold LR accuracy): raw {sig_raw:.3f}, generalised {sig_gen:.3f}, majority {majority:.3f}")
    names = res["items_frame"].select("name", "size", "category").head(12).rows()
    print("  items: " + "; ".join(f"{n} ({s}, {c})" for n, s, c in names))
    out["version"] = res["built"].as_dict()
    return out


def oracle(store, embedder, rcfg, rows_name: str = "mathdial") -> None:
    """MathDial with a fraction f of descriptions replaced by the category name (an ideal LLM describer)."""
    from rubricate.rubric.descriptions import first_sentences
    from rubricate.rubric.embed import embed_texts_cached
    from rubricate.rubric.generalize import generalize

    rows = DATASETS[rows_name]()
    gold = [r["label"] for r in rows]
    rng = random.Random(0)
    order = list(range(len(rows)))
    rng.shuffle(order)
    print(f"\n## {rows_name} oracle: a describer that states the teacher's category for a fraction f of the errors")
    for f in (0.0, 0.25, 0.5, 0.75):
        named = set(order[: int(f * len(rows))])
        texts = [f"The student made this error: {r['label'].lower()}." if i in named else
                 first_sentences(generalize(r["text"], r["problem"]), 100) for i, r in enumerate(rows)]
        x, _ = embed_texts_cached(store, embedder, texts)
        items, cats = rubricate_clustering(x, rcfg)
        si, sc = score(items, gold), score(cats, gold)
        print(f"  f={f:.2f}  items ARI {si['ari']:.3f} NMI {si['nmi']:.3f} (k {si['k']}, noise {si['noise']:.1%})  "
              f"categories ARI {sc['ari']:.3f} NMI {sc['nmi']:.3f} (k {sc['k']})  signal {signal(x, gold):.3f}")


# -- scale -----------------------------------------------------------------------------------------
def perturb(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 3:
        del words[rng.randrange(len(words))]
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def scale(store, n: int, workdir: Path, rcfg) -> None:
    from rubricate.ingest import ingest_source
    from rubricate.llm.base import LLMConfig
    from rubricate.rubric.build import build_rubric_version
    from rubricate.rubric.descriptions import describe_new_traces, first_sentences
    from rubricate.rubric.embed import embed_new_descriptions

    rng = random.Random(n)
    # Short texts, as a describer writes them (the LLM prompt asks for <= 20 words): PRMBench reasons are cut
    # to their first sentence (<= 30 words); MathDial descriptions are short already.
    pools = [[{**r, "text": first_sentences(r["text"], 30)} for r in DATASETS["prmbench"]()], DATASETS["mathdial"]()]
    rows, seen = [], set()
    while len(rows) < n:
        base = rng.choice(pools[len(rows) % 2])
        text = perturb(base["text"], rng)
        if text in seen:
            continue
        seen.add(text)
        rows.append({**base, "id": f"s{n}-{len(rows)}", "text": text, "steps": [text]})
    name = f"synthetic{n}"
    rcfg = rcfg.model_copy(update={"name": f"bench-{name}", "datasets": [name]})
    t0 = time.perf_counter()
    ingest_source(store, source(name, traces_jsonl(rows, workdir / f"{name}.jsonl")))
    t1 = time.perf_counter()
    described = describe_new_traces(store, rcfg, LLMConfig())
    t2 = time.perf_counter()
    embedded = embed_new_descriptions(store, rcfg, described.describer_id)
    t3 = time.perf_counter()
    built = build_rubric_version(store, rcfg, LLMConfig(), force=True)
    t4 = time.perf_counter()
    print(f"\n## scale {n:,} synthetic descriptions (resampled + perturbed PRMBench/MathDial)")
    print(f"  ingest {t1 - t0:.1f}s | describe {t2 - t1:.1f}s | embed {t3 - t2:.1f}s ({embedded.n_new:,} new, "
          f"{embedded.n_new / max(t3 - t2, 1e-9):.0f} texts/s) | build {t4 - t3:.1f}s | describe+embed+build {t4 - t1:.1f}s")
    print(f"  version {built.version_id}: {built.status}, {built.n_items} items, {built.n_categories} categories, "
          f"{built.n_uncategorised:,} uncategorised; {built.message[:160]}")
    from rubricate.rubric.embed import embedding_model_id

    cur = store.cursor()
    try:
        frame = cur.sql((SQL / "cluster_quality_traces.sql").read_text(), params={
            "describer_id": described.describer_id, "model_id": embedding_model_id(rcfg.embedder), "version_id": built.version_id,
            "dataset": name}).pl()
    finally:
        cur.close()
    codes = {iid: i for i, iid in enumerate(sorted({i for i in frame["item_id"].to_list() if i}))}
    labels = np.array([codes[i] if i else -1 for i in frame["item_id"].to_list()])
    gold = frame["label"].to_list()
    prm = np.array([g in PRMBENCH_CLASSES for g in gold])
    s_all = score(labels, gold)
    s_prm = score(labels[prm], [g for g, p in zip(gold, prm) if p])
    print(f"  against the source labels: ARI {s_all['ari']:.3f} NMI {s_all['nmi']:.3f} (PRMBench half: ARI {s_prm['ari']:.3f} "
          f"NMI {s_prm['nmi']:.3f}); noise {s_all['noise']:.1%}; reduction {json.loads(_params(store, built.version_id))['clustering']['reduce_used']}")
    # issue 14's summary line (numba's one-time compile is the JIT warm-up line above, not in these)
    print(f"scale {n}: embed {t3 - t2:.1f} s, build {t4 - t3:.1f} s, total {t4 - t2:.1f} s "
          f"(backend {rcfg.embedder.backend}; describe {t2 - t1:.1f} s and ingest {t1 - t0:.1f} s apart)", flush=True)


def _params(store, version_id: str) -> str:
    from rubricate.rubric.versions import version_row

    return version_row(store, version_id)["params"]  # type: ignore[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="prmbench,mathdial,mathdial7")
    parser.add_argument("--scale", default="", help="comma-separated sizes, e.g. 10000,100000")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-oracle", action="store_true")
    parser.add_argument("--backend", choices=["torch", "onnx-int8"], default=None,
                        help="rubric.embedder.backend (default: the config default)")
    parser.add_argument("--cluster", action="append", default=[], metavar="KEY=VALUE",
                        help="a rubric.cluster setting other than its default, e.g. umap_max_fit=10000 (repeatable)")
    parser.add_argument("--store", default=str(REPO / "data" / "bench" / "cluster_quality.duckdb"),
                        help="bench store (kept between runs: the embedding cache makes reruns fast)")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"shared data not found at {DATA}; nothing to benchmark")
        return 1
    from rubricate.rubric.config import RubricConfig
    from rubricate.rubric.embed import Embedder
    from rubricate.store import Store

    rcfg = RubricConfig()
    if args.backend:
        rcfg = rcfg.model_copy(update={"embedder": rcfg.embedder.model_copy(update={"backend": args.backend})})
    if args.cluster:
        settings = dict(item.split("=", 1) for item in args.cluster)
        rcfg = rcfg.model_copy(update={"cluster": type(rcfg.cluster).model_validate({**rcfg.cluster.model_dump(), **settings})})
    store = Store(args.store)
    embedder = Embedder(rcfg.embedder)
    print(f"# rubricate cluster quality, {date.today()}, {platform.node()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"rubricate config: {json.dumps(rcfg.model_dump(mode='json', include={'cluster', 'naming'}))}")
    # numba JIT of UMAP, pynndescent (used by UMAP from 4,096 points on) and fast-hdbscan: paid once per
    # process (about 50 s here), not per build; warmed up before anything is timed.
    t0 = time.perf_counter()
    for size in (5000, 300):  # UMAP takes another (exact) neighbour path below 4,096 points
        warm = np.random.default_rng(0).normal(size=(size, 384)).astype(np.float32)
        rubricate_clustering(warm, rcfg)
        bertopic_recipe(warm)
    print(f"JIT warm-up (UMAP, pynndescent, fast-hdbscan; once per process, excluded below): {time.perf_counter() - t0:.1f}s")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.no_quality:
            for name in [d for d in args.datasets.split(",") if d]:
                quality(store, name, work, rcfg, embedder)
        if not args.no_oracle:
            oracle(store, embedder, rcfg)
        for n in [int(s) for s in args.scale.split(",") if s]:
            scale(store, n, work, rcfg)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
