"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benchmarks (not shipped: it lives in tests/).

No model: a script (a Python callable) decides each answer from the request, so tests can exercise the
litellm backend over a real socket: slow answers, 429s, 5xx, bodies that are not JSON, answers that obey
instructions. `latency_s` and `max_concurrency` make it a server of known capacity
(max_concurrency / latency_s requests per second), which is what the throughput bench measures against.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    content: str | None = "ok"  # the assistant message
    status: int = 200
    raw_body: str | None = None  # sent as is instead of a completion (e.g. a body that is not JSON)
    delay_s: float = 0.0  # extra latency for this answer
    reasoning: str | None = None  # a separate reasoning field, as reasoning models' servers send
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"


Script = Callable[[dict[str, Any], int], Reply]  # (request body, 0-based call number) -> reply


def user_text(body: dict[str, Any]) -> str:
    """All user-message content of a request, joined."""
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")


def system_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # many clients connect at once; the default backlog of 5 drops connections
    allow_reuse_address = True


class StubOpenAIServer:
    """Start with `with StubOpenAIServer(script) as server:`; point clients at `server.url`."""

    def __init__(self, script: Script | None = None, *, latency_s: float = 0.0, max_concurrency: int | None = None) -> None:
        self.script: Script = script or (lambda body, n: Reply())
        self.latency_s = latency_s
        self.max_concurrency = max_concurrency
        self.bodies: list[dict[str, Any]] = []
        self._count = 0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        self._in_flight = 0
        self.max_in_flight = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "StubOpenAIServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they would with a real server

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, json.dumps({"error": {"message": "request body is not JSON"}}))
                    return
                with owner._lock:
                    n = owner._count
                    owner._count += 1
                    owner.bodies.append(body)
                if owner._slots:
                    owner._slots.acquire()
                try:
                    with owner._lock:
                        owner._in_flight += 1
                        owner.max_in_flight = max(owner.max_in_flight, owner._in_flight)
                    reply = owner.script(body, n)
                    if owner.latency_s or reply.delay_s:
                        time.sleep(owner.latency_s + reply.delay_s)
                finally:
                    with owner._lock:
                        owner._in_flight -= 1
                    if owner._slots:
                        owner._slots.release()
                self._send(reply.status, owner._body(reply, body, n), reply.headers)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/stats"):  # for clients in another process (the bench)
                    self._send(200, json.dumps({"n_requests": owner.n_requests, "max_in_flight": owner.max_in_flight}))
                    return
                self._send(200, json.dumps({"object": "list", "data": [{"id": "stub", "object": "model"}]}))

            def _send(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
                data = text.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): fine
                    pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "StubOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients see ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def n_requests(self) -> int:
        with self._lock:
            return self._count

    def reset_counts(self) -> None:
        with self._lock:
            self._count = 0
            self.bodies.clear()
            self.max_in_flight = 0

    @staticmethod
    def _body(reply: Reply, request: dict[str, Any], n: int) -> str:
        if reply.raw_body is not None:
            return reply.raw_body
        if reply.status >= 400:
            return json.dumps({"error": {"message": f"stub error {reply.status}", "type": "stub", "code": reply.status}})
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.reasoning is not None:
            message["reasoning_content"] = reply.reasoning
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
        completion_tokens = len((reply.content or "").split())
        return json.dumps({
            "id": f"chatcmpl-stub-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "stub"),
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        })


def main(argv: list[str] | None = None) -> int:
    """Serve a fixed answer from its own process (benchmarks): prints the URL, runs until killed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.stub_server", description=main.__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each answer takes")
    parser.add_argument("--concurrency", type=int, default=None, help="answers in progress at most (others queue)")
    parser.add_argument("--answer", default='{"verdict": "correct", "first_error_step": null, "explanation": "stub"}')
    args = parser.parse_args(argv)
    server = StubOpenAIServer(lambda body, n: Reply(content=args.answer), latency_s=args.latency, max_concurrency=args.concurrency).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
