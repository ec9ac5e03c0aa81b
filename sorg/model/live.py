"""The live call behind the model door: one request to a backend, the embedded model or litellm.

Why a module of its own: `sorg.model.client.ModelClient` decides *whether* a request goes live
(after the cassette and the cache missed) and what is recorded afterwards; how the call is made
(which replica of the embedded model, the timeout per attempt, retries with backoff, which
faults are transient, the concurrency limit per model) is a separate concern with its own state
(semaphores per event loop, calls in flight per replica). Nothing here reads or writes a
cassette, the cache or the budget.

litellm and the embedded model are imported when a call needs them, never at import time, so
replaying from cassettes loads neither.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import weakref
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from sorg.errors import ModelError
from sorg.model.backends import ProviderError, RawReply, find_backend
from sorg.model.redact import redact_text, secret_values
from sorg.model.types import Request

__all__ = ["LOCAL_PREFIX", "LiveCaller", "run_sync"]

LOCAL_PREFIX = "local/"
T = TypeVar("T")


def embedded(model: str) -> bool:
    """Whether `model` goes to sorg's own llama.cpp servers (not a registered test backend)."""
    return model.startswith(LOCAL_PREFIX) and find_backend(model) is None


def connection_failure(exc: BaseException) -> str:
    """"connection refused" / "connection failed" when `exc` was caused by a connection that
    never opened (litellm wraps it as a 500), else "". Walks the cause chain, a few links."""
    import errno

    found = ""
    cur: BaseException | None = exc
    for _ in range(12):
        if cur is None:
            break
        if isinstance(cur, ConnectionRefusedError) or getattr(cur, "errno", None) == errno.ECONNREFUSED \
                or "connection refused" in str(cur).lower():
            return "connection refused"
        if type(cur).__name__ in ("ConnectError", "ClientConnectorError", "APIConnectionError"):
            found = "connection failed"
        nxt = cur.__cause__ or cur.__context__
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        cur = nxt
    return found


class LiveCaller:
    """Makes live calls for one `ModelClient`: retries, timeouts, concurrency, replicas.

    retries: further attempts after a transient fault (429, 5xx, timeout, connection
        error, empty reply), with exponential backoff from `backoff_s` (jittered, capped at
        `max_backoff_s`) or the provider's Retry-After when it is longer.
    timeout_s: limit on one attempt.
    concurrency: live calls in flight at once per model (per event loop).
    state_dir: the run's shared state; the embedded model's servers live under ``local/``.
    model_config: a litellm Router `model_list` file (`sorg.model.routes`); None: the
        `model_config` setting, read at the first live call.
    """

    def __init__(
        self,
        retries: int,
        timeout_s: float,
        concurrency: int,
        state_dir: Path,
        *,
        backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        model_config: str | os.PathLike[str] | None = None,
    ) -> None:
        if retries < 0 or concurrency < 1 or timeout_s <= 0:
            raise ValueError("need retries >= 0, concurrency >= 1, timeout_s > 0; "
                             f"got {retries}, {concurrency}, {timeout_s}")
        self.retries = retries
        self.timeout_s = float(timeout_s)
        self.concurrency = concurrency
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.state_dir = state_dir
        self._sems: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self._inflight: list[int] = []  # embedded-model calls in flight, per server replica
        self._last_replica: dict[str, int] = {}  # trial label -> the replica that served it last
        self._config_path = model_config
        self._config: Any = False  # not read yet

    def routes(self) -> Any:
        """The model config (`sorg.model.routes.ModelConfig`) of live calls, or None."""
        if self._config is False:
            from sorg.model import routes

            self._config = routes.configured(self._config_path)
        return self._config

    def routed(self, model: str) -> Any:
        """The model config that routes `model` (a name of its model_list), or None. A
        registered backend wins (tests), then the file, then the embedded model and litellm."""
        if find_backend(model) is not None:
            return None
        cfg = self.routes()
        return cfg if cfg is not None and model in cfg.names else None

    async def prepare(self, model: str) -> None:
        """Load litellm, build the model config's router, start (or find) the embedded model's
        servers, when `model` needs them: outside the per-call timeout, since loading a library
        or a GGUF is set-up, not the call."""
        if find_backend(model) is None:
            from sorg.model.backends import load_litellm

            load_litellm()  # once per process, before any timer or timeout starts
            cfg = self.routed(model)
            if cfg is not None:
                from sorg.model import routes

                routes.router(cfg)  # a router litellm refuses is a setting error, before any call
            elif model.startswith(LOCAL_PREFIX):
                from sorg.model import local

                await asyncio.to_thread(local.ensure_servers, self.state_dir / "local")

    def semaphore(self, model: str) -> asyncio.Semaphore:
        """The running event loop's limit on concurrent live calls to `model`."""
        loop = asyncio.get_running_loop()
        with self._lock:
            per_loop = self._sems.get(loop)
            if per_loop is None:
                per_loop = self._sems[loop] = {}
            sem = per_loop.get(model)
            if sem is None:
                sem = per_loop[model] = asyncio.Semaphore(self.concurrency)
        return sem

    async def _attempt(self, req: Request) -> tuple[RawReply, str | None]:
        backend = find_backend(req.model)
        if backend is not None:
            return await backend(req), None
        from sorg.model.backends import litellm_call

        cfg = self.routed(req.model)
        if cfg is not None:
            from sorg.model import routes

            return await litellm_call(req, model=req.model, timeout_s=self.timeout_s,
                                      router=routes.router(cfg), price=routes.reply_cost(cfg)), None
        if req.model.startswith(LOCAL_PREFIX):
            from sorg.model import local

            replica = self.take_replica(local.server_count(), req.label)
            try:
                api_base = await asyncio.to_thread(local.ensure_server,
                                                   local.replica_dir(self.state_dir / "local", replica))
                name = req.model[len(LOCAL_PREFIX):]
                raw = await litellm_call(
                    req, model=f"openai/{name}", timeout_s=self.timeout(req),
                    extra={"api_base": api_base, "api_key": "sk-local",
                           **({"response_format": local.adapt_response_format(req.response_format)}
                              if req.response_format is not None else {})},
                )
            finally:
                self.release_replica(replica)
            return RawReply(raw.text, raw.prompt_tokens, raw.completion_tokens,
                            local.model_version(), raw.finish_reason, raw.cost_usd), None
        return await litellm_call(req, model=req.model, timeout_s=self.timeout_s), req.model

    def _where(self, req: Request) -> str:
        cfg = self.routed(req.model)
        return f"every deployment of {req.model} in {cfg.path}" if cfg is not None else "the provider"

    def take_replica(self, count: int, label: str = "") -> int:
        """The embedded-model replica for the next call: the one with the fewest of this
        client's calls in flight (each answers one request at a time). Ties go first to the
        replica that served the same `label` (trial) last, then to the one this process prefers
        (pid modulo count), so xdist workers running one-call-at-a-time protocols each keep to
        their own server instead of queueing on replica 0.

        Why the trial first: llama-cpp-python reuses the longest common prefix with the previous
        prompt its server processed, and a trial's turns share the system prompt and the mission;
        kept on one server, that prefix is not processed again (benchmarks/bench_live_breakdown.py:
        21% of prompt time, about a tenth of a study call). The reply does not depend on it."""
        with self._lock:
            if len(self._inflight) != count:
                self._inflight = [0] * count
            first = os.getpid() % count
            order = [(first + i) % count for i in range(count)]
            last = self._last_replica.get(label) if label else None
            if last is not None and last < count:
                order.insert(0, last)
            pick = min(order, key=lambda i: self._inflight[i])
            self._inflight[pick] += 1
            if label:
                self._last_replica.pop(label, None)
                self._last_replica[label] = pick
                while len(self._last_replica) > 4096:  # oldest trials first
                    self._last_replica.pop(next(iter(self._last_replica)))
        return pick

    def release_replica(self, replica: int) -> None:
        """Note that a call taken with `take_replica` is no longer in flight."""
        with self._lock:
            self._inflight[replica] -= 1

    def timeout(self, req: Request) -> float:
        """`timeout_s`, or for the embedded model at least `local.call_timeout_s()` (its server
        cannot cancel a request, so a retry after a short timeout only doubles its queue)."""
        if embedded(req.model):
            from sorg.model import local

            return max(self.timeout_s, local.call_timeout_s())
        return self.timeout_s

    async def call(self, req: Request) -> tuple[RawReply, str | None]:
        """The reply to `req` and the model name the provider priced it under (None for a
        registered backend or the embedded model), after retrying transient faults.

        Raises `ModelError` (secrets redacted) when a fault is not transient or the
        attempts are used up.
        """
        secrets = secret_values(req.params)
        last = "no attempt made"
        attempts = self.retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                raw, provider_model = await asyncio.wait_for(self._attempt(req), timeout=self.timeout(req))
                if not raw.text.strip():
                    raise ProviderError("empty reply", retryable=True)
                return raw, provider_model
            except ProviderError as exc:
                refused = connection_failure(exc)
                if refused:  # litellm reports a refused connection as "InternalServerError (HTTP 500)"
                    where = req.params.get("api_base") or req.params.get("base_url") or self._where(req)
                    last = f"{refused} ({where}): no server answered"
                elif _MALFORMED.search(exc.message):  # litellm calls a 200 it cannot parse "HTTP 500"
                    last = f"malformed reply: the server's answer is not a chat completion ({exc.message})"
                else:
                    last = f"{exc.message}" + (f" (HTTP {exc.status})" if exc.status else "")
                if not exc.retryable:
                    raise ModelError(_error(req, last, attempt + 1, secrets)) from None
                retry_after = exc.retry_after
            except TimeoutError:
                last = f"no reply within {self.timeout(req):g} s (timeout)"
            except (ConnectionError, OSError) as exc:
                last = f"connection error: {exc}"
            if embedded(req.model):
                from sorg.model import local

                local.forget()  # the next attempt health-checks the server, restarting it if it died
            if attempt + 1 < attempts:
                delay = self.backoff_s * (2 ** attempt) * (0.5 + random.random())
                if retry_after is not None:
                    delay = max(delay, retry_after)
                await asyncio.sleep(min(delay, self.max_backoff_s))
        raise ModelError(_error(req, last, attempts, secrets))


#: How a JSON parser says a body was not JSON (litellm passes its message on, as an HTTP 500).
_MALFORMED = re.compile(r"Expecting (value|property name|',' delimiter|':' delimiter)|Unterminated string|"
                        r"Invalid control character|Extra data: line|Invalid response object|JSONDecodeError")


def _error(req: Request, message: str, attempts: int, secrets: list[str]) -> str:
    who = f" for {req.label}" if req.label else ""
    return redact_text(
        f"{req.model}{who} failed after {attempts} attempt(s): {message}", secrets
    )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion from sync code, even when called inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=runner, name="sorg-model-call")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
