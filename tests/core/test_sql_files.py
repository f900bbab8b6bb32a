"""sql/ at the top level: every query file is used, every name the code calls exists, and an installed wheel
(no checkout beside it) finds its SQL and runs its migrations; the same wheel carries the other package data
(the demo's templates) and no test code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rubricate.store.sqlfiles import load_sql, migration_files, query_names

REPO = Path(__file__).resolve().parents[2]
STAGES = sorted(p.name for p in (REPO / "sql" / "queries").iterdir() if p.is_dir())
# A query name in Python source: a string literal "<stage>/<name>" for one of the stage folders.
NAME = re.compile(r"""["'](?P<name>(?:%s)/[a-z0-9_]+)["']""" % "|".join(STAGES))


def python_sources() -> list[Path]:
    return [p for folder in ("src", "flows", "tasks", "bench", "tests") for p in (REPO / folder).rglob("*.py")]


def names_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in python_sources():
        for m in NAME.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(m["name"], []).append(str(path.relative_to(REPO)))
    return found


def test_the_sql_is_read_from_the_top_level_folder():
    assert (REPO / "sql" / "migrations").is_dir() and not (REPO / "src" / "rubricate" / "sql").exists()
    assert query_names(), "no query found under sql/queries/<stage>/"


def test_every_query_file_is_used_somewhere():
    used = names_in_code()
    unused = [n for n in query_names() if n not in used]
    assert not unused, f"query files no code calls (delete them, or call them): {unused}"


def test_every_name_the_code_calls_exists():
    known = set(query_names())
    missing = {n: where for n, where in names_in_code().items() if n not in known and "no_such_query" not in n}
    assert not missing, f"names called in code with no sql/queries/<stage>/<name>.sql: {missing}"
    for name in known:
        assert load_sql(name).strip(), f"{name}.sql is empty"


def test_migrations_are_numbered_and_unique():
    versions = [v for v, _ in migration_files()]
    prefixes = [v.split("_", 1)[0] for v in versions]
    assert all(p.isdigit() and len(p) == 3 for p in prefixes), versions
    assert len(set(prefixes)) == len(prefixes), f"two migrations share a number: {versions}"


@pytest.mark.slow
def test_a_wheel_runs_its_migrations_without_the_checkout(tmp_path: Path):
    # Build the wheel from a copy of the tree (a build writes build/ and *.egg-info beside the sources; offline:
    # the environment's setuptools, no isolation), unpack it, and import rubricate from there with the working
    # directory outside the repository.
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO / name, tree / name)
    for folder in ("src", "sql"):
        shutil.copytree(REPO / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(tree)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("rubricate-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(site)
    assert any(n.startswith("rubricate/sql/queries/") and n.endswith(".sql") for n in names), "the wheel carries no SQL"
    assert "rubricate/demo/templates.yaml" in names, "the wheel carries no demo templates"
    assert not any("stub_server" in n for n in names), "test code shipped in the wheel"
    script = (
        "import rubricate, sys\n"
        "from rubricate.store import Store\n"
        "from rubricate.store.sqlfiles import sql_root\n"
        "assert rubricate.__file__.startswith(sys.argv[1]), rubricate.__file__\n"
        "assert str(sql_root()).startswith(sys.argv[1]), sql_root()\n"
        "s = Store('installed.duckdb')\n"
        "print(s.scalar('verify/count_traces_without_gold'), s.table_counts(['traces', 'schema_migrations'])['schema_migrations'])\n"
        "from rubricate.demo import SampleOptions, generate\n"
        "print(len(list(generate(SampleOptions(n_problems=2)))))\n"
    )
    run = subprocess.run([sys.executable, "-c", script, str(site)], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", str(len(migration_files())), "6"]  # and the demo's templates load
