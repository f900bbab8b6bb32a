"""The one command line: every flow's options come from its signature and docstring (the same the Prefect UI shows)."""

from __future__ import annotations

import importlib

import pytest

from flows._cli import build_parser, parameter_help

FLOWS = {
    "pipeline": "pipeline", "collect_traces": "collect_traces", "rubric_refresh": "rubric_refresh", "judge_eval": "judge_eval",
    "reward_experiment": "reward_experiment", "export_rewards": "export_rewards", "demo_llm": "demo_llm",
}


def flow_of(module: str):
    return getattr(importlib.import_module(f"flows.{module}"), FLOWS[module])


@pytest.mark.parametrize("module", sorted(FLOWS))
def test_every_parameter_has_a_flag_and_a_description(module: str):
    flow = flow_of(module)
    assert flow.name == module, "the CLI's usage line names flows.<flow name>: keep the module named after its flow"
    helps = parameter_help(flow.fn)
    undocumented = [name for name, text in helps.items() if not text]
    assert not undocumented, f"flows.{module}: parameters without a description in the docstring's Args: {undocumented}"
    parser = build_parser(flow, prog=module)
    dests = {a.dest for a in parser._actions}
    assert set(helps) <= dests


def test_the_naming_conventions():
    parser = build_parser(flow_of("judge_eval"), prog="judge_eval")
    args = parser.parse_args(["--config", "c.yaml", "--judge", "rubric", "--judge", "plain", "--dataset", "a",
                              "--rubric", "r.json", "--split-seed", "3", "--gold-fraction", "0.5"])
    assert (args.config_path, args.judges, args.datasets, args.rubric_path, args.split_seed, args.gold_fraction) == (
        "c.yaml", ["rubric", "plain"], ["a"], "r.json", 3, 0.5)
    with pytest.raises(SystemExit):  # a Literal's values are the only choices
        parser.parse_args(["--judge", "oracle"])
    refresh = build_parser(flow_of("rubric_refresh"), prog="rubric_refresh")
    assert refresh.parse_args(["--force", "--namer", "llm"]).force is True
    assert refresh.parse_args([]).force is False
    assert build_parser(flow_of("pipeline"), prog="pipeline").parse_args(["--no-verify"]).verify is False


def test_the_same_split_seed_flag_in_both_evaluation_flows():
    for module in ("judge_eval", "reward_experiment"):
        assert build_parser(flow_of(module), prog=module).parse_args(["--split-seed", "7"]).split_seed == 7


def test_left_at_its_default_a_parameter_keeps_the_configs_value():
    """The form's defaults ("", "config", 0, an empty list) are the CLI's too, and a flow turns them into None (the
    config's value); a seed stays None by default, since 0 is a real seed."""
    from flows._cli import given, given_list
    from flows.rubric_refresh import _overrides

    refresh = build_parser(flow_of("rubric_refresh"), prog="rubric_refresh")
    args = refresh.parse_args([])
    overrides = ("domain", "datasets", "source", "reduce", "min_cluster_size", "embedder", "namer")
    assert (args.domain, args.datasets, args.source, args.reduce, args.min_cluster_size, args.embedder, args.namer) == (
        "", [], "config", "config", 0, "", "config")
    assert _overrides(*(getattr(args, k) for k in overrides)) == dict.fromkeys(overrides)
    args = refresh.parse_args(["--domain", "math", "--dataset", "a", "--source", "llm", "--reduce", "none",
                               "--min-cluster-size", "5", "--embedder", "m", "--namer", "llm"])
    assert _overrides(*(getattr(args, k) for k in overrides)) == {
        "domain": "math", "datasets": ["a"], "source": "llm", "reduce": "none", "min_cluster_size": 5, "embedder": "m",
        "namer": "llm"}
    assert refresh.parse_args(["--source", "config"]).source == "config"
    with pytest.raises(SystemExit):
        refresh.parse_args(["--source", "web"])

    evaluation = build_parser(flow_of("judge_eval"), prog="judge_eval").parse_args([])
    assert (evaluation.judges, evaluation.gold_fraction, evaluation.limit, evaluation.rubric_path, evaluation.split_seed) == (
        [], 0.0, 0, "", None)
    assert [given(v) for v in ("", "config", 0, 0.0, "x", 3, 0.5)] == [None, None, None, None, "x", 3, 0.5]
    assert (given_list(()), given_list([]), given_list(["a"])) == (None, None, ["a"])
    pipeline = build_parser(flow_of("pipeline"), prog="pipeline")
    assert pipeline.parse_args([]).sources == [] and pipeline.parse_args(["--source", "a", "--source", "b"]).sources == ["a", "b"]
    assert pipeline.parse_args([]).sources == [], "the append action must not grow the default between parses"


def test_help_shows_no_empty_default():
    text = build_parser(flow_of("rubric_refresh"), prog="rubric_refresh").format_help()
    assert "(default: )" not in text and "(default: [])" not in text and "(default: ())" not in text
    assert "(default: config)" in text
