"""The demo's generated sample set: deterministic, labels consistent with what was injected, real variety."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter, defaultdict

import pytest

from rubricate.demo import ERROR_TYPES, SampleOptions, generate


def key(d) -> tuple:
    return (d.source_id, d.problem, tuple(d.steps), d.gold_answer, d.label_correct, d.label_final_answer_correct,
            d.label_first_error_step, d.label_error_type, d.label_error_description)


def test_same_seed_same_traces_and_prefix_stable():
    first = [key(d) for d in generate(SampleOptions(n_problems=60, seed=0))]
    assert first == [key(d) for d in generate(SampleOptions(n_problems=60, seed=0))]
    assert [key(d) for d in generate(SampleOptions(n_problems=10, seed=0))] == first[:30]  # problem i depends on (seed, i) only
    other = [key(d) for d in generate(SampleOptions(n_problems=60, seed=1))]
    assert sum(a != b for a, b in zip(first, other)) > 150


def test_default_demo_set_shape():
    drafts = list(generate(SampleOptions()))
    assert len(drafts) == 180  # 60 problems x k=3
    assert len({d.problem for d in drafts}) == 60
    assert len({d.source_id for d in drafts}) == 180
    n_errors = sum(not d.label_correct for d in drafts)
    assert 0.25 * 180 < n_errors < 0.5 * 180  # most traces correct, a real share wrong
    assert set(Counter(d.label_error_type for d in drafts if d.label_error_type)) == set(ERROR_TYPES)
    assert {d.domain for d in drafts} == {"math"}


@pytest.mark.parametrize("seed", [0, 3])
def test_labels_match_the_injected_errors(seed):
    drafts = list(generate(SampleOptions(n_problems=240, seed=seed)))
    for d in drafts:
        injected = d.label_error_type is not None
        assert d.label_correct is (not injected)
        assert (d.label_first_error_step is not None) is injected
        assert (d.label_error_description is not None) is injected
        if injected:
            assert 0 <= d.label_first_error_step < len(d.steps)
            assert d.label_error_type in ERROR_TYPES
        else:
            assert d.label_final_answer_correct is True
        if d.label_error_type == "answer_mismatch":
            assert d.label_first_error_step == len(d.steps) - 1 and d.label_final_answer_correct is False
        if d.label_error_type not in (None, "arithmetic_slip"):
            assert d.label_final_answer_correct is False  # only a silent slip leaves the final answer right
    silent = [d for d in drafts if d.extra["silent_error"]]
    assert silent and all(d.label_error_type == "arithmetic_slip" and d.label_final_answer_correct for d in silent)


def test_error_step_shows_the_error():
    seen = Counter()
    for d in generate(SampleOptions(n_problems=120, seed=5)):
        step = d.steps[d.label_first_error_step] if d.label_error_type else ""
        seen[d.label_error_type] += 1
        if d.label_error_type == "misread_quantity":
            wrong = re.search(r"uses (\S+) for|is \S+, not (\S+)|incorrectly as (\S+)|value \((\S+) instead", d.label_error_description)
            assert wrong and next(g for g in wrong.groups() if g) in step
        if d.label_error_type == "unit_conversion":
            assert "100" in step
        if d.label_error_type == "sign_error":
            assert " + " in step
    assert min(seen[t] for t in ("misread_quantity", "unit_conversion", "sign_error")) >= 3


def test_descriptions_vary_within_each_type():
    by_type: dict[str, set[str]] = defaultdict(set)
    for d in generate(SampleOptions(n_problems=240, seed=0)):
        if d.label_error_type:
            by_type[d.label_error_type].add(d.label_error_description)
    assert set(by_type) == set(ERROR_TYPES)
    assert all(len(texts) >= 2 for texts in by_type.values()), {t: len(v) for t, v in by_type.items()}


def test_answer_styles_give_the_verifier_work():
    drafts = list(generate(SampleOptions(n_problems=120, seed=0)))
    last = [d.steps[-1] for d in drafts]
    assert any("\\boxed{" in s for s in last)
    assert any(s.startswith(("The answer is", "So the answer is")) for s in last)
    assert any(s.startswith("Answer:") for s in last)
    assert any(s.startswith("####") for s in last)
    assert any(re.fullmatch(r"\$?-?[\d.]+( dollars| percent|%)?", s) for s in last)  # a bare final line
    assert any("%" in s or "percent" in s for s in last) and any("$" in s or "dollars" in s for s in last)
    assert any(re.search(r"\d (minutes|kg|pages|pencils|years)", s) for s in last)
    choice = [d for d in drafts if d.extra["multiple_choice"]]
    assert choice and all(d.gold_answer in "ABCD" and "Options:\n(A)" in d.problem for d in choice)
    assert any(d.gold_answer.endswith("%") for d in drafts)


def test_default_demo_set_is_pinned():
    """`make demo`'s data, row for row: a change to templates.yaml or the generator changes every demo trace and
    its id, so this hash changes only on purpose."""
    rows = [dataclasses.asdict(d) for d in generate(SampleOptions())]
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert digest == "6ff465502b4e0ac4d0800bbfc47ab42605931662b47278d7c59c45c7e30e8d52"


def test_problem_set_mode_gives_the_problems_the_traces_pose(store):
    """`options: {problems_only: true}`: one row per problem, as its traces pose it (what collect_traces samples)."""
    from rubricate.config import SourceConfig
    from rubricate.errors import IngestError
    from rubricate.ingest import ingest_source
    from rubricate.ingest.problems import ingest_problem_set
    from tests.helpers import sql_rows

    options = {"n_problems": 6, "seed": 0}
    problems = SourceConfig(name="sample_problems", reader="sample", options={**options, "problems_only": True})
    with pytest.raises(IngestError, match="problem set"):
        ingest_source(store, problems)
    report = ingest_problem_set(store, problems)
    assert (report.n_in, report.n_accepted, report.n_rejected) == (6, 6, 0)
    assert ingest_problem_set(store, problems).n_accepted == 0  # a rerun adds nothing
    ingest_source(store, SourceConfig(name="sample", reader="sample", options=options))
    # every stored problem is the problem of its 3 traces, with their gold answer and split
    joined = sql_rows(store, "SELECT p.source_id, count(*), bool_and(p.gold_answer = t.gold_answer AND p.split = t.split) "
                             "FROM problems p JOIN traces t USING (problem_id) GROUP BY 1 ORDER BY 1")
    assert joined == [(f"sample-s0-p{i:04d}", 3, True) for i in range(6)]
    assert sql_rows(store, "SELECT DISTINCT source_path FROM problems") == [("<sample>",)]
