"""The DuckDB response cache in front of every backend: a rerun makes no repeated calls, a killed run resumes.

The key is a hash of (backend, model, messages, response schema, sampling parameters, sample index); the
messages carry the prompt template's text, so a changed prompt is a new key. Responses are written while
the batch is still running. A backend that sends requests one by one (litellm) is handed the writer's
`flush` and writes every answer it received before it sends the next request, so a run killed with
SIGKILL loses only the answers in flight (at most `llm.max_concurrency`); a batch backend (vllm_batch)
hands over whole batches, written every `flush_every` answers. Errors are not cached: they are asked
again next time.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

import polars as pl

from rubricate.ids import content_hash
from rubricate.llm.backends import sampling_params
from rubricate.llm.base import LLMBackend, LLMConfig, LLMRequest, LLMResponse, ProgressFn
from rubricate.llm.usage import Usage
from rubricate.store.db import utcnow

if TYPE_CHECKING:
    from rubricate.store import Store

OnResponse = Callable[[int, LLMResponse], None]  # (index into the requests handed to the backend, response)


def cache_key(backend: str, model: str, cfg: LLMConfig, request: LLMRequest) -> str:
    return content_hash(backend, model, request.messages, request.response_schema, sampling_params(cfg, request), request.sample_index, length=32)


class ResponseCache:
    """Read and write cached responses in the store's `llm_cache` table."""

    def __init__(self, store: "Store") -> None:
        self.store = store

    def get(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached rows for the keys that have one."""
        if not keys:
            return {}
        frame = self.store.frame("llm/select_llm_cache", incoming=pl.DataFrame({"cache_key": list(dict.fromkeys(keys))}, schema={"cache_key": pl.Utf8}))
        return {row["cache_key"]: row for row in frame.iter_rows(named=True)}

    def put(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        frame = pl.DataFrame(
            rows,
            schema={
                "cache_key": pl.Utf8, "backend": pl.Utf8, "model": pl.Utf8, "prompt_id": pl.Utf8, "sampling": pl.Utf8,
                "text": pl.Utf8, "reasoning": pl.Utf8, "prompt_tokens": pl.Int64, "completion_tokens": pl.Int64,
                "cost_usd": pl.Float64, "raw": pl.Utf8,
            },
        )
        return self.store.insert_frame("llm/insert_llm_cache", frame, {"created_at": utcnow()})


class _Writer:
    """Buffers successful responses and writes them in batches while a backend is still working.

    `__call__` runs on the backend's thread and only buffers (a write every `flush_every` answers or
    `flush_s` seconds at the latest); `flush` may run in another thread, one at a time, and writes all
    that is buffered when it starts.
    """

    def __init__(self, cache: ResponseCache, rows_for: Callable[[int, LLMResponse], dict[str, Any]], flush_every: int, flush_s: float) -> None:
        self.cache, self.rows_for, self.flush_every, self.flush_s = cache, rows_for, flush_every, flush_s
        self.buffer: list[dict[str, Any]] = []
        self.last = time.monotonic()
        self.lock = threading.Lock()  # guards the buffer
        self.writing = threading.Lock()  # one write at a time, in order

    def __call__(self, index: int, response: LLMResponse) -> None:
        if not response.ok:
            return
        with self.lock:
            self.buffer.append(self.rows_for(index, response))
            due = len(self.buffer) >= self.flush_every or time.monotonic() - self.last >= self.flush_s
        if due:
            self.flush()

    def flush(self) -> None:
        with self.writing:
            with self.lock:
                rows, self.buffer = self.buffer, []
                self.last = time.monotonic()
            self.cache.put(rows)

    def close(self) -> None:
        self.flush()


class CachedBackend:
    """Any backend behind the response cache. Same interface; `usage` counts cache hits separately."""

    def __init__(self, inner: LLMBackend, cfg: LLMConfig, store: "Store", *, flush_every: int = 256, flush_s: float = 2.0) -> None:
        self.inner = inner
        self.cfg = cfg
        self.kind = inner.kind
        self.model = inner.model
        self.cache = ResponseCache(store)
        self.usage = Usage()
        self.flush_every, self.flush_s = flush_every, flush_s

    def key(self, request: LLMRequest) -> str:
        return cache_key(self.kind, self.model, self.cfg, request)

    def complete(self, requests: Sequence[LLMRequest], progress: ProgressFn | None = None) -> list[LLMResponse]:
        keys = [self.key(r) for r in requests]
        hits = self.cache.get(keys)
        out: list[LLMResponse | None] = [None] * len(requests)
        for i, (req, key) in enumerate(zip(requests, keys)):
            row = hits.get(key)
            if row is not None:
                out[i] = LLMResponse(
                    key=req.key, text=row["text"], reasoning=row["reasoning"], prompt_tokens=int(row["prompt_tokens"]),
                    completion_tokens=int(row["completion_tokens"]), cost_usd=float(row["cost_usd"]), cached=True,
                    raw=json.loads(row["raw"]) if row["raw"] else {},
                )
        # One call per distinct key: identical requests in a batch share the answer.
        first_of: dict[str, int] = {}
        for i, key in enumerate(keys):
            if out[i] is None and key not in first_of:
                first_of[key] = i
        todo = list(first_of.values())
        n_hit = len(requests) - sum(1 for o in out if o is None)
        if progress:
            progress(n_hit, len(requests))
        if todo:
            sent = [requests[i] for i in todo]

            def row_for(j: int, resp: LLMResponse) -> dict[str, Any]:
                req = sent[j]
                return {
                    "cache_key": keys[todo[j]], "backend": self.kind, "model": self.model, "prompt_id": req.prompt_id,
                    "sampling": json.dumps({**sampling_params(self.cfg, req), "sample_index": req.sample_index}),
                    "text": resp.text, "reasoning": resp.reasoning, "prompt_tokens": resp.prompt_tokens,
                    "completion_tokens": resp.completion_tokens, "cost_usd": resp.cost_usd,
                    "raw": json.dumps(resp.raw, default=str),
                }

            writer = _Writer(self.cache, row_for, self.flush_every, self.flush_s)
            inner_progress = (lambda done, _total: progress(n_hit + done, len(requests))) if progress else None
            try:
                fresh = _complete_with_callback(self.inner, sent, inner_progress, writer)
            finally:
                writer.close()
            by_key = {keys[i]: resp for i, resp in zip(todo, fresh)}
            sent_at = set(todo)
            for i, key in enumerate(keys):
                if out[i] is None:
                    resp = by_key[key]
                    # Duplicates of a request answered in this batch count as cache hits: no call was made for them.
                    out[i] = resp if i in sent_at else _copy_as_cached(resp, requests[i].key)
                elif out[i].key != requests[i].key:  # type: ignore[union-attr]
                    out[i].key = requests[i].key  # type: ignore[union-attr]
        result = [o for o in out if o is not None]
        self.usage.add(result)
        return result


def _copy_as_cached(resp: LLMResponse, key: str) -> LLMResponse:
    return LLMResponse(key=key, text=resp.text, reasoning=resp.reasoning, error=resp.error, cached=resp.ok, raw=dict(resp.raw))


def _complete_with_callback(backend: Any, requests: list[LLMRequest], progress: ProgressFn | None, on_response: _Writer) -> list[LLMResponse]:
    """Call `backend.complete` with a per-response callback when it takes one (litellm, vllm_batch), and
    with the writer's flush when it can write before each request (litellm)."""
    params = inspect.signature(backend.complete).parameters
    if "flush" in params:
        return backend.complete(requests, progress=progress, on_response=on_response, flush=on_response.flush)
    if "on_response" in params:
        return backend.complete(requests, progress=progress, on_response=on_response)
    responses = backend.complete(requests, progress=progress)
    for i, r in enumerate(responses):
        on_response(i, r)
    return responses
