"""prefect.yaml declares a deployment for every flow, and each entrypoint loads with its parameters."""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _deployments() -> list[dict]:
    return yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]


def test_every_flow_module_has_a_deployment():
    flow_files = {p.stem for p in (REPO / "flows").glob("*.py") if not p.name.startswith("_")}
    deployed = {d["entrypoint"].split(":")[0].removeprefix("flows/").removesuffix(".py") for d in _deployments()}
    assert flow_files - deployed == set(), f"flows without a deployment in prefect.yaml: {flow_files - deployed}"


def test_entrypoints_load_and_parameters_match_signatures(monkeypatch):
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(REPO)
    names = set()
    for dep in _deployments():
        assert dep["name"] not in names, f"deployment name {dep['name']} repeated"
        names.add(dep["name"])
        flow = load_flow_from_entrypoint(str(REPO / dep["entrypoint"]), use_placeholder_flow=False)
        accepted = set(inspect.signature(flow.fn).parameters)
        unknown = set(dep.get("parameters") or {}) - accepted
        assert not unknown, f"{dep['name']}: parameters {unknown} are not arguments of {flow.name}"
        assert dep["work_pool"]["name"], dep["name"]


def test_pull_step_uses_working_directory_not_git():
    doc = yaml.safe_load((REPO / "prefect.yaml").read_text())
    steps = [next(iter(s)) for s in doc["pull"]]
    assert steps == ["prefect.deployments.steps.set_working_directory"]


def test_flows_take_a_config_path_never_config_values(monkeypatch):
    """Prefect stores every flow-run parameter in its database: a flow takes the config's path, not its values
    (which could carry a secret), and no parameter is named like a secret (issue 10, item 15)."""
    from prefect.flows import load_flow_from_entrypoint

    from rubricate.secrets import is_secret_name

    monkeypatch.chdir(REPO)
    for dep in _deployments():
        flow = load_flow_from_entrypoint(str(REPO / dep["entrypoint"]), use_placeholder_flow=False)
        params = inspect.signature(flow.fn).parameters
        assert "config_path" in params, dep["name"]
        for name, param in params.items():
            assert not is_secret_name(name), f"{flow.name}: parameter {name} would store a secret in Prefect's database"
            assert "Config" not in str(param.annotation), f"{flow.name}: parameter {name} passes config values to Prefect"


def test_a_scheduled_deployment_says_its_time_zone_in_its_description():
    """The Prefect UI labels a cron schedule "At 03:00 AM every day", without its time zone (seen in Chromium,
    tests/ui/test_browser_uis.py): the description says it."""
    for dep in _deployments():
        for schedule in dep.get("schedules") or []:
            zone = schedule.get("timezone")
            assert zone, f"{dep['name']}: a schedule without a timezone runs in the server's"
            assert zone in dep["description"], f"{dep['name']}: the description must say the schedule's time zone ({zone})"


# Parameters whose form keeps the "X | None" toggle: a seed's every integer (0 included) is a real seed, so no
# default can mean "the config's value" there (flows/_cli.py's module docstring).
OPTIONAL_ON_PURPOSE = {"split_seed"}
# prefect.yaml values that differ from the flow's default on purpose (each deployment's description says why).
CHOSEN_FOR_THE_DEPLOYMENT = {("collect-traces-gpu", "source"), ("reward-experiment", "gold_fraction")}


def _null_branches(prop: dict) -> bool:
    return any(branch.get("type") == "null" for branch in prop.get("anyOf", [])) or prop.get("type") == "null"


def test_deployed_forms_show_plain_inputs_not_a_none_toggle(monkeypatch):
    """The Prefect UI's Run form shows an `X | None` parameter as a toggle set to None (`Property is type "None"`),
    and a Literal's choices only after switching it: every deployed parameter but a seed has a plain type and a
    default that keeps the config's value ("", "config", 0, an empty list)."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    monkeypatch.chdir(REPO)
    for dep in _deployments():
        flow = load_flow_from_entrypoint(str(REPO / dep["entrypoint"]), use_placeholder_flow=False)
        props = parameter_schema(flow.fn).model_dump()["properties"]
        toggles = {name for name, prop in props.items() if _null_branches(prop)}
        assert toggles <= OPTIONAL_ON_PURPOSE, f"{dep['name']}: parameters shown as a None toggle: {toggles - OPTIONAL_ON_PURPOSE}"
        for name, prop in props.items():
            if "enum" in prop:  # a choice (a list of choices has them in its items, and an empty default)
                assert prop["enum"][0] == "config" and prop["default"] == "config", f"{flow.name}.{name}: choices start with 'config'"
        for name, value in (dep.get("parameters") or {}).items():
            assert value is not None or name in OPTIONAL_ON_PURPOSE, f"{dep['name']}: parameter {name} is null in prefect.yaml"
            if name != "config_path" and (dep["name"], name) not in CHOSEN_FOR_THE_DEPLOYMENT:
                assert value == props[name]["default"], f"{dep['name']}: {name}: {value!r} is not the flow's default {props[name]['default']!r}"
