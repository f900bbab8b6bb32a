"""Run one call in a fresh interpreter with a hard time limit: a hang guard for inputs that once hung.

A thread cannot guard these: exact big-integer arithmetic (sympy computing 9^(9^9)) and a backtracking
regex both hold the GIL, so the waiting thread never gets to notice its timeout. A subprocess is killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_RUNNER = """
import dataclasses, importlib, json, sys
module, name = sys.argv[1].split(":")
args, kwargs = json.loads(sys.stdin.read())
result = getattr(importlib.import_module(module), name)(*args, **kwargs)
print(json.dumps(dataclasses.asdict(result) if dataclasses.is_dataclass(result) else result))
"""


def call_with_hang_guard(target: str, *args: Any, timeout_s: float = 60.0, **kwargs: Any) -> Any:
    """`module:function` called with JSON-able arguments in a subprocess; its result (a dataclass as a dict).
    Fails the test when the call does not return within `timeout_s` (a generous guard, not a speed test)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _RUNNER, target],
            input=json.dumps([args, kwargs]), capture_output=True, text=True, timeout=timeout_s, check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{target}{tuple(a[:60] if isinstance(a, str) else a for a in args)} did not return within {timeout_s} s") from None
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])

