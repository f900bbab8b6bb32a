"""Where judge_eval's rubric comes from: a file, a stored version, or a build on the labelled split only."""

from __future__ import annotations

import pytest

from rubricate.config import parse_config
from rubricate.errors import ConfigError, RubricateError
from rubricate.judge.gold_eval import split_gold
from rubricate.judge.rubric_source import resolve_rubric
from tests.judge.helpers import add_traces, arithmetic_traces


def test_a_rubric_file_is_loaded_and_a_missing_one_named(store, rubric, tmp_path):
    cfg = parse_config({})
    path = rubric.to_json(tmp_path / "r.json")
    assert resolve_rubric(store, cfg, [], path=str(path)) == rubric
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_rubric(store, cfg, [], path=str(tmp_path / "nope.json"))
    assert resolve_rubric(store, cfg, [], build=False) is None


@pytest.mark.slow
def test_a_build_without_error_descriptions_says_what_to_do(store):
    traces = arithmetic_traces(6)  # labelled, but no error descriptions to mine
    add_traces(store, traces)
    with pytest.raises(RubricateError, match="no items"):
        resolve_rubric(store, parse_config({}), [t.trace_id for t in traces])


def test_split_gold_is_stable_and_disjoint():
    ids = [f"t{i}" for i in range(100)]
    build, held = split_gold(ids, 0.2, seed=0)
    assert len(build) == 20 and len(held) == 80 and not set(build) & set(held)
    assert split_gold(list(reversed(ids)), 0.2, seed=0) == (build, held)  # order of input does not matter
    more_build, _ = split_gold(ids + [f"n{i}" for i in range(100)], 0.2, seed=0)
    assert split_gold(ids, 0.2, seed=1)[0] != build
    assert len(set(build) & set(more_build)) >= 10  # adding traces mostly keeps the old split
