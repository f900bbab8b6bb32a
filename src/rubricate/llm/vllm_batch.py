"""The vllm_batch backend: offline GPU labelling with `vllm run-batch`, run from vLLM's own environment.

vLLM cannot live in the pipeline's environment (conflicting pins, a CUDA-only extension; see STACK.md),
so this backend only writes and reads files and starts `<vllm_executable> run-batch -i IN -o OUT --model M`
as a subprocess. The request file is OpenAI batch format (one `POST /v1/chat/completions` per line), so
the same file also works with providers' batch APIs. One subprocess per `batch_size` requests (one batch
per stage for most runs), never one per prompt. Requests keep the order the stage built them in: shared
instructions and rubric first in every prompt, the trace last, so vLLM's automatic prefix caching hits.
Results are matched back by custom_id; a line that failed, or is missing, becomes an error response.

NOT YET RUN AGAINST A REAL vLLM: the file contract is tested with a stand-in executable.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from rubricate.errors import ConfigError
from rubricate.ids import content_hash
from rubricate.llm.backends import json_schema_format, sampling_params
from rubricate.llm.base import LLMConfig, LLMRequest, LLMResponse, ProgressFn
from rubricate.llm.thinking import split_thinking
from rubricate.llm.usage import Usage

OnResponse = Callable[[int, LLMResponse], None]


def batch_line(cfg: LLMConfig, request: LLMRequest, custom_id: str) -> dict[str, Any]:
    """One request in OpenAI batch format."""
    params = sampling_params(cfg, request)
    body: dict[str, Any] = {
        "model": cfg.model,
        "messages": [dict(m) for m in request.messages],
        "temperature": params["temperature"],
        "max_tokens": params["max_tokens"],
    }
    if params["seed"] is not None:
        body["seed"] = params["seed"]
    if request.response_schema is not None:
        body["response_format"] = json_schema_format(request.response_schema)
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def write_batch(path: Path, lines: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    tmp.replace(path)


def parse_result_line(line: dict[str, Any]) -> tuple[str | None, LLMResponse]:
    """(custom_id, response) from one line of a batch output file."""
    custom_id = line.get("custom_id")
    key = str(custom_id)
    if line.get("error"):
        return custom_id, LLMResponse(key=key, text=None, error=f"batch line failed: {json.dumps(line['error'])[:500]}")
    response = line.get("response") or {}
    status = response.get("status_code", 200)
    # vLLM wraps the completion as {status_code, request_id, body}; accept a bare completion as well.
    body = response.get("body") or (response if "choices" in response else {})
    if status != 200:
        return custom_id, LLMResponse(key=key, text=None, error=f"batch line status {status}: {json.dumps(body)[:500]}")
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        return custom_id, LLMResponse(key=key, text=None, error=f"batch line has no choices[0].message: {json.dumps(body)[:500]}")
    reasoning_field = message.get("reasoning_content") or message.get("reasoning")
    text, reasoning = split_thinking(message.get("content"), reasoning_field if isinstance(reasoning_field, str) else None)
    usage = body.get("usage") or {}
    return custom_id, LLMResponse(
        key=key, text=text, reasoning=reasoning,
        error=None if text is not None else f"empty answer (finish_reason={choice.get('finish_reason')})",
        prompt_tokens=int(usage.get("prompt_tokens") or 0), completion_tokens=int(usage.get("completion_tokens") or 0),
        raw={"finish_reason": choice.get("finish_reason")},
    )


def read_results(path: Path) -> tuple[dict[str, LLMResponse], int]:
    """Responses by custom_id, and how many lines were not JSON (counted; they cannot be matched)."""
    results: dict[str, LLMResponse] = {}
    unreadable = 0
    if not path.is_file():
        return results, unreadable
    with path.open(encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                unreadable += 1
                continue
            if not isinstance(line, dict):
                unreadable += 1
                continue
            custom_id, resp = parse_result_line(line)
            if custom_id is not None:
                results[str(custom_id)] = resp
    return results, unreadable


class VLLMBatchBackend:
    kind = "vllm_batch"

    def __init__(self, cfg: LLMConfig) -> None:
        assert cfg.model, "build_backend checks llm.model"
        if not cfg.vllm_executable:
            raise ConfigError(
                "llm.kind is 'vllm_batch' but llm.vllm_executable is not set; point it at the `vllm` program of the "
                "separate vLLM environment (`make vllm-env` makes one at .venv-vllm/bin/vllm on a GPU machine)"
            )
        exe = Path(cfg.vllm_executable).expanduser()
        if not (exe.is_file() and os.access(exe, os.X_OK)):
            raise ConfigError(f"llm.vllm_executable {exe} is not an executable file; run `make vllm-env` on the GPU machine or fix the path")
        self.cfg = cfg
        self.model = cfg.model
        self.executable = exe
        self.usage = Usage()
        default_dir = Path(os.environ.get("RUBRICATE_DATA_DIR") or "data") / "llm-batches"
        self.batch_dir = Path(cfg.batch_dir).expanduser() if cfg.batch_dir else default_dir

    def command(self, in_path: Path, out_path: Path) -> list[str]:
        return [str(self.executable), "run-batch", "-i", str(in_path), "-o", str(out_path), "--model", str(self.model), *self.cfg.vllm_args]

    def _run_chunk(self, chunk: Sequence[LLMRequest]) -> list[LLMResponse]:
        ids = [f"r{i}-{content_hash(r.key, length=8)}" for i, r in enumerate(chunk)]
        folder = (self.batch_dir / content_hash(self.model, [batch_line(self.cfg, r, c) for r, c in zip(chunk, ids)], length=20)).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        in_path, out_path, log_path = folder / "in.jsonl", folder / "out.jsonl", folder / "vllm.log"
        write_batch(in_path, [batch_line(self.cfg, r, c) for r, c in zip(chunk, ids)])
        out_path.unlink(missing_ok=True)
        t0 = time.perf_counter()
        failure: str | None = None
        try:
            with log_path.open("w", encoding="utf-8") as log:
                proc = subprocess.run(self.command(in_path, out_path), stdout=log, stderr=subprocess.STDOUT, timeout=self.cfg.batch_timeout_s, check=False)
            if proc.returncode != 0:
                failure = f"vllm run-batch exited with code {proc.returncode}; see {log_path}: {_tail(log_path)}"
        except subprocess.TimeoutExpired:
            failure = f"vllm run-batch ran past llm.batch_timeout_s={self.cfg.batch_timeout_s}s; see {log_path}"
        except OSError as exc:
            failure = f"cannot start {self.executable}: {exc}"
        results, unreadable = read_results(out_path)
        elapsed = time.perf_counter() - t0
        out: list[LLMResponse] = []
        for request, cid in zip(chunk, ids):
            resp = results.get(cid)
            if resp is None:
                why = failure or (f"no result line for {cid} in {out_path}" + (f" ({unreadable} unreadable lines)" if unreadable else ""))
                resp = LLMResponse(key=request.key, text=None, error=why)
            resp.key = request.key
            resp.raw = {**resp.raw, "batch": str(folder), "batch_s": round(elapsed, 3)}
            out.append(resp)
        return out

    def complete(self, requests: Sequence[LLMRequest], progress: ProgressFn | None = None, on_response: OnResponse | None = None) -> list[LLMResponse]:
        out: list[LLMResponse] = []
        size = self.cfg.batch_size
        for start in range(0, len(requests), size):
            chunk = self._run_chunk(requests[start : start + size])
            for j, resp in enumerate(chunk):
                if on_response:
                    on_response(start + j, resp)
            out.extend(chunk)
            if progress:
                progress(len(out), len(requests))
        self.usage.add(out)
        return out


def _tail(path: Path, n: int = 800) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-n:].replace("\n", " | ")
