"""The litellm backend: any API model or OpenAI-compatible server (`vllm serve` as `hosted_vllm/<model>`).

The only module that imports litellm. Requests run concurrently on one event loop with at most
`max_concurrency` in flight; timeouts, 429 and 5xx are retried with exponential backoff and jitter
(honouring Retry-After), everything else fails at once. A failure is an error response, never an exception.
Cost comes from litellm's local cost map (no network); a model it does not know costs 0 and is counted.

With `llm.api_bases` (several servers of one model) every request goes through one litellm Router built with the
backend: it picks a server per request (`llm.router_strategy`), and a server that fails is cooled down for
`llm.router_cooldown_s` (litellm cools a deployment down on its first failure with allowed_fails 0) so the retry of
that request, and the requests after it, go to the others. The Router retries nothing itself: retries stay ours.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Sequence

from rubricate.errors import ConfigError
from rubricate.llm.backends import json_schema_format, sampling_params
from rubricate.llm.base import LLMConfig, LLMRequest, LLMResponse, ProgressFn
from rubricate.llm.thinking import split_thinking
from rubricate.llm.usage import Usage

# Never fetch the cost map from the network at import (it can hang for seconds and deadlock `mlflow server`).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402  (after the environment variable above)

litellm.suppress_debug_info = True
litellm.telemetry = False
logging.getLogger("LiteLLM").setLevel(logging.ERROR)

_RETRY_STATUS = {408, 409, 429}
_RETRY_TYPES: tuple[type[BaseException], ...] = (
    litellm.exceptions.Timeout,
    litellm.exceptions.APIConnectionError,
    litellm.exceptions.RateLimitError,
    litellm.exceptions.InternalServerError,
    litellm.exceptions.ServiceUnavailableError,
    litellm.exceptions.BadGatewayError,
    asyncio.TimeoutError,
)
_NO_RETRY_TYPES: tuple[type[BaseException], ...] = (
    litellm.exceptions.AuthenticationError,
    litellm.exceptions.BadRequestError,
    litellm.exceptions.NotFoundError,
    litellm.exceptions.PermissionDeniedError,
    litellm.exceptions.ContextWindowExceededError,
)

OnResponse = Callable[[int, LLMResponse], None]
Flush = Callable[[], None]  # writes every answer handed to on_response so far (blocking)


class _WriteBarrier:
    """No request is sent while an answer received before it is still unwritten.

    `flush` (a blocking write) runs in a thread so answers keep arriving meanwhile; one flush at a time,
    and each writes everything that arrived before it started (group commit). A process killed at any
    moment has therefore lost only the answers of requests in flight: at most `max_concurrency`.
    """

    def __init__(self, flush: Flush) -> None:
        self.flush = flush
        self.received = 0  # answers handed to on_response (counted on the event loop)
        self.written = 0  # of those, how many a finished flush covered
        self.running: asyncio.Future[None] | None = None

    async def _flush(self, upto: int) -> None:
        try:
            await asyncio.to_thread(self.flush)
            self.written = max(self.written, upto)
        finally:
            self.running = None

    async def wait(self) -> None:
        target = self.received
        while self.written < target:
            if self.running is None:
                self.running = asyncio.ensure_future(self._flush(self.received))
            await asyncio.shield(self.running)


def is_retryable(exc: BaseException) -> bool:
    """Timeouts, connection failures, 408/409/429 and 5xx are worth another try; other errors are final."""
    if isinstance(exc, _NO_RETRY_TYPES):
        return False
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in _RETRY_STATUS or status >= 500
    return isinstance(exc, _RETRY_TYPES)


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` value asks for: delta-seconds or an HTTP date (RFC 9110); None if unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT by definition
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    return seconds if seconds >= 0 and seconds == seconds else None  # negative or NaN: not a hint


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    if isinstance(headers, Mapping) and not hasattr(headers, "get_list"):  # a plain dict: keys keep their case
        return next((str(v) for k, v in headers.items() if str(k).lower() == name), None)
    value = headers.get(name)  # httpx.Headers: case-insensitive
    return None if value is None else str(value)


def _retry_after(exc: BaseException) -> float | None:
    """The server's wait hint. litellm keeps the response headers in `litellm_response_headers` (its own
    exceptions often carry a synthetic `response` without them); `retry-after-ms` is more precise."""
    for headers in (getattr(exc, "litellm_response_headers", None), getattr(getattr(exc, "response", None), "headers", None)):
        millis = retry_after_s(_header(headers, "retry-after-ms"))
        if millis is not None:
            return millis / 1000.0
        seconds = retry_after_s(_header(headers, "retry-after"))
        if seconds is not None:
            return seconds
    return None


class LiteLLMBackend:
    kind = "litellm"

    def __init__(self, cfg: LLMConfig) -> None:
        assert cfg.model, "build_backend checks llm.model"
        self.cfg = cfg
        self.model = cfg.model
        self.usage = Usage()
        self.api_key = self._api_key(cfg)
        self.router = self._router(cfg) if cfg.api_bases else None

    ROUTE = "rubricate"  # the Router's one model group: every server of `api_bases` serves it

    def _router(self, cfg: LLMConfig) -> Any:
        """One litellm Router over the servers of `cfg.api_bases`, built once per backend."""
        deployments = [
            {
                "model_name": self.ROUTE,
                "litellm_params": {"model": cfg.model, "api_base": base, **({"api_key": self.api_key} if self.api_key else {})},
                "model_info": {"id": f"server-{i}"},
            }
            for i, base in enumerate(cfg.api_bases)
        ]
        return litellm.Router(
            model_list=deployments, routing_strategy=cfg.router_strategy, num_retries=0, allowed_fails=0,
            cooldown_time=cfg.router_cooldown_s,
        )
    @staticmethod
    def _api_key(cfg: LLMConfig) -> str | None:
        if cfg.api_key_env:
            key = os.environ.get(cfg.api_key_env)
            if not key:
                raise ConfigError(f"llm.api_key_env names {cfg.api_key_env}, which is not set; export it (the key never goes in a config file)")
            return key
        # An OpenAI-compatible local server needs some key string; `hosted_vllm/` needs none.
        return "none" if cfg.api_base or cfg.api_bases else None

    def backoff_s(self, attempt: int, exc: BaseException) -> float:
        hinted = _retry_after(exc)
        if hinted is not None:
            return min(hinted, self.cfg.retry_max_s)
        base = self.cfg.retry_base_s * (2**attempt)
        return min(self.cfg.retry_max_s, base * (0.5 + random.random()))  # jitter: retries of a burst spread out

    # -- one request ---------------------------------------------------------------------------
    def _kwargs(self, request: LLMRequest) -> dict[str, Any]:
        params = sampling_params(self.cfg, request)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages],
            "timeout": self.cfg.timeout_s,
            "temperature": params["temperature"],
            "max_tokens": params["max_tokens"],
            "num_retries": 0,  # retries are ours (bounded, with backoff, counted)
            "max_retries": 0,
            "drop_params": True,  # a provider without `seed` or structured output still answers; the verdict parser checks
        }
        if params["seed"] is not None:
            kwargs["seed"] = params["seed"]
        if request.response_schema is not None:
            kwargs["response_format"] = json_schema_format(request.response_schema)
        if self.router is not None:  # the server, its key and the model are the Router's deployments
            kwargs["model"] = self.ROUTE
            return kwargs
        if self.cfg.api_base:
            kwargs["api_base"] = self.cfg.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        return kwargs

    def _to_response(self, request: LLMRequest, resp: Any, attempts: int, elapsed: float) -> LLMResponse:
        choice = resp.choices[0]
        message = choice.message
        reasoning_field = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
        text, reasoning = split_thinking(message.content, reasoning_field if isinstance(reasoning_field, str) else None)
        usage = getattr(resp, "usage", None)
        raw: dict[str, Any] = {"finish_reason": choice.finish_reason, "attempts": attempts, "latency_s": round(elapsed, 4)}
        hidden = getattr(resp, "_hidden_params", None) or {}
        cost_value = hidden.get("response_cost")  # litellm already priced it from its local cost map
        if cost_value is None:
            try:
                cost_value = litellm.completion_cost(completion_response=resp)
            except Exception:  # model not in the local cost map
                cost_value = None
        if cost_value is None:
            raw["cost_unknown"] = True
        if self.router is not None and hidden.get("api_base"):
            raw["api_base"] = hidden["api_base"]  # which of the servers answered
        cost = float(cost_value or 0.0)
        error = None if text is not None else f"empty answer (finish_reason={choice.finish_reason})"
        return LLMResponse(
            key=request.key, text=text, reasoning=reasoning, error=error,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0), completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=cost, raw=raw,
        )

    async def _one(self, request: LLMRequest, gate: asyncio.Semaphore, barrier: _WriteBarrier | None = None) -> LLMResponse:
        kwargs = self._kwargs(request)
        last: BaseException | None = None
        retries = max(0, self.cfg.max_retries - request.retries_used)  # one budget per question, shared with its re-asks
        for attempt in range(retries + 1):
            async with gate:  # the slot is released while backing off, so others keep the server busy
                if barrier is not None:
                    await barrier.wait()
                t0 = time.perf_counter()
                try:
                    resp = await (self.router.acompletion(**kwargs) if self.router is not None else litellm.acompletion(**kwargs))
                    return self._to_response(request, resp, attempt + 1, time.perf_counter() - t0)
                except Exception as exc:  # every failure becomes data; the loop decides whether to retry
                    last = exc
            if not is_retryable(last) or attempt == retries:
                break
            await asyncio.sleep(self.backoff_s(attempt, last))
        assert last is not None
        status = getattr(last, "status_code", None)
        tries = attempt + 1
        return LLMResponse(
            key=request.key, text=None,
            error=f"{type(last).__name__}{f' {status}' if status else ''} after {tries} attempt(s): {str(last)[:500]}",
            raw={"attempts": tries, "status_code": status, "gave_up": True},  # retries spent (or pointless): do not re-ask
        )

    async def _all(
        self, requests: Sequence[LLMRequest], progress: ProgressFn | None, on_response: OnResponse | None, flush: Flush | None
    ) -> list[LLMResponse]:
        gate = asyncio.Semaphore(self.cfg.max_concurrency)
        barrier = _WriteBarrier(flush) if flush is not None and on_response is not None else None
        out: list[LLMResponse | None] = [None] * len(requests)
        done = 0

        async def run(i: int, request: LLMRequest) -> None:
            nonlocal done
            resp = await self._one(request, gate, barrier)
            out[i] = resp
            done += 1
            if on_response:
                on_response(i, resp)  # no await since the answer came: no other request can go out before this
                if barrier is not None:
                    barrier.received += 1
            if progress and (done % 50 == 0 or done == len(requests)):
                progress(done, len(requests))

        await asyncio.gather(*(run(i, r) for i, r in enumerate(requests)))
        return [r for r in out if r is not None]

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressFn | None = None, on_response: OnResponse | None = None,
        flush: Flush | None = None,
    ) -> list[LLMResponse]:
        """One response per request, in order. Safe to call from code that already runs an event loop.

        `on_response(i, response)` sees each answer as it arrives; with `flush` too (the response cache's
        writer), every answer received is written before the next request is sent."""
        if not requests:
            return []
        coro_factory = lambda: self._all(requests, progress, on_response, flush)  # noqa: E731
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            responses = asyncio.run(coro_factory())
        else:  # inside a running loop (a notebook, an async caller): use a loop of our own in a thread
            box: list[list[LLMResponse]] = []
            thread = threading.Thread(target=lambda: box.append(asyncio.run(coro_factory())))
            thread.start()
            thread.join()
            responses = box[0]
        self.usage.add(responses)
        return responses
