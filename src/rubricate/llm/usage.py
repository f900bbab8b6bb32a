"""A per-run account of LLM use: requests, cache hits, errors, tokens and cost."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Iterable

from rubricate.llm.base import LLMResponse, TokenSpend


@dataclass
class Usage(TokenSpend):  # the tokens and cost are of calls actually made (cached responses cost nothing now)
    requests: int = 0  # responses handed back (cached ones included)
    cached: int = 0  # answered from the response cache: no call made
    errors: int = 0
    cost_unknown: int = 0  # calls whose model is not in litellm's cost map (counted as 0 USD)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, responses: Iterable[LLMResponse]) -> None:
        with self._lock:
            for r in responses:
                self.requests += 1
                if r.cached:
                    self.cached += 1
                    continue
                if r.error is not None:
                    self.errors += 1
                self.add_spend(r)
                if r.raw.get("cost_unknown"):
                    self.cost_unknown += 1

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def __add__(self, other: "Usage") -> "Usage":
        a, b = self.as_dict(), other.as_dict()
        return Usage(**{k: a[k] + b[k] for k in a})  # type: ignore[arg-type]
