"""Convert a store written by DuckDB 2.0 (rubricate before the DuckLake store) to the 1.5 storage format, in place.

    python -m rubricate.store.convert data/rubricate.duckdb [more.duckdb ...]

rubricate pins DuckDB 1.5.5 (the lake's extensions exist for it only), which cannot open a 2.0 file. DuckDB 2.0
can write the older format, so the conversion runs DuckDB 2.0 in a spare environment of its own (made once under
`<data dir>/tools/duckdb-2.0.0` with pip; only the package registry is needed): it copies every table, with its
keys, into a new file of storage version v1.5.0. The copy is checked (the same tables, the same row counts, read
back by this DuckDB) before it takes the store's place; the original is kept beside it as `<name>.duckdb2.bak`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import duckdb

from rubricate.errors import StoreError

OLD_DUCKDB = "duckdb==2.0.0"

# Runs in the spare environment: copy OLD into NEW (storage v1.5.0); print each table's row count in OLD.
_COPY = """
import json, sys, duckdb
old, new = sys.argv[1], sys.argv[2]
con = duckdb.connect()
quoted = lambda path: "'" + path.replace("'", "''") + "'"  # ATTACH takes no bound parameters
con.execute(f"ATTACH {quoted(old)} AS old (READ_ONLY)")
con.execute(f"ATTACH {quoted(new)} AS new (STORAGE_VERSION 'v1.5.0')")
con.execute("COPY FROM DATABASE old TO new")
tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'old'").fetchall()]
print(json.dumps({t: con.execute(f'SELECT count(*) FROM old."{t}"').fetchall()[0][0] for t in tables}))
"""


def written_by_newer_duckdb(exc: BaseException) -> bool:
    """DuckDB's error for a file whose storage version is newer than this DuckDB reads."""
    return isinstance(exc, duckdb.IOException) and "newer version" in str(exc)


def needs_conversion(path: Path) -> bool:
    """True when this DuckDB cannot open the file because a newer DuckDB wrote it; StoreError when it cannot open it
    for another reason (another process holding it, say), which a conversion would not fix."""
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException as exc:
        if written_by_newer_duckdb(exc):
            return True
        raise StoreError(f"cannot open {path} to see whether it needs converting: {exc}") from exc
    return False


def spare_python(tools_dir: Path) -> Path:
    """The python of a venv that has DuckDB 2.0 (made on first use)."""
    env = tools_dir / OLD_DUCKDB.replace("==", "-")
    python = env / "bin" / "python"
    if not (env / ".installed").is_file():
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", OLD_DUCKDB], capture_output=True, text=True)
        if done.returncode != 0:
            raise StoreError(f"could not install {OLD_DUCKDB} into {env} to convert the store: {done.stderr.strip()[-500:]}. "
                             "This needs the package registry (pip); or run the conversion's SQL by hand (README, "
                             "'DuckDB 1.5.5 instead of 2.0')")
        (env / ".installed").touch()
    return python


def convert(path: Path, tools_dir: Path) -> dict[str, int]:
    """Convert one store in place; its tables' row counts. Refuses a file that needs no conversion."""
    path = path.resolve()
    if not path.is_file():
        raise StoreError(f"no store at {path}")
    if not needs_conversion(path):
        raise StoreError(f"{path} opens with this DuckDB ({duckdb.__version__}): nothing to convert")
    backup = path.with_name(path.name + ".duckdb2.bak")
    if backup.exists():
        raise StoreError(f"{backup} exists already: move it away first (it may be the backup of an earlier conversion)")
    new = path.with_name(f".{path.name}.converting")
    for leftover in (new, Path(f"{new}.wal")):
        leftover.unlink(missing_ok=True)  # an earlier conversion that was killed
    done = subprocess.run([str(spare_python(tools_dir)), "-c", _COPY, str(path), str(new)], capture_output=True, text=True)
    if done.returncode != 0:
        new.unlink(missing_ok=True)
        raise StoreError(f"converting {path} failed, the store is unchanged: {done.stderr.strip()[-800:]}")
    counts: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    con = duckdb.connect(str(new), read_only=True)
    try:
        copied = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in counts}
    finally:
        con.close()
    if copied != counts:
        new.unlink(missing_ok=True)
        raise StoreError(f"the converted copy of {path} differs from it ({copied} against {counts}); the store is unchanged")
    os.replace(path, backup)
    wal = Path(f"{path}.wal")
    if wal.exists():  # the old file's log goes with it: left here, DuckDB would replay it into the new file
        os.replace(wal, Path(f"{backup}.wal"))
    os.replace(new, path)
    return counts


def main(argv: list[str] | None = None) -> int:
    from rubricate.llm.local_models import default_data_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stores", nargs="+", type=Path, help="DuckDB files written by DuckDB 2.0")
    args = parser.parse_args(argv)
    for store in args.stores:
        try:
            counts = convert(store, default_data_dir() / "tools")
        except StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{store}: converted ({len(counts)} tables, {sum(counts.values()):,} rows); the original is {store}.duckdb2.bak")
    return 0


if __name__ == "__main__":
    sys.exit(main())
