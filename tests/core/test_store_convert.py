"""A store written by DuckDB 2.0 (the pin before the lake) is refused with the command that converts it, and that
command converts it in place: a real DuckDB 2.0 (installed with pip into a spare environment, as the command does)
writes a migrated store, and DuckDB 1.5.5 opens the conversion with every row and key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from rubricate.errors import StoreError
from rubricate.store import Store
from rubricate.store.convert import convert, main, spare_python
from rubricate.store.sqlfiles import migration_files

pytestmark = pytest.mark.slow

# Runs under DuckDB 2.0: every migration (plain SQL), as Store.migrate records them, and a few rows.
_WRITE_OLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE schema_migrations (version VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
for version, path in zip(sys.argv[2::2], sys.argv[3::2]):
    con.execute(open(path).read())
    con.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])
con.execute("INSERT INTO llm_cache (cache_key, backend, model, sampling, text, prompt_tokens, completion_tokens, cost_usd, created_at) "
            "SELECT 'k' || i, 'litellm', 'm', '{}', 'response ' || i, 1, 1, 0, now() FROM range(3) t(i)")
con.close()
"""


@pytest.fixture(scope="module")
def tools_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tools")


@pytest.fixture
def old_store(tmp_path: Path, tools_dir: Path) -> Path:
    path = tmp_path / "rubricate.duckdb"
    sql_dir = Path(__file__).resolve().parents[2] / "sql" / "migrations"
    args = [a for version, _ in migration_files() for a in (version, str(next(sql_dir.glob(f"{version}*.sql"))))]
    subprocess.run([str(spare_python(tools_dir)), "-c", _WRITE_OLD, str(path), *args], check=True)
    return path


def test_a_duckdb_2_store_is_refused_with_the_command_that_converts_it(old_store: Path):
    with pytest.raises(StoreError, match=f"python -m rubricate.store.convert {old_store}"):
        Store(old_store)


def test_the_conversion_keeps_every_row_and_key_and_the_original(old_store: Path, tools_dir: Path):
    counts = convert(old_store, tools_dir)
    assert counts["llm_cache"] == 3 and counts["schema_migrations"] == len(migration_files())
    with Store(old_store) as store:  # opens, and finds every migration applied
        assert store.migrate() == []
        assert store.table_counts(["llm_cache", "traces"]) == {"llm_cache": 3, "traces": 0}
        cur = store.cursor()
        with pytest.raises(duckdb.ConstraintException):  # the keys came along
            cur.execute("INSERT INTO llm_cache SELECT * FROM llm_cache LIMIT 1")
        cur.close()
    backup = old_store.with_name(old_store.name + ".duckdb2.bak")
    assert backup.is_file()
    with pytest.raises(StoreError, match="nothing to convert"):
        convert(old_store, tools_dir)


def test_the_command_refuses_a_missing_store_with_a_message(tmp_path: Path, capsys):
    assert main([str(tmp_path / "missing.duckdb")]) == 1
    assert "no store at" in capsys.readouterr().err
