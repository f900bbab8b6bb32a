"""`make demo-llm` as a user runs it: every LLM stage on the demo sample, with real inference.

The demo's own model (Qwen 1.5B) needs `make fetch-llm` and minutes; here the same flow runs with SmolLM2-135M
(shipped by a package, nothing to fetch), whose answers are nonsense: the test checks that every stage ran and
reported, not what the model decided. Without the weights the demo stops at once, naming the fetch command.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO


def demo_env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "RUBRICATE_"))}
    (data / "prefect").mkdir(parents=True, exist_ok=True)
    return env | {"PREFECT_HOME": str(data / "prefect"), "RUBRICATE_DATA_DIR": str(data), "PYTHONPATH": str(REPO),
                  "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}


def test_demo_llm_without_weights_names_the_fetch_command(tmp_path: Path):
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "flows.demo_llm", "--config", "configs/demo-llm.yaml"], cwd=REPO,
                          env=demo_env(data), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "make fetch-llm" in done.stderr
    assert not (data / "rubricate.duckdb").exists()  # stopped before any stage ran


@pytest.mark.slow
def test_demo_llm_runs_every_llm_stage_with_a_real_model(tmp_path: Path):
    cfg = yaml.safe_load((REPO / "configs" / "demo-llm.yaml").read_text())
    cfg["sources"][0]["options"]["n_problems"] = 4  # 12 traces
    cfg["llm"] |= {"model": "smollm2-135m", "max_tokens": 64, "timeout_s": 300}
    cfg["llm"]["local"] |= {"threads": 1, "ctx_size": 2048}
    path = tmp_path / "demo-llm-smol.yaml"
    path.write_text(yaml.safe_dump(cfg))
    data = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "flows.demo_llm", "--config", str(path), "--n-judged", "2"], cwd=REPO,
                          env=demo_env(data), capture_output=True, text=True, timeout=1200)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    asked = re.search(r"LLM verifier \(\S+\): asked about (\d+) rejections", out)
    assert asked and int(asked.group(1)) > 0, out  # the rules reject some sample answers; the LLM saw each
    assert "## 2. The rubric" in out and ("items, mined from" in out or "no rubric, so no rubric judge" in out)
    assert "## 3. Judges on 2 held-out traces" in out
    assert re.search(r"^plain judge: \d+ tokens in \d+ requests", out, re.M)  # real inference reports tokens
    for stage in ("ingest, rules, LLM verify", "rubric: describe, cluster, name", "plain judge"):
        assert re.search(rf"^  {re.escape(stage)}\s+\d+\.\ds$", out, re.M), stage
