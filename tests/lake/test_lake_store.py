"""Issue 13, items 1 and 4: the same SQL files on the DuckDB file and on DuckLake lakes (SQLite, DuckDB and PostgreSQL
catalogs). On every kind: migrations apply once, re-runs add nothing, ids are the same content hashes, rejected rows are
counted once, upserts replace. On a lake: a commit that loses to another writer is run again and adds no duplicate;
bad lake settings fail with a message naming the cause and the fix.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rubricate.config import FieldMap, PipelineConfig, SourceConfig, VerifyConfig
from rubricate.errors import ConfigError, StoreError
from rubricate.ingest import ingest_source
from rubricate.rewards.compute import compute_rewards
from rubricate.rewards.config import RewardsConfig
from rubricate.store.db import Store, utcnow
from rubricate.store.lake import GUARD_PREFIX, Lake, lake_ddl, write_target
from rubricate.store.sqlfiles import load_sql, migration_files, query_names
from rubricate.verify.stage import verify_traces
from tests.helpers import sql_rows, write_jsonl

SAMPLE = SourceConfig(name="sample", reader="sample", options={"n_problems": 6, "seed": 3})


def _bad_source(tmp_path: Path) -> SourceConfig:
    path = write_jsonl(tmp_path / "bad.jsonl", [
        {"problem": "What is 2+2?", "response": "2+2 = 4. The answer is 4.", "gold_answer": "4"},
        {"problem": "What is 3+3?", "response": "", "gold_answer": "6"},           # empty response
        {"problem": "What is 5+5?", "gold_answer": "10"},                           # no response
        {"problem": "What is 2+2?", "response": "2+2 = 4. The answer is 4.", "gold_answer": "4"},  # duplicate of line 1
    ])
    with path.open("a") as f:
        f.write("{not json\n")
    return SourceConfig(name="bad", reader="jsonl", path=str(path),
                        fields=FieldMap(problem="problem", response="response", gold_answer="gold_answer"))


def _counts(store: Store) -> dict[str, int]:
    return store.table_counts(["traces", "rejected_rows", "ingest_runs", "answer_verdicts", "rewards", "reward_sets"])


def test_every_write_statement_names_its_table_and_uses_no_key_conflict_clause():
    """The lake has no keys: no statement may rely on ON CONFLICT / INSERT OR ...; each write is found for its guard."""
    def code(sql: str) -> str:
        return "\n".join(line.partition("--")[0] for line in sql.splitlines()).upper()

    writes = {}
    for name in query_names():
        text = load_sql(name)
        assert "ON CONFLICT" not in code(text) and "INSERT OR" not in code(text), name
        writes[name] = write_target(text)
    assert writes["ingest/insert_traces"] == "traces" and writes["judge/upsert_judge_verdicts"] == "judge_verdicts"
    assert writes["rewards/delete_set"] == "rewards" and writes["ingest/select_known_trace_ids"] is None
    for version, sql in migration_files():
        assert "PRIMARY KEY" not in lake_ddl(sql).upper(), version
    assert "INSERT OR" not in code("".join(sql for _, sql in migration_files()))


def test_migrations_apply_once_on_every_kind(target):
    first = Store(target)
    try:
        versions = [v for v, _ in migration_files()]
        assert sorted(r[0] for r in sql_rows(first, "SELECT version FROM schema_migrations")) == versions
        assert first.migrate() == []
    finally:
        first.close()
    again = Store(target)
    try:
        assert again.migrate() == []
        assert len(sql_rows(again, "SELECT version FROM schema_migrations")) == len(versions)
        tables = {r[0] for r in sql_rows(again, "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()")}
        assert {"traces", "rejected_rows", "judge_verdicts", "rewards"} <= tables
        if isinstance(target, Lake):  # each table has its write guard, and nothing else is added
            assert {t for t in tables if not t.startswith(GUARD_PREFIX)} == {t.removeprefix(GUARD_PREFIX) for t in tables if t.startswith(GUARD_PREFIX)}
        else:
            assert not any(t.startswith(GUARD_PREFIX) for t in tables)
    finally:
        again.close()


def test_ingest_verify_and_rewards_rerun_to_the_same_rows_with_the_same_ids(target, tmp_path):
    bad = _bad_source(tmp_path)
    reference = Store(tmp_path / "reference.duckdb")  # the default store: what the lake must match
    store = Store(target)
    try:
        for s in (reference, store):
            for _ in range(2):  # a re-run adds no trace, no rejected row, no verdict, no reward
                sample_report = ingest_source(s, SAMPLE)
                bad_report = ingest_source(s, bad)
                verify_traces(s, VerifyConfig(workers=1))
                compute_rewards(s, RewardsConfig())
        counts = _counts(store)
        assert counts == _counts(reference)
        assert counts["ingest_runs"] == 4  # each run is recorded
        assert counts["traces"] == sample_report.n_in + 1 and counts["answer_verdicts"] == counts["traces"] == counts["rewards"]
        assert counts["reward_sets"] == 1
        # The rejected rows: one per bad row (the second run's report counts them again, the store keeps one each).
        assert (bad_report.n_accepted, bad_report.n_rejected, bad_report.n_duplicates) == (0, 3, 2)  # the re-run: all known
        assert sorted(sql_rows(store, "SELECT source_line, reason FROM rejected_rows")) == sorted(
            sql_rows(reference, "SELECT source_line, reason FROM rejected_rows")) != []
        assert sorted(sql_rows(store, "SELECT source_line, reason FROM rejected_rows")) == [
            (2, "empty_response"), (3, "missing_field"), (4, "duplicate"), (5, "malformed_json")]
        ids = "SELECT trace_id, problem_id FROM traces ORDER BY trace_id"
        assert sql_rows(store, ids) == sql_rows(reference, ids)
        dupes = "SELECT trace_id FROM answer_verdicts GROUP BY trace_id, verifier_id HAVING count(*) > 1"
        assert sql_rows(store, dupes) == []
        rewards = "SELECT trace_id, reward, status, reason FROM rewards ORDER BY trace_id"
        assert sql_rows(store, rewards) == sql_rows(reference, rewards)
    finally:
        store.close()
        reference.close()


def _verdicts(trace_ids: list[str], verdict: str) -> pl.DataFrame:
    return pl.DataFrame([{
        "trace_id": t, "judge_id": "j1", "judge_kind": "plain", "rubric_version": None, "model": "m", "prompt_id": "p",
        "verdict": verdict, "first_error_step": None, "items": None, "selected": None, "explanation": "e", "score": None,
        "error": None, "error_stage": None, "attempts": 1, "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": 0.0,
    } for t in trace_ids], schema_overrides={"rubric_version": pl.String, "first_error_step": pl.Int32, "items": pl.String,
                                             "selected": pl.String, "score": pl.Float64, "error": pl.String, "error_stage": pl.String})


def _answers(keys: list[str], text: str) -> pl.DataFrame:
    n = len(keys)
    return pl.DataFrame({"cache_key": keys, "backend": ["litellm"] * n, "model": ["m"] * n, "prompt_id": ["p"] * n, "sampling": ["{}"] * n,
                         "text": [text] * n, "reasoning": [None] * n, "prompt_tokens": [1] * n, "completion_tokens": [1] * n,
                         "cost_usd": [0.0] * n, "raw": [None] * n}, schema_overrides={"reasoning": pl.String, "raw": pl.String})


def test_upserts_replace_and_inserts_keep_the_first_row_on_every_kind(target):
    store = Store(target)
    try:
        # A key given twice in one batch keeps one row (INSERT OR IGNORE did so on the file; the lake has no key).
        assert store.insert_frame("judge/upsert_judge_verdicts", _verdicts(["a", "b", "a"], "correct"), {"created_at": utcnow()}) == 2
        store.insert_frame("judge/upsert_judge_verdicts", _verdicts(["a", "c"], "incorrect"), {"created_at": utcnow()})
        assert sql_rows(store, "SELECT trace_id, verdict FROM judge_verdicts ORDER BY trace_id") == [
            ("a", "incorrect"), ("b", "correct"), ("c", "incorrect")]
        cache = _answers(["k", "k"], "first")
        store.insert_frame("llm/insert_llm_cache", cache, {"created_at": utcnow()})
        store.insert_frame("llm/insert_llm_cache", cache.with_columns(text=pl.lit("second")), {"created_at": utcnow()})
        assert sql_rows(store, "SELECT cache_key, text FROM llm_cache") == [("k", "first")]
    finally:
        store.close()


def test_a_commit_that_loses_to_another_writer_runs_again_and_adds_no_duplicate(pg_lake):
    """Two stores (two DuckDB instances, as two processes would be) insert the same new ids: the second commit conflicts
    on the table's write guard, runs again on a snapshot that holds the first one's rows, and inserts none of them.
    PostgreSQL only: with a SQLite catalog an open write transaction holds the catalog file's lock, so the second
    writer waits (or fails with 'database is locked' and retries) before it could overlap; a DuckDB catalog file
    admits one process."""
    lake = pg_lake
    retries: list[str] = []
    first, second = Store(lake), Store(lake, on_wait=retries.append)
    try:
        frame = _answers([f"k{i}" for i in range(50)], "same")
        attempts = []
        with first.session() as winner:
            winner.begin()
            winner.execute("llm/insert_llm_cache", {"created_at": utcnow()}, incoming=frame)

            def loser(tx):
                attempts.append(tx.execute("llm/insert_llm_cache", {"created_at": utcnow()}, incoming=frame)[0][0])
                if len(attempts) == 1:
                    winner.commit()  # the other writer commits while this transaction is open: this commit must conflict

            second.write(loser, what="the loser")
        assert attempts == [50, 0]  # its first try inserted all 50 (uncommitted), the retry found them there
        assert len(retries) == 1 and "commit conflict" in retries[0] and "the loser" in retries[0]
        assert sql_rows(first, "SELECT count(*), count(DISTINCT cache_key) FROM llm_cache") == [(50, 50)]
    finally:
        first.close()
        second.close()


def test_store_config_picks_the_kind_and_rejects_mixed_settings(tmp_path):
    cfg = PipelineConfig.model_validate({"data_dir": str(tmp_path)})
    assert cfg.store_target() == tmp_path.resolve() / "rubricate.duckdb"  # the default: no setup at all
    lake = PipelineConfig.model_validate({"data_dir": str(tmp_path), "store": {"kind": "ducklake"}}).store_target()
    assert isinstance(lake, Lake) and lake.catalog_kind == "sqlite" and lake.data_path == str(tmp_path.resolve() / "lake")
    from rubricate.config import load_config

    bad = tmp_path / "bad.yaml"
    bad.write_text("store:\n  catalog: sqlite:x.sqlite\n")
    with pytest.raises(ConfigError, match="kind: ducklake"):
        load_config(bad)


def test_bad_lake_settings_name_the_cause_and_the_fix(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="data path .* cannot be created"):
        Store(Lake(f"sqlite:{tmp_path / 'c.sqlite'}", str(blocker / "data")))
    with pytest.raises(StoreError, match="object-store URL.*a folder every worker mounts"):
        Store(Lake(f"sqlite:{tmp_path / 'c.sqlite'}", "s3://bucket/lake"))
    from rubricate.processes import free_port

    nobody = f"postgres:host=127.0.0.1 port={free_port()} user=x dbname=y connect_timeout=5"
    with pytest.raises(StoreError, match="Is PostgreSQL running"):
        Store(Lake(nobody, str(tmp_path / "data")))
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "duckdb_extension_ducklake" else real(name, *a))
    with pytest.raises(StoreError, match=r"pip install duckdb-extension-ducklake==\d"):
        Store(Lake(f"sqlite:{tmp_path / 'c.sqlite'}", str(tmp_path / "data")))
