"""Stage 7 files: Markdown, JSON, the map and the sizes chart, and the diff against the previous version."""

from __future__ import annotations

import json
from pathlib import Path

from rubricate.llm.base import LLMConfig
from rubricate.rubric.build import build_rubric
from rubricate.rubric.report import write_report
from tests.rubric.conftest import fast_rubric, ingest_rows
from tests.rubric.synthetic import synthetic_rows

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_files_and_diff(synthetic_store, tmp_path: Path):
    first = build_rubric(synthetic_store, fast_rubric()).build
    report = write_report(synthetic_store, first.version_id, tmp_path / "v1")
    assert set(report.files) == {"rubric.md", "version.json", "rubric.json", "map.png", "sizes.png"}
    assert all(report.files[f].read_bytes().startswith(PNG) for f in ("map.png", "sizes.png"))
    md = report.markdown
    assert md.startswith(f"# Rubric `{first.version_id}` (complete)") and "First version: every item is new." in md
    assert md.count("| `item-") == 3 and "> Forgot to convert minutes to hours" in md
    info = json.loads(report.files["version.json"].read_text())
    assert info["params"]["clustering"]["reduce_used"] == "pca" and len(info["changes"]) == 3

    # a new kind of error arrives: the next version adds one item and keeps the others
    extra = [{**r, "id": f"new-{i}", "kind": "sign", "description": f"Dropped the minus sign when moving a term across {w}."}
             for i, (r, w) in enumerate(zip(synthetic_rows(12, start=20), ["", "again", "once", "twice", "later", "early"] * 2))]
    ingest_rows(synthetic_store, tmp_path, extra[:12], "signs")
    second = build_rubric(synthetic_store, fast_rubric(), llm=LLMConfig()).build
    assert second.changes == {"kept": 3, "added": 1}
    md2 = write_report(synthetic_store, second.version_id, tmp_path / "v2").markdown
    assert f"Against `{first.version_id}`: 1 added, 3 kept." in md2 and "- **added** `item-" in md2


def test_map_limits_frame_the_bulk_not_the_outliers():
    import numpy as np

    from rubricate.rubric.report import map_limits

    values = np.concatenate([np.linspace(0, 1, 500), [40.0, 41.0]])  # two far clusters' worth of outliers
    lo, hi = map_limits(values)
    assert lo < 0 < 1 < hi < 5
