"""A verifier function for the pool tests that hangs on demand, in a worker process.

The rule path no longer hangs on anything known (huge powers and factorials are refused before sympy
sees them), so the pool's hard limit is exercised with a hang made on purpose: a busy loop that never
returns to the caller, like sympy's exact arithmetic did. Module-level, so workers can import it by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rubricate.verify.rules import RuleVerdict, verify_response

HANG_MARKER = "<hang forever>"
_READY = re.compile(r"<ready: (?P<path>[^>]+)>")  # a file the worker creates once it is inside the hang


def hang_response(ready_file: Path | None = None) -> str:
    """A response that hangs its worker; with `ready_file`, the worker creates that file as the hang begins."""
    return f"So the answer is $\\boxed{{2}}$. {HANG_MARKER}" + (f" <ready: {ready_file}>" if ready_file else "")


def verify_or_hang(gold: str | None, response: str, **kwargs: Any) -> RuleVerdict:
    if HANG_MARKER in response:
        ready = _READY.search(response)
        if ready:
            Path(ready["path"]).touch()
        n = 0
        while True:  # pure computation, no sleep: only a kill stops it
            n = (n * 7 + 1) % 1_000_003
    return verify_response(gold, response, **kwargs)
