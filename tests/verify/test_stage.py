"""The verify stage on a real DuckDB store, with traces ingested through the generic JSONL reader."""

from __future__ import annotations

import json
from pathlib import Path

from rubricate.config import FieldMap, SourceConfig, VerifyConfig
from rubricate.ingest.run import ingest_source
from rubricate.store import Store
from rubricate.verify import stage
from rubricate.verify.rules import VERIFIER_ID
from rubricate.verify.stage import VerifyReport, verify_traces

ROWS = [
    {"q": "1+1?", "r": "It is \\boxed{2}.", "a": "2"},
    {"q": "Half of one?", "r": "The answer is 0.5", "a": "\\frac{1}{2}"},
    {"q": "3*3?", "r": "I think it is \\boxed{8}", "a": "9"},
    {"q": "Which option?", "r": "Option (C) is right.", "a": "C"},
    {"q": "Percent?", "r": "So the final answer: 28", "a": "28\\%"},
    {"q": "No idea", "r": "I do not know.", "a": "7"},
    {"q": "No gold here", "r": "The answer is 4"},
    {"q": "Empty gold", "r": "The answer is 5", "a": "  "},
]


def _ingest(store: Store, tmp_path: Path, rows: list[dict] = ROWS, name: str = "toy") -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    source = SourceConfig(name=name, reader="jsonl", path=str(path), fields=FieldMap(problem="q", response="r", gold_answer="a"))
    report = ingest_source(store, source)
    assert report.n_accepted == len(rows)


def _stored(store: Store, verifier_id: str = VERIFIER_ID) -> dict[str, int]:
    return {v: int(n) for v, n in store.execute("verify/count_answer_verdicts", {"verifier_id": verifier_id})}


def test_verifies_new_traces_once(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path)
    seen: list[int] = []
    cfg = VerifyConfig(workers=2, timeout_s=10.0, chunk_size=2)
    report = verify_traces(store, cfg, progress=lambda r: seen.append(r.n_verified))

    assert (report.correct, report.incorrect, report.no_answer, report.error) == (4, 1, 1, 0)
    assert report.n_verified == 6 and report.no_gold == 2
    assert report.pass_rate == round(4 / 6, 4) and report.per_second > 0
    assert seen == [2, 4, 6]  # one progress call per chunk of 2
    assert _stored(store) == {"correct": 4, "incorrect": 1, "no_answer": 1}

    got = store.execute("verify/select_answer_verdicts", {"verifier_id": VERIFIER_ID})
    by_problem = {row[2]: (row[4], row[5], row[7], row[6]) for row in got}
    assert by_problem["3*3?"][:3] == ("8", "incorrect", "rules")
    assert by_problem["Which option?"][:2] == ("C", "correct")
    assert by_problem["Percent?"][1] == "correct" and "percent" in by_problem["Percent?"][3]
    assert by_problem["No idea"][:2] == (None, "no_answer")
    assert "No gold here" not in by_problem and "Empty gold" not in by_problem

    # a re-run verifies nothing and changes nothing
    again = verify_traces(store, cfg)
    assert again.n_verified == 0 and again.no_gold == 2 and again.pass_rate is None
    assert _stored(store) == {"correct": 4, "incorrect": 1, "no_answer": 1}

    # new traces: only they are verified
    _ingest(store, tmp_path, [{"q": "2+2?", "r": "\\boxed{4}", "a": "4"}], name="more")
    more = verify_traces(store, cfg)
    assert more.n_verified == 1 and more.correct == 1
    assert _stored(store) == {"correct": 5, "incorrect": 1, "no_answer": 1}


def test_new_verifier_version_reverifies_everything(store: Store, tmp_path: Path, monkeypatch) -> None:
    _ingest(store, tmp_path)
    cfg = VerifyConfig(workers=1, chunk_size=64)
    assert verify_traces(store, cfg).n_verified == 6
    monkeypatch.setattr(stage, "VERIFIER_ID", "rules-test-next")
    report = verify_traces(store, cfg)
    assert report.verifier_id == "rules-test-next" and report.n_verified == 6
    assert _stored(store, "rules-test-next") == {"correct": 4, "incorrect": 1, "no_answer": 1}
    assert _stored(store) == {"correct": 4, "incorrect": 1, "no_answer": 1}  # the old verdicts stay


def test_disabled_or_empty_store_starts_no_workers(store: Store) -> None:
    assert verify_traces(store, VerifyConfig(enabled=False)) == VerifyReport(skipped=True)
    report = verify_traces(store, VerifyConfig())
    assert report.n_verified == 0 and report.worker_restarts == 0 and not report.skipped
