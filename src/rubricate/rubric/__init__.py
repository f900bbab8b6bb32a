"""Rubric mining: describe errors, embed, cluster, name, version. `rubric.model` is the shared contract.

Public entry points (imported lazily, so `import rubricate.rubric` stays light):
`load_rubric(store, version="latest")`, `export_rubric(store, path)`, `build_rubric(store, rcfg, trace_ids=...)`.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "load_rubric": "rubricate.rubric.versions",
    "export_rubric": "rubricate.rubric.versions",
    "build_rubric": "rubricate.rubric.build",
    "build_rubric_version": "rubricate.rubric.build",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rubricate.rubric' has no attribute {name!r}")
