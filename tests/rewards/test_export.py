"""Reward exports: layouts, byte-identical re-export, manifest, zero-row error, MLflow dataset input."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rubricate.config import parse_config
from rubricate.rewards.compute import compute_rewards
from rubricate.rewards.config import ExportConfig, RewardsConfig
from rubricate.rewards.errors import ExportError
from rubricate.rewards.export import export_rewards, log_export
from rubricate.rewards.rule import RewardRule
from rubricate.store import Store


def folder_bytes(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_layouts(reward_store: Store, tmp_path: Path) -> None:
    set_id = compute_rewards(reward_store, RewardsConfig()).reward_set_id
    res = export_rewards(reward_store, set_id, tmp_path / "out", ExportConfig(system_prompt="Think step by step."))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json", "openrlhf.jsonl", "trl.jsonl", "trl.parquet", "verl.parquet"]
    assert res.rows == 4  # t5 and t6 are dropped (judge error, no answer)

    verl = pq.read_table(tmp_path / "out" / "verl.parquet").to_pylist()
    assert list(verl[0]) == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    by_id = {r["extra_info"]["trace_id"]: r for r in verl}
    t2 = by_id["t2"]
    assert t2["data_source"] == "ds-a" and t2["ability"] == "math"
    assert t2["prompt"] == [{"role": "system", "content": "Think step by step."}, {"role": "user", "content": "What is 1 + 1?"}]
    assert t2["reward_model"] == {"style": "rule", "ground_truth": "4"}
    assert (t2["extra_info"]["reward"], t2["extra_info"]["reward_source"]) == (1.0, "llm_verifier")
    assert by_id["t4"]["reward_model"] == {"style": "model", "ground_truth": None}  # no gold: the judge decided
    assert [r["extra_info"]["index"] for r in verl] == list(range(4))

    trl = [json.loads(line) for line in (tmp_path / "out" / "trl.jsonl").read_text().splitlines()]
    assert trl == pq.read_table(tmp_path / "out" / "trl.parquet").to_pylist()
    assert set(trl[0]) == {"prompt", "completion", "reward", "trace_id"}
    assert trl[0]["completion"][0]["role"] == "assistant"
    assert [r["trace_id"] for r in trl] == [r["extra_info"]["trace_id"] for r in verl]  # same order everywhere

    orl = [json.loads(line) for line in (tmp_path / "out" / "openrlhf.jsonl").read_text().splitlines()]
    assert list(orl[0]) == ["input", "output", "label", "reward", "trace_id"]
    assert {r["trace_id"]: (r["label"], r["reward"]) for r in orl}["t3"] == ("6", 0.0)


def test_reexport_is_byte_identical(reward_store: Store, tmp_path: Path) -> None:
    cfg = RewardsConfig(rule=RewardRule(unscorable="value", unscorable_value=-1.0))
    set_id = compute_rewards(reward_store, cfg).reward_set_id
    small_groups = ExportConfig(row_group_rows=2)
    export_rewards(reward_store, set_id, tmp_path / "a", small_groups)
    compute_rewards(reward_store, cfg)  # recomputed rows get a new computed_at: must not show in the files
    export_rewards(reward_store, set_id, tmp_path / "b", small_groups)
    a, b = folder_bytes(tmp_path / "a"), folder_bytes(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    assert pq.ParquetFile(tmp_path / "a" / "verl.parquet").metadata.num_row_groups == 3  # 6 rows in groups of 2
    # a different layout is a different file (the comparison above can fail)
    export_rewards(reward_store, set_id, tmp_path / "c", ExportConfig(row_group_rows=4))
    assert folder_bytes(tmp_path / "c")["verl.parquet"] != a["verl.parquet"]


def test_manifest_contents(reward_store: Store, tmp_path: Path) -> None:
    set_id = compute_rewards(reward_store, RewardsConfig()).reward_set_id
    res = export_rewards(reward_store, set_id, tmp_path / "out", ExportConfig(formats=["verl", "openrlhf"]))
    m = json.loads(res.manifest_path.read_text())
    assert m == res.manifest
    assert m["rows"] == 4
    assert m["source_datasets"] == {"ds-a": 3, "ds-b": 1}
    assert m["rubric_version"] == "rv1"
    assert m["reward_set"]["reward_set_id"] == set_id and m["reward_set"]["rule"]["unscorable"] == "drop"
    assert m["reward_distribution"]["value_counts"] == {"0.0": 2, "1.0": 2}
    assert m["reward_distribution"]["mean"] == 0.5
    assert m["by_source"] == {"judge": 1, "llm_verifier": 1, "rules": 2}
    assert m["selection"]["query"] == "rewards/export_rows" and "ORDER BY" in m["selection"]["sql"]
    assert m["selection"]["params"] == {"reward_set_id": set_id, "include_unscorable": True, "datasets": None}
    judged = [p for p in m["decided_by"] if p["source"] == "judge"]
    assert judged[0]["judge_model"] == "test-model" and judged[0]["judge_prompt_id"] == "prompt-1"
    assert [f["name"] for f in m["files"]] == ["verl.parquet", "openrlhf.jsonl"]
    for f in m["files"]:
        assert f["sha256"] == hashlib.sha256((tmp_path / "out" / f["name"]).read_bytes()).hexdigest()
    assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:", json.dumps(m))  # no timestamps: re-exports stay identical


def test_zero_rows_is_an_error_and_writes_nothing(reward_store: Store, tmp_path: Path) -> None:
    set_id = compute_rewards(reward_store, RewardsConfig()).reward_set_id
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="selects no rows.*No file was written"):
        export_rewards(reward_store, set_id, out, datasets=["no-such-dataset"])
    assert not out.exists()
    with pytest.raises(ExportError, match="no reward set 'missing'"):
        export_rewards(reward_store, "missing", out)
    assert not out.exists()


def test_filters(reward_store: Store, tmp_path: Path) -> None:
    set_id = compute_rewards(reward_store, RewardsConfig(rule=RewardRule(unscorable="value"))).reward_set_id
    every = export_rewards(reward_store, set_id, tmp_path / "all")
    scored = export_rewards(reward_store, set_id, tmp_path / "scored", ExportConfig(include_unscorable=False))
    only_b = export_rewards(reward_store, set_id, tmp_path / "b", datasets=["ds-b"])
    assert (every.rows, scored.rows, only_b.rows) == (6, 4, 3)
    assert every.manifest["by_status"] == {"scored": 4, "unscorable": 2}


def test_export_is_the_runs_dataset_input_in_mlflow(reward_store: Store, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from rubricate.tracking import track_run

    cfg = parse_config({"data_dir": str(tmp_path / "data")})
    set_id = compute_rewards(reward_store, RewardsConfig()).reward_set_id
    res = export_rewards(reward_store, set_id, tmp_path / "out")
    with track_run(cfg, "export_rewards") as tracker:
        log_export(tracker, res)
    run = MlflowClient(cfg.tracking_uri()).get_run(tracker.run_id)
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1
    ds = inputs[0].dataset
    assert ds.digest == res.manifest["digest"] and ds.name == f"rewards-{set_id}"
    assert json.loads(ds.profile)["rows"] == 4
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"
    assert run.data.metrics["export.rows"] == 4


def test_out_of_memory_names_the_setting_and_restores_the_limit(reward_store: Store, tmp_path: Path) -> None:
    set_id = compute_rewards(reward_store, RewardsConfig()).reward_set_id
    before = reward_store.scalar("store/memory_limit_get")
    with pytest.raises(ExportError, match="export.memory_limit=1KB"):
        export_rewards(reward_store, set_id, tmp_path / "out", ExportConfig(memory_limit="1KB"))
    assert not (tmp_path / "out").exists()
    assert reward_store.scalar("store/memory_limit_get") == before


AWKWARD_TEXTS = [
    'quotes " and \\ backslash, \\boxed{\\frac{1}{2}}',
    "newline\nreturn\rtab\tbell\x07 nul\x00 unit-sep\x1f del\x7f",
    "unicode: é ∑ 𝔽 😀 line-sep\u2028 para-sep\u2029 bom\ufeff",
    "html </script> & slash / <b>",
    "",
]


def test_jsonl_bytes_are_python_json_lines(store: Store, tmp_path: Path) -> None:
    """The native JSONL writer gives, line for line, what json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    gave before it (the earlier writer), over awkward texts, nulls, several chunks and both reward signs."""
    from tests.rewards.reward_rows import add_answer_verdict, add_traces

    rows = [
        {"trace_id": f"j{i}", "gold_answer": None if i == 3 else text, "problem": text, "response": AWKWARD_TEXTS[-1 - i] + " \\boxed{7}"}
        for i, text in enumerate(AWKWARD_TEXTS)
    ]
    add_traces(store, rows)
    for i, r in enumerate(rows):
        add_answer_verdict(store, r["trace_id"], "correct" if i % 2 else "incorrect")
    rule = RewardRule(correct_value=0.1 + 0.2, incorrect_value=-1 / 3, unscorable="value", unscorable_value=1e16)
    set_id = compute_rewards(store, RewardsConfig(rule=rule)).reward_set_id
    export_rewards(store, set_id, tmp_path / "out", ExportConfig(row_group_rows=2, system_prompt='Say "hi"\n'))
    for name in ("trl.jsonl", "openrlhf.jsonl"):
        data = (tmp_path / "out" / name).read_bytes()
        assert data.endswith(b"\n")
        lines = data[:-1].split(b"\n")  # not splitlines(): U+2028 inside a string is not a line break in JSONL
        assert len(lines) == len(rows)
        for line in lines:
            row = json.loads(line)
            assert line == json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert {json.loads(line)["reward"] for line in lines} == {0.1 + 0.2, -1 / 3, 1e16}  # 1e16: unscorable, written 1e+16
    orl = [json.loads(line) for line in (tmp_path / "out" / "openrlhf.jsonl").read_bytes()[:-1].split(b"\n")]
    assert sorted(r["input"] for r in orl) == sorted(AWKWARD_TEXTS)  # every character survives the round trip
    assert sum(r["label"] is None for r in orl) == 1


def test_jsonl_tiny_rewards_read_back_as_the_same_float(store: Store, tmp_path: Path) -> None:
    """The one documented byte difference from Python's json: a non-zero |reward| < 1e-4 is written 0.00005
    (Rust's notation) where Python wrote 5e-05; both parse to the same float."""
    from tests.rewards.reward_rows import add_answer_verdict, add_traces

    add_traces(store, [{"trace_id": "s1", "gold_answer": "2"}])
    add_answer_verdict(store, "s1", "correct")
    set_id = compute_rewards(store, RewardsConfig(rule=RewardRule(correct_value=5e-05))).reward_set_id
    export_rewards(store, set_id, tmp_path / "out", ExportConfig(formats=["openrlhf"]))
    line = (tmp_path / "out" / "openrlhf.jsonl").read_bytes()
    assert b'"reward":0.00005,' in line
    assert json.loads(line)["reward"] == 5e-05
