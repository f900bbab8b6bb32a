"""The main flow on a lake, nothing else changed: `store: {kind: ducklake}` with its defaults (a SQLite catalog file
and a Parquet folder under the data folder, no PostgreSQL). Ingest, verify and the report run as on the DuckDB file,
and a second run adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import sql_rows


@pytest.mark.slow
def test_the_pipeline_flow_runs_on_a_lake_and_reruns_to_nothing(prefect_harness, tmp_path: Path):
    from flows.pipeline import pipeline
    from rubricate.config import load_config
    from rubricate.store import close_all, open_store
    from rubricate.store.lake import Lake

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "What is 2+3?", "r": "2+3=5. The answer is 5.", "a": "5"}\n{not json\n{"q": "What is 2+2?", "r": "", "a": "4"}\n')
    config = tmp_path / "lake.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "store": {"kind": "ducklake"},
        "sources": [
            {"name": "sample", "reader": "sample", "options": {"n_problems": 8, "seed": 1}},
            {"name": "mine", "reader": "jsonl", "path": str(bad), "fields": {"problem": "q", "response": "r", "gold_answer": "a"}},
        ],
        "verify": {"workers": 1, "timeout_s": 5},
    }))
    cfg = load_config(config)
    target = cfg.store_target()
    assert isinstance(target, Lake) and target.catalog == f"sqlite:{tmp_path / 'data' / 'lake.sqlite'}"

    first = pipeline(config_path=str(config))
    sample, mine = first["reports"]["ingest sample"], first["reports"]["ingest mine"]
    assert sample["n_accepted"] > 0 and (mine["n_in"], mine["n_accepted"], mine["n_rejected"]) == (3, 1, 2)
    assert first["reports"]["verify"]["n_verified"] == sample["n_accepted"] + 1

    second = pipeline(config_path=str(config))
    assert second["reports"]["ingest sample"]["n_accepted"] == 0 and second["reports"]["verify"]["n_verified"] == 0
    store = open_store(target)
    assert store.table_counts(["traces", "answer_verdicts"]) == {"traces": sample["n_accepted"] + 1, "answer_verdicts": sample["n_accepted"] + 1}
    assert sorted(r[0] for r in sql_rows(store, "SELECT reason FROM rejected_rows")) == ["empty_response", "malformed_json"]
    assert (tmp_path / "data" / "lake.sqlite").is_file() and not (tmp_path / "data" / "rubricate.duckdb").exists()
    close_all()
