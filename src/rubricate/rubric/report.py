"""What a person looks at, per version: the rubric as Markdown and JSON, a 2-D map of the descriptions
coloured by item, item sizes, and the diff against the previous version.

Files only; the task layer logs them to MLflow and shows the Markdown as a Prefect artifact.
Plots use matplotlib's object API (no pyplot), so they draw headless and from worker threads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    import numpy as np

from rubricate.rubric.versions import load_rubric, resolve_version, version_items
from rubricate.store.db import Store

MAX_LEGEND = 12


@dataclass
class ReportFiles:
    version_id: str
    markdown: str
    files: dict[str, Path]  # artifact name -> file


def _changes(store: Store, version_id: str) -> list[dict[str, Any]]:
    return store.frame("rubric/changes_of_version", {"version_id": version_id}).to_dicts()


def diff_lines(changes: list[dict[str, Any]], names: dict[str, str], parent: str | None) -> list[str]:
    if parent is None:
        return ["First version: every item is new."]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for c in changes:
        by_kind.setdefault(c["change"], []).append(c)
    lines = [f"Against `{parent}`: " + ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items())) + "."]
    for kind in ("added", "split", "merged", "retired"):
        for c in by_kind.get(kind, []):
            name = names.get(c["item_id"], c["item_id"])
            related = ", ".join(f"`{r}`" for r in (c["related"] or []))
            extra = {"split": f" (split from {related})", "merged": f" (absorbed {related})"}.get(kind, "")
            lines.append(f"- **{kind}** `{c['item_id']}` {name}{extra}")
    return lines


def rubric_markdown(row: dict[str, Any], items: pl.DataFrame, changes: list[dict[str, Any]], parent_names: dict[str, str]) -> str:
    lines = [
        f"# Rubric `{row['version_id']}` ({row['status']})",
        "",
        f"{row['message']}",
        "",
        f"- descriptions: {row['n_descriptions']} ({row['n_new_traces']} new since the previous version)",
        f"- items: {row['n_items']} in {row['n_categories']} categories; uncategorised: {row['n_uncategorised']}; "
        f"noise assigned to nearest item: {row['n_noise_assigned']}",
        f"- embedder: {row['embedder']}; namer: {row['namer']}; created {row['created_at']}",
        "",
    ]
    if not items.is_empty():
        lines += ["## Items", "", "| # | item | name | keyword | category | size | description |", "|---|---|---|---|---|---|---|"]
        for r in items.to_dicts():
            lines.append(
                f"| {r['position'] + 1} | `{r['item_id']}` | {r['name']} | {r['keyword']} | {r['category']} | {r['size']} | "
                f"{r['description'].replace('|', '/')} |"
            )
        lines += ["", "## How to check each item", ""]
        for r in items.to_dicts():
            examples = json.loads(r["examples"]) if isinstance(r["examples"], str) else r["examples"]
            lines += [f"**{r['name']}** (`{r['item_id']}`): {r['how_to_check']}", ""]
            lines += [f"> {e}" for e in examples[:3]] + [""]
    names = {**parent_names, **(dict(zip(items["item_id"], items["name"])) if not items.is_empty() else {})}
    lines += ["## Changes", "", *diff_lines(changes, names, row["parent_version_id"]), ""]
    return "\n".join(lines)


def map_limits(values: "np.ndarray", margin: float = 0.08) -> tuple[float, float]:
    """Axis limits that frame the bulk of the points (the quartiles widened by 3 interquartile ranges, never
    beyond the data), plus a margin: a few outlying clusters no longer squash the rest into a corner; points
    beyond the limits are drawn on the frame's edge."""
    import numpy as np

    if values.size == 0:
        return -1.0, 1.0
    q1, q3 = (float(v) for v in np.percentile(values, [25, 75]))
    spread = q3 - q1
    lo, hi = max(float(values.min()), q1 - 3 * spread), min(float(values.max()), q3 + 3 * spread)
    pad = (hi - lo) * margin or 1.0
    return lo - pad, hi + pad


def map_png(members: pl.DataFrame, items: pl.DataFrame, path: Path) -> Path:
    """Each description at its 2-D map position (the clustering's own reduction), coloured by item, the item's
    name at its centre; uncategorised in grey. Limits frame the bulk of the points (map_limits)."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 7), dpi=110)
    ax = fig.add_subplot()
    xlim, ylim = map_limits(members["x"].to_numpy()), map_limits(members["y"].to_numpy())

    def framed(frame: pl.DataFrame) -> tuple["np.ndarray", "np.ndarray"]:
        return np.clip(frame["x"].to_numpy(), *xlim), np.clip(frame["y"].to_numpy(), *ylim)

    noise = members.filter(pl.col("item_id").is_null())
    if noise.height:
        ax.scatter(*framed(noise), s=4, c="#c8c8c8", label=f"uncategorised ({noise.height})", linewidths=0)
    cmap = matplotlib.colormaps["tab20"]
    for pos, r in enumerate(items.to_dicts()):
        pts = members.filter(pl.col("item_id") == r["item_id"])
        label = f"{r['name'][:40]} ({pts.height})" if pos < MAX_LEGEND else None
        xs, ys = framed(pts)
        ax.scatter(xs, ys, s=6, color=cmap(pos % 20), label=label, linewidths=0)
        if pts.height and pos < MAX_LEGEND:
            ax.annotate(r["name"][:28], (float(np.median(xs)), float(np.median(ys))), fontsize=7, ha="center",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": cmap(pos % 20), "alpha": 0.8})
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_title("Error descriptions by rubric item")
    ax.set_xlabel("map dimension 1 (the clustering's 2-D reduction; distances are approximate)")
    ax.set_ylabel("map dimension 2")
    ax.set_xticks([])
    ax.set_yticks([])
    if items.height or noise.height:
        ax.legend(loc="best", fontsize=7, markerscale=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    return path


def sizes_png(items: pl.DataFrame, path: Path) -> Path:
    from matplotlib.figure import Figure

    n = max(items.height, 1)
    fig = Figure(figsize=(8, 1.5 + 0.3 * n), dpi=110)
    ax = fig.add_subplot()
    if items.height:
        ax.barh([r[:50] for r in items["name"].to_list()][::-1], items["size"].to_list()[::-1], color="#4c72b0")
    ax.set_xlabel("descriptions")
    ax.set_title("Item sizes")
    fig.tight_layout()
    fig.savefig(path)
    return path


def write_report(store: Store, version_id: str, out_dir: str | Path) -> ReportFiles:
    """Write rubric.md, version.json, rubric.json (when it has items), map.png and sizes.png into `out_dir`."""
    row = resolve_version(store, version_id)
    vid = row["version_id"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = version_items(store, vid)
    changes = _changes(store, vid)
    parent_items = version_items(store, row["parent_version_id"]) if row["parent_version_id"] else pl.DataFrame()
    parent_names = dict(zip(parent_items["item_id"], parent_items["name"])) if not parent_items.is_empty() else {}
    markdown = rubric_markdown(row, items, changes, parent_names)
    members = store.frame("rubric/members_of_version", {"version_id": vid})
    files = {"rubric.md": out / "rubric.md", "version.json": out / "version.json"}
    files["rubric.md"].write_text(markdown, encoding="utf-8")
    version_info = dict(row)
    version_info["params"] = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    version_info["changes"] = changes
    files["version.json"].write_text(json.dumps(version_info, indent=2, default=str), encoding="utf-8")
    if row["n_items"]:
        files["rubric.json"] = load_rubric(store, vid).to_json(out / "rubric.json")
    files["map.png"] = map_png(members, items, out / "map.png")
    files["sizes.png"] = sizes_png(items, out / "sizes.png")
    return ReportFiles(version_id=vid, markdown=markdown, files=files)
