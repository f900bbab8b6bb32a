"""Write a reward set as training data: verl Parquet, TRL Parquet/JSONL, OpenRLHF JSONL, plus a manifest.

Streaming and bounded memory: one ordered DuckDB scan (DuckDB's memory cap is lowered for the scan so
that its sort spills to disk instead of growing), read as Arrow batches, re-cut into fixed-size chunks,
each chunk written to every format's writer and then dropped.

Byte-identical re-exports: a fixed row order (dataset, source file, line, trace id), fixed row-group size
(so batch boundaries never depend on DuckDB's threads), fixed compression, explicit schemas, JSON lines with a
fixed key order (the Arrow schema's), and no timestamps anywhere in the files. The manifest is deterministic too: it holds no
wall time (the export's duration goes to MLflow metrics and to `ExportResult`), so the whole folder is
identical when the same selection is exported again with the same pyarrow version.

Files in the output folder:
- ``verl.parquet``: data_source, prompt (chat messages), ability, reward_model {style, ground_truth},
  extra_info {index, trace_id, problem_id, split, problem, response, reward, reward_source, ...}
- ``trl.parquet`` / ``trl.jsonl``: prompt, completion (chat messages), reward, trace_id
- ``openrlhf.jsonl``: input, output, label (the gold answer), reward, trace_id
- ``manifest.json``: row counts, reward distribution, rubric version, judges, source datasets, file
  hashes, and the query and parameters that selected the rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rubricate.rewards.config import ExportConfig
from rubricate.rewards.errors import ExportError
from rubricate.rewards.export.manifest import MANIFEST_FORMAT, ExportResult, ManifestFile, Stats, sha256_of
from rubricate.rewards.export.writer import Outputs, rechunk
from rubricate.store.db import OutOfMemory, Store
from rubricate.store.sqlfiles import load_sql

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

SELECT_QUERY = "rewards/export_rows"
ROW_COLUMNS = (
    "trace_id", "problem_id", "dataset", "split", "domain", "problem", "response", "gold_answer", "reward", "status", "source",
    "reason", "rubric_version", "judge_id", "judge_kind", "judge_model", "judge_prompt_id", "rule_verifier_id", "llm_verifier_id",
    "config_hash",
)


def rows_schema() -> "pa.Schema":
    """The selecting query's columns with fixed Arrow types, whatever Arrow flavour DuckDB hands out."""
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c == "reward" else pa.string()) for c in ROW_COLUMNS])



def _restorable(limit: str) -> str:
    """DuckDB shows its memory limit truncated to one decimal ('18.8 GiB' for 18.75..18.85); setting that text
    back lowers the limit a little each time. Half a display unit more restores the same displayed value."""
    parts = str(limit).split()
    try:
        return f"{float(parts[0]) + 0.05} {parts[1]}" if len(parts) == 2 else str(limit)
    except ValueError:
        return str(limit)


def export_rewards(
    store: Store,
    reward_set_id: str,
    out_dir: str | Path,
    cfg: ExportConfig | None = None,
    *,
    datasets: list[str] | None = None,
) -> ExportResult:
    """Write the reward set's rows in the configured formats plus `manifest.json` into `out_dir`."""
    import pyarrow as pa

    cfg = cfg or ExportConfig()
    t0 = time.perf_counter()
    found = store.records("rewards/reward_set_by_id", {"reward_set_id": reward_set_id})
    if not found:
        raise ExportError(
            f"no reward set '{reward_set_id}' in the store {store.path}; compute rewards first "
            "(the export_rewards flow does both) or pass an existing reward set id"
        )
    set_row = found[0]
    if not cfg.formats:
        raise ExportError("export.formats is empty; list at least one of verl, trl, openrlhf")
    params = {"reward_set_id": reward_set_id, "include_unscorable": cfg.include_unscorable, "datasets": sorted(datasets) if datasets else None}
    out = Path(out_dir)
    outputs: Outputs | None = None  # opened on the first row: an empty selection writes no file at all
    stats = Stats()
    written = 0
    with store.session() as db:  # one cursor: the memory limit holds for the scan, and is restored after
        previous_limit = db.scalar("store/memory_limit_get")
        ok = False
        try:
            db.execute("store/memory_limit_set", {"limit": cfg.memory_limit})
            reader = db.arrow_reader(SELECT_QUERY, params, cfg.row_group_rows)
            schema = rows_schema()
            for chunk in rechunk(iter(reader), cfg.row_group_rows):
                chunk = chunk.cast(schema)
                if outputs is None:
                    out.mkdir(parents=True, exist_ok=True)
                    outputs = Outputs(out, cfg)
                outputs.write(chunk, written)
                stats.add(chunk)
                written += chunk.num_rows
            ok = True
        except OutOfMemory as exc:
            raise ExportError(
                f"DuckDB ran out of memory under export.memory_limit={cfg.memory_limit}: {exc}. "
                "Raise export.memory_limit (the ordered scan spills to disk past it, but joins need some room)."
            ) from exc
        finally:
            if outputs is not None:
                outputs.close(success=ok)
            db.execute("store/memory_limit_set", {"limit": _restorable(previous_limit)})
    if outputs is None:
        raise ExportError(
            f"the export selects no rows: reward set '{reward_set_id}' has {set_row['n_scored']} scored, "
            f"{set_row['n_unscorable']} unscorable and {set_row['n_dropped']} dropped rows"
            + (f" (datasets filter: {params['datasets']})" if datasets else "")
            + (", and unscorable rows are excluded (export.include_unscorable: false)" if not cfg.include_unscorable else "")
            + ". No file was written. Run the verifier/judge on these traces, relax the rule's `unscorable: drop`, or widen the selection."
        )

    files: list[ManifestFile] = []
    for name, fmt in outputs.names:
        path = out / name
        files.append({"name": name, "format": fmt, "rows": written, "bytes": path.stat().st_size, "sha256": sha256_of(path)})
    provenance = stats.decided_by()
    rubric_versions = sorted({p["rubric_version"] for p in provenance if p["rubric_version"]})
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "rows": written,
        "digest": hashlib.sha256("".join(f["sha256"] for f in files).encode()).hexdigest()[:16],
        "reward_set": {
            "reward_set_id": reward_set_id,
            "config_hash": set_row["config_hash"],
            "rule": json.loads(set_row["rule"]),
            "judge_id": set_row["judge_id"],
            "judge_kind": set_row["judge_kind"],
            "rubric_version": set_row["rubric_version"],
        },
        "rubric_version": rubric_versions[0] if len(rubric_versions) == 1 else (rubric_versions or None),
        "source_datasets": dict(sorted(stats.by["dataset"].items())),
        "reward_distribution": stats.summary(),
        "by_source": dict(sorted(stats.by["source"].items())),
        "by_status": dict(sorted(stats.by["status"].items())),
        "by_reason": dict(sorted(stats.by["reason"].items())),
        "decided_by": provenance,
        "selection": {"query": SELECT_QUERY, "sql": load_sql(SELECT_QUERY), "params": params},
        "files": files,
        "layout": {
            "row_group_rows": cfg.row_group_rows,
            "compression": cfg.compression,
            "compression_level": cfg.compression_level,
            "system_prompt": cfg.system_prompt,
            "ability": cfg.ability,
            "pyarrow": pa.__version__,
        },
        "wall_time": "not recorded here (it would change the bytes); see the MLflow run's export.seconds",
    }
    manifest_path = out / "manifest.json"
    tmp = out / ".manifest.json.partial"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    result = ExportResult(out, manifest_path, manifest, written, round(time.perf_counter() - t0, 3))
    log.info("export %s: %d rows to %s in %.2fs", reward_set_id, written, out, result.seconds)
    return result
