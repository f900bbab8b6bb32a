"""`llm.kind: llamacpp`: a local GGUF model behind llama.cpp's server, reached through the litellm backend.

rubricate starts the server (rubricate.llm.llamacpp_server) on 127.0.0.1 the first time a batch needs it
(a rerun answered wholly from the response cache starts nothing) and sends every request through
`LiteLLMBackend` as `openai/<alias>` with the server's `api_base`: the local model exercises exactly the code
that `vllm serve` or an API model goes through (retries, structured output, token counts).

Faults stay data: a server that dies mid-batch is restarted (at most `llm.local.max_restarts` times per
backend) and the requests it did not answer are sent again; when it cannot be restarted they come back as
error responses that name the exit and the log. A prompt longer than the context is an error response that
says how long it was and which setting to raise (never a silent cut: context shifting is off).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from rubricate.llm.base import LLMConfig, LLMRequest, LLMResponse, ProgressFn
from rubricate.llm.llamacpp_server import LlamaCppServer, LocalServerError, ServerSpec, shared_server
from rubricate.llm.local_models import default_data_dir, model_alias, resolve_gguf
from rubricate.llm.usage import Usage

if TYPE_CHECKING:  # imported where used: litellm is slow to import
    from rubricate.llm.litellm_backend import LiteLLMBackend

log = logging.getLogger(__name__)

OnResponse = Callable[[int, LLMResponse], None]
Flush = Callable[[], None]

_CONTEXT_ERROR = re.compile(r"exceed_context_size|exceeds the available context|context size|context length", re.IGNORECASE)
_NUMBERS = re.compile(r"\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)")


def default_threads() -> int:
    """Half the visible cores, at least one. llama.cpp's threads spin while they wait, so more threads than
    idle cores collapses speed: on a busy 2-core machine SmolLM2 made 0.8 tokens/s with 2 threads and 18.6
    with 1 (README "Local model")."""
    return max(1, (os.cpu_count() or 2) // 2)


def check_weights(cfg: LLMConfig, data_dir: Path) -> Path:
    """The configured model's GGUF file; WeightsError naming the fetch command when it is missing or not the expected file."""
    return resolve_gguf(cfg.model or "", data_dir, models_folder=Path(cfg.local.models_dir) if cfg.local.models_dir else None)


class LlamaCppBackend:
    kind = "llamacpp"

    def __init__(self, cfg: LLMConfig, *, data_dir: Path | None = None) -> None:
        assert cfg.model, "build_backend checks llm.model"
        self.cfg = cfg
        self.model = cfg.model  # the known name or GGUF path as configured: part of cache keys and judge ids
        local = cfg.local
        data_dir = data_dir or default_data_dir()
        self.gguf = check_weights(cfg, data_dir)
        self.alias = model_alias(cfg.model)
        spec = ServerSpec(
            gguf=self.gguf, alias=self.alias, threads=local.threads or default_threads(), ctx_size=local.ctx_size,
            parallel=local.parallel, cache_prompt=local.cache_prompt,
        )
        log_dir = Path(local.log_dir) if local.log_dir else data_dir / "llm-logs"
        self.server: LlamaCppServer = shared_server(spec, log_dir / f"llamacpp-{self.alias}.log", startup_timeout_s=local.startup_timeout_s)
        self.restarts = 0
        self._used = False  # this backend has had the server running (a death after that counts as a restart)
        self.usage = Usage()

    # -- the server ----------------------------------------------------------------------------------
    def start(self) -> "LlamaCppBackend":
        """Start the server now (it starts by itself on the first batch that needs it)."""
        self.server.start()
        return self

    def close(self) -> None:
        """Stop the server (shared by every backend of this process for the same model and settings)."""
        self.server.stop()

    def __enter__(self) -> "LlamaCppBackend":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure_server(self) -> None:
        """Start the server if it is not running. A server that died under this backend is restarted at most
        `max_restarts` times; a new backend (the next stage or run) starts a stopped or dead server afresh."""
        if self.server.alive():
            self._used = True
            return
        if self._used:
            if self.restarts >= self.cfg.local.max_restarts:
                raise LocalServerError(
                    f"{self.server.describe_exit()}; it was restarted {self.restarts} time(s) under this backend already "
                    f"(llm.local.max_restarts={self.cfg.local.max_restarts}); look at the log, then rerun"
                )
            self.restarts += 1
            log.warning("%s; restarting it (%d of at most %d)", self.server.describe_exit(), self.restarts, self.cfg.local.max_restarts)
        self.server.start()
        self._used = True

    def _litellm(self) -> LiteLLMBackend:
        from rubricate.llm.litellm_backend import LiteLLMBackend

        # One request per slot in flight: more would wait in the server's queue while their timeout runs.
        return LiteLLMBackend(self.cfg.model_copy(update={
            "kind": "litellm", "model": f"openai/{self.alias}", "api_base": self.server.api_base, "api_key_env": None,
            "max_concurrency": min(self.cfg.max_concurrency, self.cfg.local.parallel),
        }))

    # -- requests ------------------------------------------------------------------------------------
    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressFn | None = None, on_response: OnResponse | None = None,
        flush: Flush | None = None,
    ) -> list[LLMResponse]:
        """One response per request, in order; failures are error responses (see the module docstring).

        `flush` (the response cache's writer) goes to the litellm backend, so every answer received is written
        before the next request is sent, as for any served model."""
        if not requests:
            return []
        out: list[LLMResponse | None] = [None] * len(requests)
        todo = list(range(len(requests)))
        while True:
            self._ensure_server()
            sent = [requests[i] for i in todo]
            on_one = (lambda j, resp, idx=todo: on_response(idx[j], resp)) if on_response else None
            answers = self._litellm().complete(
                sent, progress=progress if len(todo) == len(requests) else None, on_response=on_one, flush=flush
            )
            for i, resp in zip(todo, answers):
                out[i] = self._explain(resp)
            failed = [i for i in todo if not out[i].ok]  # type: ignore[union-attr]
            if self.server.alive() or not failed:
                break
            # The server died during the batch: what it did not answer is asked again after a restart.
            died = self.server.describe_exit()
            if self.restarts >= self.cfg.local.max_restarts:
                for i in failed:
                    out[i] = LLMResponse(
                        key=requests[i].key, text=None, raw=dict(out[i].raw),  # type: ignore[union-attr]
                        error=f"{died}; this request was not answered and the server was not restarted "
                        f"(llm.local.max_restarts={self.cfg.local.max_restarts}); rerun to ask it again. Last error: {out[i].error}",  # type: ignore[union-attr]
                    )
                break
            todo = failed
        result = [r for r in out if r is not None]
        self.usage.add(result)
        return result

    def _explain(self, resp: LLMResponse) -> LLMResponse:
        """Say what a context overflow means for this server and which setting to change."""
        if resp.error is None or not _CONTEXT_ERROR.search(resp.error):
            return resp
        numbers = _NUMBERS.search(resp.error)
        sizes = f"the prompt has {numbers.group(1)} tokens, the context {numbers.group(2)}" if numbers else "the prompt does not fit the context"
        resp.error = (
            f"context overflow: {sizes} (llm.local.ctx_size={self.cfg.local.ctx_size} per slot); not judged. "
            f"Raise llm.local.ctx_size or shorten the input. Server said: {resp.error[:300]}"
        )
        resp.raw["context_overflow"] = True
        return resp
