"""Issue 13, item 4: two worker processes write one lake (catalog in a real PostgreSQL, data in a shared folder) at the
same time. Nothing is lost, nothing is duplicated, both finish.

1. Ingest + verify in one process, judge verdicts in the other (what two machines of one pipeline do). The overlap
   is built in, not left to timing: the ingest worker stops after its first source until the judge worker has
   written a batch, and the judge worker keeps judging what the ingest worker adds until that one says it is done.
2. Two processes ingest and verify the same sources at once: the same content-hash ids reach the same tables
   together, which is where a lake without keys could duplicate; the write guards make one commit retry instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rubricate.config import SourceConfig, VerifyConfig
from rubricate.ingest import ingest_source
from rubricate.store.db import Store
from rubricate.store.lake import Lake
from rubricate.verify.stage import verify_traces
from tests.helpers import sql_rows

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOURCES = [{"name": f"part{i}", "reader": "sample", "options": {"n_problems": 12, "seed": i}} for i in range(4)]

WORKER = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path
    import polars as pl
    from rubricate.config import SourceConfig, VerifyConfig
    from rubricate.ingest import ingest_source
    from rubricate.store.db import Store, utcnow
    from rubricate.store.lake import Lake
    from rubricate.verify.stage import verify_traces

    role, catalog, data_path, folder, sources = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), json.loads(sys.argv[5])
    retries = []
    store = Store(Lake(catalog, data_path), on_wait=retries.append)
    (folder / f"{role}.ready").touch()
    while not (folder / "start").exists():
        time.sleep(0.05)

    def wait_for(name):
        deadline = time.monotonic() + 120
        while not (folder / name).exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{role}: gave up waiting for {name}")
            time.sleep(0.05)

    batches = 0
    if role.startswith("ingest"):
        for i, source in enumerate(sources):
            ingest_source(store, SourceConfig.model_validate(source))
            verify_traces(store, VerifyConfig(workers=1, chunk_size=64))
            if i == 0 and role == "ingest":
                wait_for("judge.wrote")  # the judge worker writes while this one still has sources to go
        (folder / f"{role}.done").touch()
    else:  # judge: a verdict for every trace without one, 16 at a time, until the ingest worker is done and all have one
        while True:
            finished = (folder / "ingest.done").exists()
            cur = store.cursor()
            todo = [r[0] for r in cur.execute(
                "SELECT trace_id FROM traces t WHERE NOT EXISTS "
                "(SELECT 1 FROM judge_verdicts v WHERE v.trace_id = t.trace_id AND v.judge_id = 'j') ORDER BY trace_id LIMIT 16"
            ).fetchall()]
            cur.close()
            if not todo:
                if finished:
                    break
                time.sleep(0.05)
                continue
            frame = pl.DataFrame([{
                "trace_id": t, "judge_id": "j", "judge_kind": "plain", "rubric_version": None, "model": "m", "prompt_id": "p",
                "verdict": "correct", "first_error_step": None, "items": None, "selected": None, "explanation": "two writers",
                "score": None, "error": None, "error_stage": None, "attempts": 1, "prompt_tokens": 1, "completion_tokens": 1,
                "cost_usd": 0.0} for t in todo],
                schema_overrides={"rubric_version": pl.String, "first_error_step": pl.Int32, "items": pl.String, "selected": pl.String,
                                  "score": pl.Float64, "error": pl.String, "error_stage": pl.String})
            store.insert_frame("judge/upsert_judge_verdicts", frame, {"created_at": utcnow()})
            batches += 1
            (folder / "judge.wrote").touch()
    store.close()
    print(json.dumps({"role": role, "batches": batches, "retries": len(retries)}))
''')


def _expected_traces(tmp_path: Path) -> int:
    """How many distinct traces the sources hold: the same ingest into a DuckDB file."""
    with Store(tmp_path / "reference.duckdb") as ref:
        for source in SOURCES:
            ingest_source(ref, SourceConfig.model_validate(source))
        verify_traces(ref, VerifyConfig(workers=1))
        n = int(sql_rows(ref, "SELECT count(*) FROM traces")[0][0])
        assert int(sql_rows(ref, "SELECT count(*) FROM answer_verdicts")[0][0]) == n
    return n


def _run_workers(roles: list[str], lake: Lake, folder: Path) -> dict[str, dict]:
    folder.mkdir()
    # The worktree's own code, whatever rubricate an editable install elsewhere would give the subprocess.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs = {role: subprocess.Popen([sys.executable, "-c", WORKER, role, lake.catalog, lake.data_path, str(folder), json.dumps(SOURCES)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
             for role in roles}
    try:
        deadline = time.monotonic() + 120
        while not all((folder / f"{role}.ready").exists() for role in roles):  # both have attached the lake and migrated
            for role, proc in procs.items():
                assert proc.poll() is None, f"{role} exited early:\n{proc.communicate()[1][-3000:]}"
            assert time.monotonic() < deadline, "the workers did not open the lake within 120 s"
            time.sleep(0.1)
        (folder / "start").touch()
        results = {}
        for role, proc in procs.items():
            out, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, f"{role} failed ({proc.returncode}):\n{err[-4000:]}"
            results[role] = json.loads(out.strip().splitlines()[-1])
        return results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _assert_complete(lake: Lake, expected: int) -> None:
    with Store(lake) as store:
        assert sql_rows(store, "SELECT count(*), count(DISTINCT trace_id) FROM traces") == [(expected, expected)]
        assert sql_rows(store, "SELECT count(*), count(DISTINCT (trace_id, verifier_id)) FROM answer_verdicts") == [(expected, expected)]
        assert sql_rows(store, "SELECT count(*) FROM traces t WHERE NOT EXISTS (SELECT 1 FROM answer_verdicts v WHERE v.trace_id = t.trace_id)") == [(0,)]
        assert sql_rows(store, "SELECT count(*) FROM ingest_runs") != [(0,)]


def test_ingest_and_judge_workers_write_one_lake_at_once(pg_lake, tmp_path):
    expected = _expected_traces(tmp_path)
    results = _run_workers(["ingest", "judge"], pg_lake, tmp_path / "run")
    assert results["judge"]["batches"] >= 2
    _assert_complete(pg_lake, expected)
    with Store(pg_lake) as store:
        assert sql_rows(store, "SELECT count(*), count(DISTINCT trace_id) FROM judge_verdicts WHERE judge_id = 'j'") == [(expected, expected)]
        assert sql_rows(store, "SELECT count(*) FROM ingest_runs") == [(len(SOURCES),)]


def test_two_workers_ingesting_the_same_sources_at_once_store_each_trace_once(pg_lake, tmp_path):
    expected = _expected_traces(tmp_path)
    _run_workers(["ingest-a", "ingest-b"], pg_lake, tmp_path / "run")
    _assert_complete(pg_lake, expected)
    with Store(pg_lake) as store:
        assert sql_rows(store, "SELECT count(*) FROM ingest_runs") == [(2 * len(SOURCES),)]  # each worker's runs are recorded
