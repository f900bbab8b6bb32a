"""Where judge_eval's rubric comes from: a JSON file, a stored version, or a build from the labelled split.

The rubric package (rubric mining) owns building and storing rubrics; this module only reaches for its
public functions, lazily, and says plainly what to do when they are not there.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from rubricate.errors import ConfigError, RubricateError
from rubricate.rubric.model import Rubric

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.store import Store


def _find(names: Sequence[tuple[str, str]]) -> Callable[..., Any] | None:
    for module, attr in names:
        try:
            fn = getattr(importlib.import_module(module), attr, None)
        except ImportError:
            continue
        if callable(fn):
            return fn
    return None


def load_stored_rubric(store: "Store", version: str) -> Rubric:
    load = _find([("rubricate.rubric", "load_rubric"), ("rubricate.rubric.store", "load_rubric"), ("rubricate.rubric.versions", "load_rubric")])
    if load is None:
        raise RubricateError(f"cannot load rubric version {version}: rubric mining's `load_rubric` is not available; pass a rubric JSON (rubric_path)")
    return load(store, version)


def build_rubric_from(store: "Store", cfg: "PipelineConfig", trace_ids: Sequence[str]) -> Rubric:
    """Build a rubric from only the labelled split (its gold error descriptions), through rubric mining."""
    build = _find([("rubricate.rubric.build", "build_rubric"), ("rubricate.rubric", "build_rubric")])
    if build is None:
        raise RubricateError(
            "judge_eval was asked to build the rubric from the labelled split, but rubric mining's `build_rubric` is not "
            "available; pass rubric_path (a rubric JSON) or rubric_version, or use the plain or offline judge"
        )
    result = build(store, cfg.rubric, trace_ids=list(trace_ids))
    rubric = getattr(result, "rubric", result)
    if not isinstance(rubric, Rubric):
        raise RubricateError(f"build_rubric returned {type(result).__name__}, not a Rubric")
    return rubric


def resolve_rubric(
    store: "Store", cfg: "PipelineConfig", build_ids: Sequence[str], *, path: str | None = None, version: str | None = None, build: bool = True
) -> Rubric | None:
    """The rubric for an evaluation: a file, else a stored version, else (if `build`) one built from `build_ids`."""
    path = path or cfg.judge.rubric_path
    version = version or cfg.judge.rubric_version
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"rubric file {p} does not exist; export one from a rubric build or fix rubric_path")
        return Rubric.from_json(p)
    if version:
        return load_stored_rubric(store, version)
    return build_rubric_from(store, cfg, build_ids) if build else None
