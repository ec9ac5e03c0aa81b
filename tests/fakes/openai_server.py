"""A fake OpenAI-compatible chat server on loopback, scripted reply by reply.

Why a real HTTP server rather than a mock: litellm's openai-compatible path (httpx, the
openai SDK, litellm's error mapping) is what a provider call goes through; only a server
proves that retries, timeouts, Retry-After and secret handling work on that path.

    from tests.fakes.openai_server import FakeOpenAI, reply, error, malformed, empty, slow, hang
    with FakeOpenAI() as srv:                      # started on 127.0.0.1:<free port>
        srv.script(error(429, retry_after=0.1), reply("hello"))
        ... litellm model "openai/fake", api_base=srv.url ...
        srv.requests                               # every request: path, headers, body

Behaviours are used once each, in order; when the queue is empty `default` answers (an
echo of the last message, so different prompts get different replies).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FakeOpenAI", "Behaviour", "reply", "error", "malformed", "empty", "slow", "hang", "echo"]


@dataclass
class Behaviour:
    """What the server does for one request."""

    kind: str  # "reply" | "error" | "malformed" | "hang"
    text: str = ""
    status: int = 200
    message: str = ""
    retry_after: float | None = None
    delay_s: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    model: str = "fake-model-2026-01-01"
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)


def reply(text: str, *, prompt_tokens: int = 11, completion_tokens: int = 7,
          model: str = "fake-model-2026-01-01", delay_s: float = 0.0, finish_reason: str = "stop") -> Behaviour:
    """A normal chat completion with `text`."""
    return Behaviour("reply", text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                     model=model, delay_s=delay_s, finish_reason=finish_reason)


def error(status: int, message: str = "", *, retry_after: float | None = None) -> Behaviour:
    """An OpenAI-style error body with HTTP `status` (429, 500, 503, 401, ...)."""
    return Behaviour("error", status=status, message=message or f"fake provider error {status}",
                     retry_after=retry_after)


def malformed() -> Behaviour:
    """HTTP 200 whose body is not JSON."""
    return Behaviour("malformed")


def empty() -> Behaviour:
    """A well-formed completion whose content is empty."""
    return Behaviour("reply", text="")


def slow(seconds: float, text: str = "slow reply") -> Behaviour:
    """A normal reply after `seconds`."""
    return Behaviour("reply", text=text, delay_s=seconds)


def hang(max_s: float = 30.0) -> Behaviour:
    """No reply until the client gives up (or `max_s`, or the server stops)."""
    return Behaviour("hang", delay_s=max_s)


def echo(body: dict[str, Any]) -> Behaviour:
    """The default: "echo: <last message>" (seed and temperature appended when given)."""
    messages = body.get("messages") or [{}]
    last = messages[-1].get("content", "")
    extra = "".join(f" {k}={body[k]}" for k in ("seed",) if k in body)
    return reply(f"echo: {last}{extra}")


class FakeOpenAI:
    """The server; use as a context manager or call start()/stop()."""

    def __init__(self, default: Callable[[dict[str, Any]], Behaviour] = echo) -> None:
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self._queue: list[Behaviour] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The api_base to give litellm: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Behaviour) -> FakeOpenAI:
        """Queue behaviours, used one per request in order."""
        with self._lock:
            self._queue.extend(behaviours)
        return self

    def pending(self) -> int:
        """Scripted behaviours not used yet."""
        with self._lock:
            return len(self._queue)

    def chat_requests(self) -> list[dict[str, Any]]:
        """Logged POSTs to /chat/completions."""
        with self._lock:
            return [r for r in self.requests if urlsplit(r["path"]).path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------

    def _next(self, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
        return self.default(body)


def _make_handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            with server._lock:
                server.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers), "body": None})
            if urlsplit(self.path).path.rstrip("/").endswith("/models"):
                self._send(200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode())
            else:
                self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            with server._lock:
                server.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
            if not urlsplit(self.path).path.rstrip("/").endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            b = server._next(body)
            if b.kind == "hang":
                server._stopping.wait(b.delay_s)
                return self._send(503, b'{"error": {"message": "hung request released"}}')
            if b.delay_s:
                server._stopping.wait(b.delay_s)
            if b.kind == "malformed":
                return self._send(200, b"{this is not json")
            if b.kind == "error":
                headers = {"Retry-After": f"{b.retry_after:g}"} if b.retry_after is not None else {}
                payload = {"error": {"message": b.message, "type": "fake_error", "code": b.status}}
                return self._send(b.status, json.dumps(payload).encode(), headers)
            payload = {
                "id": f"chatcmpl-{time.time_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": b.model,
                "choices": [{"index": 0, "finish_reason": b.finish_reason,
                             "message": {"role": "assistant", "content": b.text}}],
                "usage": {"prompt_tokens": b.prompt_tokens, "completion_tokens": b.completion_tokens,
                          "total_tokens": b.prompt_tokens + b.completion_tokens},
            }
            self._send(200, json.dumps(payload).encode())

    return Handler
