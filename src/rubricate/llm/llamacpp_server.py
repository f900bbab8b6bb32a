"""A llama.cpp server (from the `xllamacpp` wheel) for one GGUF file, run as a child process on 127.0.0.1.

The server is llama.cpp's own OpenAI-compatible HTTP server (`/v1/chat/completions`, `/health`, JSON-schema
constrained output). `xllamacpp.Server` runs it inside the Python process that creates it, so rubricate
runs it in a child process of its own (this module's `__main__`): a crash or a hang of the model cannot take
the pipeline down, and the process can be killed.

No orphans: the child runs in its own process group (`stop()` signals the whole group), polls its parent and
exits when the parent is gone (also after a SIGKILL of the parent), and every server still running at
interpreter exit is stopped (atexit). Its stdout/stderr go to a log file whose path every error names.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rubricate.errors import RubricateError
from rubricate.processes import free_port, stop_process_group

HOST = "127.0.0.1"
_LOG_TAIL_CHARS = 2000


class LocalServerError(RubricateError):
    """The local llama.cpp server could not start or died."""


@dataclass(frozen=True)
class ServerSpec:
    """What decides a server: the file and the settings it was started with."""

    gguf: Path
    alias: str  # the model name the server answers to (`openai/<alias>` for litellm)
    threads: int = 2
    ctx_size: int = 4096  # per slot
    parallel: int = 1
    cache_prompt: bool = True

    def child_args(self, port: int) -> list[str]:
        return [
            "--gguf", str(self.gguf), "--alias", self.alias, "--port", str(port), "--threads", str(self.threads),
            "--ctx-size", str(self.ctx_size), "--parallel", str(self.parallel), "--cache-prompt", "1" if self.cache_prompt else "0",
            "--parent-pid", str(os.getpid()),
        ]


def log_tail(path: Path, chars: int = _LOG_TAIL_CHARS) -> str:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - chars))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


class LlamaCppServer:
    """Start with `with LlamaCppServer(spec, log_path) as server:` (or `start()`/`stop()`); `server.api_base`."""

    def __init__(self, spec: ServerSpec, log_path: Path, *, startup_timeout_s: float = 300.0) -> None:
        self.spec = spec
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0  # how many times a process was started (a restart after a crash counts)
        self.startup_s: float | None = None  # seconds the last start took (load + warm-up)
        self._lock = threading.Lock()

    # -- state -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise LocalServerError("the llama.cpp server is not started")
        return f"http://{HOST}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.url + "/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def describe_exit(self) -> str:
        code = self.exit_code()
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        return f"the llama.cpp server for {self.spec.gguf.name} (pid {self.pid}) {how}; its log: {self.log_path}"

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "LlamaCppServer":
        """Start the server and wait until /health answers; no-op when it is running. Raises LocalServerError."""
        with self._lock:
            if self.alive():
                return self
            _register(self)
            last: LocalServerError | None = None
            for _ in range(2):  # a port taken between choosing and binding: one more try on another port
                try:
                    self._start_once()
                    return self
                except LocalServerError as exc:
                    last = exc
                    if "bind" not in log_tail(self.log_path).lower():
                        break
            assert last is not None
            raise last

    def _start_once(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        t0 = time.monotonic()
        with self.log_path.open("ab") as log:
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"\n=== rubricate: starting llama.cpp server for {self.spec.gguf} on {HOST}:{self.port} at {started} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rubricate.llm.llamacpp_server", *self.spec.child_args(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() signals the server and nothing else
            )
        self.starts += 1
        deadline = t0 + self.startup_timeout_s
        while True:
            if not self.alive():
                raise LocalServerError(f"{self.describe_exit()} while starting. Last lines of the log:\n{log_tail(self.log_path)}")
            if self._healthy():
                self.startup_s = round(time.monotonic() - t0, 2)
                return
            if time.monotonic() > deadline:
                self.stop()
                raise LocalServerError(
                    f"the llama.cpp server for {self.spec.gguf.name} did not become healthy within {self.startup_timeout_s:.0f} s "
                    f"(llm.local.startup_timeout_s); it was stopped. Its log: {self.log_path}"
                )
            time.sleep(0.25)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False  # not listening yet, or 503 while loading

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after `timeout_s`."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        stop_process_group(proc, ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)))

    def kill(self) -> None:
        """SIGKILL the server at once (tests use it to simulate a crash)."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> "LlamaCppServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- one server per spec in a process; every server is stopped at exit ------------------------------
_RUNNING: "set[LlamaCppServer]" = set()
_SHARED: "dict[ServerSpec, LlamaCppServer]" = {}
_RUNNING_LOCK = threading.Lock()


def shared_server(spec: ServerSpec, log_path: Path, *, startup_timeout_s: float = 300.0) -> LlamaCppServer:
    """The process's server for `spec` (not started yet when new): the stages of one run, each with a backend of
    its own, load the model once and never run two copies of it side by side."""
    with _RUNNING_LOCK:
        server = _SHARED.get(spec)
        if server is None:
            server = _SHARED[spec] = LlamaCppServer(spec, log_path, startup_timeout_s=startup_timeout_s)
        return server


def _register(server: LlamaCppServer) -> None:
    with _RUNNING_LOCK:
        _RUNNING.add(server)


@atexit.register
def stop_all() -> None:
    with _RUNNING_LOCK:
        servers = list(_RUNNING)
        _RUNNING.clear()
    for s in servers:
        s.stop(timeout_s=3.0)


# -- the child process ------------------------------------------------------------------------------
def _serve(args: argparse.Namespace) -> None:
    import xllamacpp as xlc  # only the child loads llama.cpp

    p = xlc.CommonParams()
    p.model.path = args.gguf
    p.model_alias = {args.alias}
    p.n_parallel = args.parallel
    p.n_ctx = args.ctx_size * args.parallel  # llama.cpp splits n_ctx over the slots
    p.ctx_shift = False  # never drop tokens silently: a full context ends the answer (finish_reason "length") or fails
    p.cache_prompt = bool(args.cache_prompt)
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.hostnames = [HOST]
    p.port = args.port
    p.endpoint_metrics = True
    server = xlc.Server(p)  # loads the model and starts listening; returns once it serves
    print(f"rubricate: serving {args.gguf} at {server.listening_address}", flush=True)
    parent = args.parent_pid
    while True:  # exit with the parent, however it ended (a SIGKILLed parent runs no cleanup)
        time.sleep(0.5)
        if os.getppid() != parent:
            print("rubricate: parent process is gone; stopping", flush=True)
            os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run llama.cpp's server for one GGUF (started by rubricate; not for direct use).")
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx-size", type=int, default=4096)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--cache-prompt", type=int, default=1)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    if os.getppid() != args.parent_pid:
        sys.exit("rubricate: parent process is gone before the server started")
    print(json.dumps({"rubricate_llamacpp_args": vars(args)}), flush=True)
    _serve(args)


if __name__ == "__main__":
    main()
