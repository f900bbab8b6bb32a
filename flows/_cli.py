"""One command line for every flow, derived from the flow's own signature and docstring.

`python -m flows.<name> --help` lists exactly the parameters the Prefect UI's form shows, with the same
descriptions (the `Args:` section of the flow's docstring, which Prefect reads too). The conventions:

- `config_path` and any other `<x>_path` parameter is `--<x>`     (--config, --rubric)
- a list parameter is a repeatable flag named in the singular      (datasets: --dataset a --dataset b)
- a bool is `--<name>` / `--no-<name>`                             (--force, --no-verify)
- a Literal offers its values as choices                           (--namer config|offline|llm)

A parameter that can keep the config's value has a default that says so, one way across all flows, so the Prefect
UI's form shows a plain input (no "str | None" toggle with `Property is type "None"`) and the same default here:

- free text: `str = ""`                                            (empty: the config's value)
- a choice: `Literal["config", ...] = "config"`                    (config: the config's value)
- a list: `Sequence[X] = ()`                                       (empty: the config's value, or every one)
- a number with no valid 0 (a count, a fraction): `int = 0`        (0: the config's value, or no limit)
- a number whose 0 is a real value (a seed) stays `int | None = None`: no default could mean "unset" there

The flow turns such a default into None with `given` / `given_list` before it applies the config.

A flow module then only says how to print its result (and, rarely, adds a shell-only option such as the
pipeline's --dry-run). Errors the user can fix (RubricateError) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import collections.abc
import inspect
import sys
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from rubricate.config import PipelineConfig, load_config
from rubricate.errors import RubricateError

# Called after the arguments are parsed and the config loaded, before Prefect starts: a preflight that raises
# RubricateError, or a shell-only action that returns an exit code instead of running the flow.
Before = Callable[[argparse.Namespace, PipelineConfig], int | None]
Render = Callable[[dict, argparse.Namespace, PipelineConfig], int | None]

T = TypeVar("T")
V = TypeVar("V", str, int, float)

# The choice a Literal parameter offers first, and defaults to: keep the config's value.
FROM_CONFIG = "config"


def given(value: V | None) -> V | None:
    """A text, choice or number parameter's value, or None where it was left at its "keep the config's value"
    default ("", "config", 0; see the module docstring), so the config's value applies."""
    if value is None or value == "" or value == FROM_CONFIG or (not isinstance(value, str) and value == 0):
        return None
    return value


def given_list(values: Sequence[T] | None) -> list[T] | None:
    """A list parameter's values, or None where it was left empty (the config's value, or every one)."""
    return list(values) if values else None


def flag_for(name: str, annotation: Any) -> str:
    if name.endswith("_path"):
        name = name.removesuffix("_path")
    elif _is_list(annotation) and name.endswith("s"):
        name = name.removesuffix("s")
    return "--" + name.replace("_", "-")


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(_strip_optional(annotation)) in (list, collections.abc.Sequence)


def parameter_help(flow_fn: Callable[..., Any]) -> dict[str, str]:
    """Each parameter's description, as Prefect parses it from the docstring for the UI's form."""
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(flow_fn).model_dump()
    return {name: prop.get("description") or "" for name, prop in schema.get("properties", {}).items()}


def build_parser(flow_obj: Any, prog: str) -> argparse.ArgumentParser:
    """An argparse parser with one option per flow parameter (see the module docstring for the naming)."""
    fn = flow_obj.fn
    hints = typing.get_type_hints(fn)
    helps = parameter_help(fn)
    doc = inspect.getdoc(fn) or ""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\nArgs:")[0].strip(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, param in inspect.signature(fn).parameters.items():
        annotation = hints.get(name, str)
        base = _strip_optional(annotation)
        default = None if param.default is inspect.Parameter.empty else param.default
        kwargs: dict[str, Any] = {"dest": name, "default": default, "help": helps.get(name) or None}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif _is_list(base):
            kwargs["action"] = "append"
            kwargs["default"] = list(default) if default is not None else None  # append needs a list, not the () default
            item = typing.get_args(base)[0] if typing.get_args(base) else str
            kwargs |= _value_kwargs(item)
        else:
            kwargs |= _value_kwargs(base)
        flag = flag_for(name, annotation)
        if base is not bool:
            kwargs["metavar"] = flag.removeprefix("--").upper().replace("-", "_") if "choices" not in kwargs else None
            if kwargs.get("help") and default not in (None, "", [], ()):
                kwargs["help"] += f" (default: {default})"
        parser.add_argument(flag, **kwargs)
    return parser


def _value_kwargs(annotation: Any) -> dict[str, Any]:
    if typing.get_origin(annotation) is Literal:
        return {"choices": list(typing.get_args(annotation))}
    if annotation in (int, float):
        return {"type": annotation}
    return {}


def print_table(result: dict, args: argparse.Namespace, cfg: PipelineConfig) -> None:
    """The render of a flow whose result is a Markdown table (the evaluation flows): the table, then its MLflow run."""
    print(result["table"])
    print(f"MLflow run {result['mlflow_run_id']}")


def run_flow(
    flow_obj: Any,
    argv: list[str] | None,
    *,
    render: Render,
    before: Before | None = None,
    extra_options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Parse argv for the flow, load its config (a config error stops here, before Prefect starts), run the
    flow, and print its result with `render`. Returns the process's exit code."""
    from tasks.common import start_temporary_server

    parser = build_parser(flow_obj, prog=f"python -m flows.{flow_obj.name}")  # each flow's module bears its name
    if extra_options is not None:
        extra_options(parser)
    args = parser.parse_args(argv)
    names = set(inspect.signature(flow_obj.fn).parameters)  # shell-only options (--dry-run) are not the flow's
    try:
        cfg = load_config(args.config_path)
        if before is not None:
            code = before(args, cfg)
            if code is not None:
                return code
        start_temporary_server()  # before the flow: one server start at a time on a fresh PREFECT_HOME
        result = flow_obj(**{k: v for k, v in vars(args).items() if k in names})
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return render(result, args, cfg) or 0
