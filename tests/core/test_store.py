from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from rubricate.errors import StoreError
from rubricate.store import Store
from rubricate.store.sqlfiles import load_sql, migration_files


def test_migrations_apply_once(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    s = Store(path)
    assert s.migrate() == []  # already applied at open
    versions = [v for v, _ in migration_files()]
    rows = s.cursor().execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == versions
    s.close()
    # Reopening an existing file applies nothing and keeps data.
    s2 = Store(path)
    assert s2.migrate() == []
    s2.close()


def test_every_migration_is_idempotent(tmp_path: Path):
    s = Store(tmp_path / "s.duckdb")
    cur = s.cursor()
    for _, sql in migration_files():
        cur.execute(sql)  # running again must not fail
    s.close()


def test_unknown_query_names_the_file():
    with pytest.raises(StoreError, match="sql/queries/rubric/no_such_query.sql"):
        load_sql("rubric/no_such_query")


def test_insert_frame_and_frame_roundtrip(store: Store):
    frame = pl.DataFrame(
        {
            "source_name": ["s"],
            "source_path": ["a"],
            "source_line": [1],
            "reason": ["bad_value"],
            "detail": ["d"],
            "raw_excerpt": ["x"],
            "ingest_run_id": ["r"],
            "rejected_at": [datetime(2026, 1, 1)],
        }
    )
    store.insert_frame("ingest/insert_rejected_rows", frame)
    store.insert_frame("ingest/insert_rejected_rows", frame)  # idempotent on (source, path, line, reason)
    assert store.table_counts(["rejected_rows"]) == {"rejected_rows": 1}


def test_second_process_gets_a_clear_error(tmp_path: Path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    s = Store(path)
    code = (
        "import sys\n"
        "from rubricate.store import Store\n"
        "from rubricate.errors import StoreError\n"
        f"try:\n    Store({str(path)!r})\nexcept StoreError as e:\n    print('STOREERROR', e); sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    s.close()
    assert proc.returncode == 3, proc.stderr
    assert "another process" in proc.stdout.lower()


_OPEN_WAITING = """
import sys
from rubricate.store import Store
from rubricate.errors import StoreError
try:
    s = Store(sys.argv[1], lock_wait_s=float(sys.argv[2]), on_wait=lambda msg: print("WAIT", msg, flush=True))
except StoreError as e:
    print("STOREERROR", e, flush=True); sys.exit(3)
s.close()
print("OPENED", flush=True)
"""


def test_second_process_waits_for_the_store_and_says_who_holds_it(tmp_path: Path):
    """Issue 10 item 20: a second writer queues (bounded) instead of failing at once."""
    import os
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    s = Store(path)
    proc = subprocess.Popen([sys.executable, "-c", _OPEN_WAITING, str(path), "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # blocks until the child reports that it waits
        assert first.startswith("WAIT") and f"held by PID {os.getpid()}" in first, first + proc.stderr.read()
        assert "pytest" in first or "python" in first  # names the holder's command, not only its PID
    finally:
        s.close()  # the holder lets go: the waiting process gets the store
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip().endswith("OPENED")


def test_the_wait_is_bounded(tmp_path: Path):
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    s = Store(path)
    try:
        proc = subprocess.run([sys.executable, "-c", _OPEN_WAITING, str(path), "1"], capture_output=True, text=True, timeout=120)
    finally:
        s.close()
    assert proc.returncode == 3, proc.stderr
    assert "after waiting" in proc.stdout and "store.lock_wait_s" in proc.stdout and "held by PID" in proc.stdout
