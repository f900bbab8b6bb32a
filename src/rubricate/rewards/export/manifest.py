"""What an export says about itself: reward statistics gathered chunk by chunk, the deterministic manifest, its
MLflow record, and the Markdown a person reads first."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from rubricate.rewards.export.trl import trl_schema
from rubricate.rewards.export.verl import verl_schema

if TYPE_CHECKING:
    import pyarrow as pa

    from rubricate.tracking import RunTracker

MANIFEST_FORMAT = "rubricate-reward-export/1"
MAX_VALUE_COUNTS = 100  # reward values listed one by one in the manifest; past that only moments are kept
PROVENANCE_COLUMNS = ("source", "judge_id", "judge_kind", "judge_model", "judge_prompt_id", "rubric_version", "rule_verifier_id", "llm_verifier_id")


class ManifestFile(TypedDict):
    """One written file as the manifest lists it (`files`)."""

    name: str
    format: str
    rows: int
    bytes: int
    sha256: str


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


class Stats:
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



def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
