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
import math
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

from rubricate.rewards.config import ExportConfig
from rubricate.rewards.errors import ExportError
from rubricate.store.db import OutOfMemory, Store
from rubricate.store.sqlfiles import load_sql

if TYPE_CHECKING:
    import pyarrow as pa

    from rubricate.tracking import RunTracker

log = logging.getLogger(__name__)

MANIFEST_FORMAT = "rubricate-reward-export/1"
SELECT_QUERY = "rewards/export_rows"
MAX_VALUE_COUNTS = 100  # reward values listed one by one in the manifest; past that only moments are kept
# Parquet columns with few distinct values (dictionary-encoded); every other column is plain-encoded.
DICTIONARY_COLUMNS = [
    "data_source", "ability", "reward_model.style",
    "prompt.list.element.role", "completion.list.element.role",
    *(f"extra_info.{c}" for c in ("split", "reward_source", "reward_status", "reward_reason", "rubric_version", "judge_id", "reward_config_hash")),
]
PROVENANCE_COLUMNS = ("source", "judge_id", "judge_kind", "judge_model", "judge_prompt_id", "rubric_version", "rule_verifier_id", "llm_verifier_id")


@dataclass
class ExportResult:
    out_dir: Path
    manifest_path: Path
    manifest: dict[str, Any]
    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    @property
    def files(self) -> list[Path]:
        return [self.out_dir / f["name"] for f in self.manifest["files"]]


# -- schemas --------------------------------------------------------------------------------------
def _message_type() -> "pa.DataType":
    import pyarrow as pa

    return pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def verl_schema() -> "pa.Schema":
    import pyarrow as pa

    extra = pa.struct(
        [
            ("index", pa.int64()),
            ("trace_id", pa.string()),
            ("problem_id", pa.string()),
            ("split", pa.string()),
            ("problem", pa.string()),
            ("response", pa.string()),
            ("reward", pa.float64()),
            ("reward_source", pa.string()),
            ("reward_status", pa.string()),
            ("reward_reason", pa.string()),
            ("rubric_version", pa.string()),
            ("judge_id", pa.string()),
            ("reward_config_hash", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", _message_type()),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            ("extra_info", extra),
        ]
    )


def trl_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema([("prompt", _message_type()), ("completion", _message_type()), ("reward", pa.float64()), ("trace_id", pa.string())])


ROW_COLUMNS = (
    "trace_id", "problem_id", "dataset", "split", "domain", "problem", "response", "gold_answer", "reward", "status", "source",
    "reason", "rubric_version", "judge_id", "judge_kind", "judge_model", "judge_prompt_id", "rule_verifier_id", "llm_verifier_id",
    "config_hash",
)


def rows_schema() -> "pa.Schema":
    """The selecting query's columns with fixed Arrow types, whatever Arrow flavour DuckDB hands out."""
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c == "reward" else pa.string()) for c in ROW_COLUMNS])


# -- building one chunk in each layout ------------------------------------------------------------
def _messages(role: str, texts: "pa.Array", system_prompt: str | None) -> "pa.Array":
    """A list<struct<role, content>> column: [system?, {role, texts[i]}] per row, built without Python loops."""
    import pyarrow as pa

    n = len(texts)
    if system_prompt is None:
        roles = pa.array([role] * n, pa.string())
        structs = pa.StructArray.from_arrays([roles, texts.cast(pa.string())], names=["role", "content"])
        offsets = pa.array(range(0, n + 1), pa.int32())
    else:
        # interleave system and user messages: positions 2i (system) and 2i+1 (the row's text)
        import pyarrow.compute as pc

        roles = pa.array(["system", role] * n, pa.string())
        idx = pa.array([i for k in range(n) for i in (n, k)], pa.int64())  # index n = the system prompt
        contents = pc.take(pa.concat_arrays([texts.cast(pa.string()), pa.array([system_prompt], pa.string())]), idx)
        structs = pa.StructArray.from_arrays([roles, contents], names=["role", "content"])
        offsets = pa.array(range(0, 2 * n + 1, 2), pa.int32())
    return pa.ListArray.from_arrays(offsets, structs, type=_message_type())


def _verl_table(chunk: "pa.Table", start_index: int, cfg: ExportConfig) -> "pa.Table":
    import pyarrow as pa
    import pyarrow.compute as pc

    n = chunk.num_rows
    gold = chunk["gold_answer"].combine_chunks()
    has_gold = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(gold), ""), False)
    style = pc.if_else(has_gold, pa.scalar("rule"), pa.scalar("model"))
    reward_model = pa.StructArray.from_arrays([style, gold], names=["style", "ground_truth"])
    if cfg.ability is not None:
        ability = pa.array([cfg.ability] * n, pa.string())
    else:
        ability = pc.fill_null(chunk["domain"].combine_chunks(), "math")
    col = lambda name: chunk[name].combine_chunks()  # noqa: E731
    extra = pa.StructArray.from_arrays(
        [
            pa.array(range(start_index, start_index + n), pa.int64()),
            col("trace_id"),
            col("problem_id"),
            col("split"),
            col("problem"),
            col("response"),
            col("reward"),
            col("source"),
            col("status"),
            col("reason"),
            col("rubric_version"),
            col("judge_id"),
            col("config_hash"),
        ],
        fields=list(verl_schema().field("extra_info").type),
    )
    arrays = [col("dataset"), _messages("user", col("problem"), cfg.system_prompt), ability, reward_model, extra]
    return pa.Table.from_arrays(arrays, schema=verl_schema())


def _trl_table(chunk: "pa.Table", cfg: ExportConfig) -> "pa.Table":
    import pyarrow as pa

    col = lambda name: chunk[name].combine_chunks()  # noqa: E731
    arrays = [
        _messages("user", col("problem"), cfg.system_prompt),
        _messages("assistant", col("response"), None),
        col("reward"),
        col("trace_id"),
    ]
    return pa.Table.from_arrays(arrays, schema=trl_schema())


OPENRLHF_COLUMNS = {"problem": "input", "response": "output", "gold_answer": "label", "reward": "reward", "trace_id": "trace_id"}


def _openrlhf_table(chunk: "pa.Table") -> "pa.Table":
    return chunk.select(list(OPENRLHF_COLUMNS)).rename_columns(list(OPENRLHF_COLUMNS.values()))


def _write_jsonl(table: "pa.Table", f: BinaryIO) -> None:
    """One JSON object per row, keys in column order, written by Polars' native NDJSON writer (no Python loop).

    Byte for byte what ``json.dumps(row, ensure_ascii=False, separators=(",", ":"))`` per line gives (same
    escapes: quotes, backslashes, control characters as \\n/\\t/\\u00XX; non-ASCII kept as UTF-8), with two
    differences in numbers only: a non-zero float below 1e-4 in magnitude is written in Rust's notation
    (0.00005, 2.5e-7) where Python writes 5e-05 and 2.5e-07 (the same float either way), and NaN/inf become
    null (Python wrote NaN/Infinity, which is not JSON). tests/rewards/test_export.py pins the identity.
    """
    import polars as pl

    pl.from_arrow(table, rechunk=False).write_ndjson(f)


# -- writers --------------------------------------------------------------------------------------
class _Outputs:
    """Every output file of one export, written to temporary names and renamed only on success."""

    def __init__(self, out_dir: Path, cfg: ExportConfig) -> None:
        import pyarrow.parquet as pq

        self.out_dir = out_dir
        self.cfg = cfg
        self.parquet: dict[str, Any] = {}
        self.jsonl: dict[str, Any] = {}
        self.names: list[tuple[str, str]] = []  # (file name, format) in manifest order
        compression = None if cfg.compression == "none" else cfg.compression
        level = cfg.compression_level if compression in ("zstd", "gzip") else None

        def parquet(name: str, fmt: str, schema: "pa.Schema") -> None:
            self.parquet[name] = pq.ParquetWriter(
                self._tmp(name),
                schema,
                compression=compression,
                compression_level=level,
                use_dictionary=DICTIONARY_COLUMNS,  # texts and ids are unique per row: a dictionary only costs time
                write_statistics=True,
            )
            self.names.append((name, fmt))

        def jsonl(name: str, fmt: str) -> None:
            self.jsonl[name] = open(self._tmp(name), "wb")  # noqa: SIM115 - closed in close()
            self.names.append((name, fmt))

        if "verl" in cfg.formats:
            parquet("verl.parquet", "verl", verl_schema())
        if "trl" in cfg.formats:
            if "parquet" in cfg.trl_files:
                parquet("trl.parquet", "trl", trl_schema())
            if "jsonl" in cfg.trl_files:
                jsonl("trl.jsonl", "trl")
        if "openrlhf" in cfg.formats:
            jsonl("openrlhf.jsonl", "openrlhf")

    def _tmp(self, name: str) -> Path:
        return self.out_dir / f".{name}.partial"

    def write(self, chunk: "pa.Table", start_index: int) -> None:
        rows = chunk.num_rows
        if "verl.parquet" in self.parquet:
            self.parquet["verl.parquet"].write_table(_verl_table(chunk, start_index, self.cfg), row_group_size=rows)
        trl = _trl_table(chunk, self.cfg) if "trl.parquet" in self.parquet or "trl.jsonl" in self.jsonl else None
        if "trl.parquet" in self.parquet:
            self.parquet["trl.parquet"].write_table(trl, row_group_size=rows)
        if "trl.jsonl" in self.jsonl:
            _write_jsonl(trl, self.jsonl["trl.jsonl"])
        if "openrlhf.jsonl" in self.jsonl:
            _write_jsonl(_openrlhf_table(chunk), self.jsonl["openrlhf.jsonl"])

    def close(self, success: bool) -> None:
        for w in self.parquet.values():
            w.close()
        for f in self.jsonl.values():
            f.close()
        for name, _ in self.names:
            tmp = self._tmp(name)
            if success:
                os.replace(tmp, self.out_dir / name)
            else:
                tmp.unlink(missing_ok=True)


# -- statistics -----------------------------------------------------------------------------------
class _Stats:
    """Reward distribution and counts, accumulated chunk by chunk in a fixed order (deterministic floats)."""

    def __init__(self) -> None:
        self.n = 0
        self.sum = 0.0
        self.sumsq = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.values: Counter[float] = Counter()
        self.by: dict[str, Counter[Any]] = {"dataset": Counter(), "source": Counter(), "status": Counter(), "reason": Counter()}
        self.provenance: Counter[tuple] = Counter()

    def add(self, chunk: "pa.Table") -> None:
        import pyarrow.compute as pc

        rewards = chunk["reward"]
        self.n += chunk.num_rows
        self.sum += pc.sum(rewards).as_py() or 0.0
        self.sumsq += pc.sum(pc.multiply(rewards, rewards)).as_py() or 0.0
        mm = pc.min_max(rewards).as_py()
        self.min, self.max = min(self.min, mm["min"]), max(self.max, mm["max"])
        if len(self.values) <= MAX_VALUE_COUNTS:
            for vc in pc.value_counts(pc.round(rewards, 6)).to_pylist():
                self.values[vc["values"]] += vc["counts"]
        for key in self.by:
            for vc in pc.value_counts(chunk[key]).to_pylist():
                self.by[key][vc["values"]] += vc["counts"]
        groups = chunk.select(list(PROVENANCE_COLUMNS)).group_by(list(PROVENANCE_COLUMNS), use_threads=False).aggregate([([], "count_all")])
        for row in groups.to_pylist():
            self.provenance[tuple(row[c] for c in PROVENANCE_COLUMNS)] += row["count_all"]

    def summary(self) -> dict[str, Any]:
        mean = self.sum / self.n
        var = max(self.sumsq / self.n - mean * mean, 0.0)
        dist: dict[str, Any] = {
            "count": self.n,
            "mean": round(mean, 9),
            "std": round(math.sqrt(var), 9),
            "min": self.min,
            "max": self.max,
        }
        if len(self.values) <= MAX_VALUE_COUNTS:
            dist["value_counts"] = {repr(v): c for v, c in sorted(self.values.items())}
        else:
            dist["value_counts"] = None
            dist["note"] = f"more than {MAX_VALUE_COUNTS} distinct reward values; value_counts left out"
        return dist

    def decided_by(self) -> list[dict[str, Any]]:
        def order(key: tuple) -> tuple:
            return tuple((v is None, v or "") for v in key)

        return [{**dict(zip(PROVENANCE_COLUMNS, k)), "rows": n} for k, n in sorted(self.provenance.items(), key=lambda kv: order(kv[0]))]


# -- the export -----------------------------------------------------------------------------------
def _rechunk(batches: Iterator["pa.RecordBatch"], rows: int) -> Iterator["pa.Table"]:
    """Exactly `rows` rows per chunk (the last may be shorter), whatever batch sizes DuckDB produces."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows).combine_chunks()
            rest = table.slice(rows)
            pending = rest.to_batches()
            count = rest.num_rows
    if count:
        yield pa.Table.from_batches(pending).combine_chunks()


def _restorable(limit: str) -> str:
    """DuckDB shows its memory limit truncated to one decimal ('18.8 GiB' for 18.75..18.85); setting that text
    back lowers the limit a little each time. Half a display unit more restores the same displayed value."""
    parts = str(limit).split()
    try:
        return f"{float(parts[0]) + 0.05} {parts[1]}" if len(parts) == 2 else str(limit)
    except ValueError:
        return str(limit)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    outputs: _Outputs | None = None  # opened on the first row: an empty selection writes no file at all
    stats = _Stats()
    written = 0
    with store.session() as db:  # one cursor: the memory limit holds for the scan, and is restored after
        previous_limit = db.scalar("store/memory_limit_get")
        ok = False
        try:
            db.execute("store/memory_limit_set", {"limit": cfg.memory_limit})
            reader = db.arrow_reader(SELECT_QUERY, params, cfg.row_group_rows)
            schema = rows_schema()
            for chunk in _rechunk(iter(reader), cfg.row_group_rows):
                chunk = chunk.cast(schema)
                if outputs is None:
                    out.mkdir(parents=True, exist_ok=True)
                    outputs = _Outputs(out, cfg)
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

    files = []
    for name, fmt in outputs.names:
        path = out / name
        files.append({"name": name, "format": fmt, "rows": written, "bytes": path.stat().st_size, "sha256": _sha256(path)})
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


def log_export(tracker: "RunTracker", result: ExportResult, name: str | None = None) -> None:
    """Record the export in the run: dataset input (digest, profile, source), manifest artifact, metrics."""
    m = result.manifest
    dist = m["reward_distribution"]
    tracker.log_dataset_input(
        name=name or f"rewards-{m['reward_set']['reward_set_id']}",
        digest=m["digest"],
        source=result.out_dir.resolve().as_uri(),
        profile={
            "rows": m["rows"],
            "reward_mean": dist["mean"],
            "rubric_version": m["rubric_version"],
            "source_datasets": m["source_datasets"],
            "files": [f["name"] for f in m["files"]],
        },
        schema={"verl": [f.name for f in verl_schema()], "trl": [f.name for f in trl_schema()], "openrlhf": ["input", "output", "label", "reward", "trace_id"]},
    )
    tracker.log_dict(m, "export/manifest.json")
    tracker.log_metrics(
        {
            "export.rows": m["rows"],
            "export.reward_mean": dist["mean"],
            "export.reward_std": dist["std"],
            "export.seconds": result.seconds,
            "export.rows_per_s": result.rows_per_s,
            **{f"export.rows.{k}": v for k, v in m["by_source"].items()},
        }
    )


def export_markdown(manifest: dict[str, Any], out_dir: Path) -> str:
    """What a person checks first about an export: where it went, how many rows, which rewards, decided by whom."""
    dist = manifest["reward_distribution"]
    counts = ", ".join(f"{value}: {n}" for value, n in dist["value_counts"].items())
    lines = [
        f"# Reward export: {manifest['rows']:,} rows",
        "",
        f"- folder: `{out_dir}` (digest `{manifest['digest']}`)",
        f"- reward set `{manifest['reward_set']['reward_set_id']}`, rubric version {manifest['rubric_version'] or 'none'}",
        f"- rewards: mean {dist['mean']:.3f}, std {dist['std']:.3f}; {counts}",
        f"- decided by: {', '.join(f'{k} {v:,}' for k, v in manifest['by_source'].items())}",
        f"- datasets: {', '.join(f'{k} {v:,}' for k, v in manifest['source_datasets'].items())}",
        "",
        "| file | format | rows | bytes |",
        "|---|---|---|---|",
        *(f"| {f['name']} | {f['format']} | {f['rows']:,} | {f['bytes']:,} |" for f in manifest["files"]),
    ]
    return "\n".join(lines) + "\n"
