"""Where judge_eval's rubric comes from: a JSON file, a stored version, or a build from the labelled split.

Rubric mining owns building and storing rubrics; this module calls its public functions (lazily: they
pull in numpy and the clustering stack) and says plainly what to do when a build yields no rubric.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from rubricate.errors import ConfigError, RubricateError
from rubricate.rubric.model import Rubric

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.store import Store


def build_rubric_from(store: "Store", cfg: "PipelineConfig", trace_ids: Sequence[str]) -> Rubric:
    """A rubric built from only the labelled split (rubric mining keeps it out of the nightly rubric's history)."""
    from rubricate.rubric.build import build_rubric

    rubric = build_rubric(store, cfg.rubric, llm=cfg.llm, trace_ids=list(trace_ids)).rubric
    if not rubric.items:
        raise RubricateError(
            f"the rubric built from the {len(trace_ids)} labelled traces has no items (status {rubric.status}): too few wrong "
            "traces with error descriptions; raise gold_fraction or limit, or pass a rubric (rubric_path / rubric_version)"
        )
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
            raise ConfigError(f"rubric file {p} does not exist; export one (rubricate.rubric.export_rubric) or fix rubric_path")
        return Rubric.from_json(p)
    if version:
        return load_stored_rubric(store, version, cfg.rubric.rubric_name())
    return build_rubric_from(store, cfg, build_ids) if build else None


def load_stored_rubric(store: "Store", version: str, preferred_name: str | None = None) -> Rubric:
    """A stored version by id, or "latest" of one rubric: `preferred_name` (the config's scope) when the store has
    it, else the only rubric the store holds. Several rubrics and none of them the config's: an error that lists
    them, never another dataset's rubric picked silently."""
    from rubricate.rubric.versions import load_rubric, rubric_names

    if version != "latest":
        return load_rubric(store, version)
    names = rubric_names(store)
    if preferred_name in names:
        return load_rubric(store, "latest", preferred_name)
    if len(names) <= 1:  # the only rubric, or none (load_rubric then says how to build one)
        return load_rubric(store, "latest", names[0] if names else None)
    raise ConfigError(
        f"rubric version 'latest' is ambiguous: the store holds {len(names)} rubrics ({', '.join(names)}) and none is "
        f"named '{preferred_name}' (this config's rubric.name / scope); set rubric.name to one of them or give a version id"
    )
