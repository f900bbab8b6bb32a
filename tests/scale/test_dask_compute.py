"""compute.runner dask (issue 13, item 3a): the CPU-heavy stages on a real local Dask cluster give what they give
on one machine. Two worker processes; the pieces are Prefect tasks on prefect-dask's DaskTaskRunner, submitted from a
flow run on a temporary Prefect API; the flow's process reads and writes the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rubricate.config import ComputeConfig, PipelineConfig, SourceConfig, VerifyConfig
from rubricate.ingest.run import ingest_source
from rubricate.store import Store
from rubricate.verify.pieces import PieceResult, PiecewisePool, cut
from rubricate.verify.rules import VERIFIER_ID, RuleVerdict
from rubricate.verify.stage import verify_traces

DEMO = SourceConfig(name="sample", reader="sample", options={"n_problems": 100, "seed": 3})


def _demo_store(path: Path) -> Store:
    store = Store(path)
    report = ingest_source(store, DEMO)
    assert report.n_accepted >= 200, report  # a few hundred traces
    return store


def _verdicts(store: Store) -> dict[str, tuple]:
    rows = store.execute("verify/select_answer_verdicts", {"verifier_id": VERIFIER_ID})
    return {row[0]: (row[4], row[5], row[6], row[7]) for row in rows}  # extracted answer, verdict, reason, decided_by


def test_config_refuses_a_cluster_it_would_not_use():
    from rubricate.config import parse_config
    from rubricate.errors import ConfigError

    assert PipelineConfig().compute.runner == "local"  # the default stays one machine
    with pytest.raises(ConfigError, match="runner is 'local'"):
        parse_config({"compute": {"dask_address": "tcp://10.0.0.1:8786"}})
    with pytest.raises(ConfigError, match="n_workers sizes the local Dask cluster"):
        parse_config({"compute": {"runner": "dask", "dask_address": "tcp://10.0.0.1:8786", "n_workers": 2}})
    with pytest.raises(ConfigError, match="unknown field"):
        parse_config({"compute": {"runner": "dask", "workers": 2}})


def test_piecewise_pool_joins_pieces_in_order():
    seen: list[int] = []

    def run(pieces: list[list]) -> list[PieceResult]:
        seen.extend(len(p) for p in pieces)
        return [PieceResult([RuleVerdict(g, "correct", r, 0.0) for g, r in p], timeouts=1) for p in reversed(pieces)][::-1]

    pool = PiecewisePool(run, piece_size=3)
    jobs = [(str(i), f"r{i}") for i in range(8)]
    out = pool.map(jobs)
    assert [v.extracted_answer for v in out] == [g for g, _ in jobs]
    assert seen == [3, 3, 2] and pool.timeouts == 3
    assert cut([], 4) == [] and pool.map([]) == []


@pytest.mark.slow
def test_dask_cluster_gives_the_in_process_verdicts(tmp_path: Path, prefect_harness, monkeypatch):
    from prefect import flow

    from tasks.verify import verify_stage

    local_store = _demo_store(tmp_path / "local.duckdb")
    local = verify_traces(local_store, VerifyConfig(workers=2, timeout_s=10.0))
    expected = _verdicts(local_store)
    local_store.close()
    assert local.n_verified == len(expected) >= 200

    data = tmp_path / "dask"
    data.mkdir()
    _demo_store(data / "rubricate.duckdb").close()
    cfg = PipelineConfig(
        data_dir=str(data), verify=VerifyConfig(timeout_s=10.0, chunk_size=128),
        compute=ComputeConfig(runner="dask", n_workers=2, piece_size=16),
    )

    @flow(name="verify-on-dask")
    def verify_on_dask() -> dict:
        return verify_stage(cfg)

    report = verify_on_dask()
    assert report["n_verified"] == local.n_verified
    assert (report["correct"], report["incorrect"], report["no_answer"], report["error"]) == (local.correct, local.incorrect, local.no_answer, local.error)
    assert report["timeouts"] == 0 and report["internal_errors"] == 0
    dask_store = Store(data / "rubricate.duckdb")
    try:
        assert _verdicts(dask_store) == expected
    finally:
        dask_store.close()

    import tasks.compute

    def no_cluster(compute):
        raise AssertionError("a stage with nothing to do started a Dask cluster")

    monkeypatch.setattr(tasks.compute, "dask_runner", no_cluster)
    again = verify_on_dask()  # nothing left to verify: no cluster is started, nothing written
    assert again["n_verified"] == 0


@pytest.mark.slow
def test_dask_cluster_gives_the_in_process_embeddings(tmp_path: Path, prefect_harness):
    import polars as pl
    from prefect import flow

    from rubricate.ids import text_hash
    from rubricate.rubric.config import EmbedderConfig
    from rubricate.rubric.embed import Embedder, PiecewiseEncoder, embed_missing, to_matrix
    from tasks.compute import LazyRunner
    from tasks.rubric import embed_piece_task

    texts = [f"step {i}: the sign of the {i % 7}th term was dropped when expanding" for i in range(40)]
    expected = Embedder(EmbedderConfig()).encode(texts)
    compute = ComputeConfig(runner="dask", n_workers=2, piece_size=8)
    path = tmp_path / "e.duckdb"

    @flow(name="embed-on-dask")
    def embed_on_dask() -> dict:  # the store is opened inside: a flow's context travels to the workers, a connection cannot
        store = Store(path)
        try:
            with LazyRunner(compute) as runner:
                encoder = PiecewiseEncoder(EmbedderConfig(), lambda pieces: runner.run(embed_piece_task, pieces, embedder=EmbedderConfig()),
                                           compute.piece_size)
                frame = pl.DataFrame({"text_hash": [text_hash(t) for t in texts], "text": texts})
                return embed_missing(store, encoder, frame).as_dict()
        finally:
            store.close()

    report = embed_on_dask()
    assert report["n_new"] == len(texts)
    store = Store(path)
    try:
        found = store.frame("rubric/embeddings_for", {"model_id": "all-MiniLM-L6-v2"},
                            incoming=pl.DataFrame({"position": list(range(len(texts))), "text_hash": [text_hash(t) for t in texts]}))
        assert np.allclose(to_matrix(found["embedding"]), expected, atol=1e-5)
    finally:
        store.close()
