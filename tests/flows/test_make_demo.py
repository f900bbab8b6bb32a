"""The README's first command, as a user runs it: `make demo` into a data folder that does not exist yet.

(The pipeline test covers the flow itself; this one covers what only the Makefile does: the environment, the
data folders Prefect and MLflow expect, the ephemeral Prefect server starting from nothing.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_make_demo_runs_into_a_data_folder_that_does_not_exist_yet(tmp_path: Path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if not (REPO / ".venv" / ".installed").exists():
        pytest.skip("no installed .venv (run `make install`)")
    data = tmp_path / "fresh" / "data"  # neither folder exists, as in a fresh clone
    # The test process may carry a Prefect test harness's settings: the demo must find none of them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "RUBRICATE_"))}
    done = subprocess.run(
        ["make", "-s", "demo", f"DATA={data}"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| sample | units | 45 |" in done.stdout  # the summary table
    assert "make ui-mlflow" in done.stdout and "make ui-prefect" in done.stdout
    assert (data / "rubricate.duckdb").is_file() and (data / "mlflow.db").is_file()
    assert any((data / "prefect").iterdir())  # the flow run is in the Prefect database the UI will show
