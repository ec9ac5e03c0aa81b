"""The model door: every model call of sorg goes through `ModelClient`.

Look-up order for a request (named by `sorg.model.identity.request_key`):

1. the cassette (committed text recordings, `sorg.model.cassette`); with ``record="none"``
   a miss raises `CassetteMiss` and nothing else is tried, so what passes locally passes in
   CI, which has only the cassettes;
2. the disk cache (``cache_dir``, `sorg.model.cache`); in ``record="new"`` a cache hit is
   copied into the cassette, so a warm cache never leaves a cassette incomplete;
3. a live call: a registered backend (`sorg.model.backends.register_backend`), the embedded
   model (``local/...``, `sorg.model.local`) or litellm, with retries, a timeout per call,
   a concurrency limit per model and the run's USD budget. The reply is written to the
   cache and (``record`` "new"/"all") to the cassette; errors are never stored.

``record="all"`` re-records: the first time a key is met in this client it goes live (the
cache is not read), and the new entry is appended to the cassette; on reading, the later
line for a key wins (`sorg.model.cassette.compact` drops the older ones).
``record="rewrite"`` calls like "all" but stages each entry for the file its key came from
(new keys: this client's file); `sorg.model.cassette.finish_rewrite`, called by the plugin at
the end of the run, replaces each such file with exactly what the run called.
``record="once"`` records, like "new", only into a model's cassette file that did not exist
when the run started (a file the run created itself); with an existing file it replays only.

Every key served from a cassette or recorded is appended to ``$SORG_RUN_SHARE/<pid>.keys``
when that variable is set (the plugin sets it per run), so `sorg cassettes prune` can tell
which entries no trial of the run used; live calls also feed `sorg.progress`'s meter there.

Replay (steps 1-2) is synchronous and imports neither litellm nor asyncio machinery beyond
what the caller already uses: a replayed call costs a hash and a dict look-up.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import weakref
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sorg import progress
from sorg.errors import CassetteMiss, ModelError
from sorg.model.backends import ProviderError, RawReply, find_backend
from sorg.model.cassette import FORMAT_VERSION, CassetteStore
from sorg.model.identity import field_digests, request_key
from sorg.model.redact import clean_params, redact_text, secret_values
from sorg.model.types import Completion, RecordMode, Request, Source

__all__ = ["ModelClient", "LOCAL_PREFIX"]

LOCAL_PREFIX = "local/"


def _embedded(model: str) -> bool:
    """Whether `model` goes to sorg's own llama.cpp servers (not a registered test backend)."""
    return model.startswith(LOCAL_PREFIX) and find_backend(model) is None
_MODES = ("none", "new", "all", "once", "rewrite")
_LIVE_FIRST = ("all", "rewrite")  # modes that call every key live once, ignoring recordings
USE_ENV = progress.SHARE_ENV  # the per-run folder shared by the run's processes (sorg.run_hooks)
T = TypeVar("T")


def _last_message(req: Request) -> str:
    if not req.messages:
        return ""
    content = req.messages[-1].get("content", "")
    return content if isinstance(content, str) else str(content)


def _connection_failure(exc: BaseException) -> str:
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


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


class ModelClient:
    """One door to every model: cassette, then cache, then a live call (see module doc).

    Safe to share between coroutines of one event loop and between threads; each xdist
    worker makes its own (cassettes, cache and budget are shared through files).

    cassette_dir: root of the cassettes (None: no cassettes, cache then live).
    record: "none" (replay only; a miss raises CassetteMiss), "new" (record misses),
        "all" (re-record every request once in this client).
    cassette_name: file stem new entries go to (``<dir>/<model-slug>/<name>.jsonl``).
    cache_dir: diskcache directory (None: no cache). Its parent also holds the run's budget
        ledger and the embedded model's server state, unless `state_dir` says otherwise.
    budget_usd: USD limit on live calls for the whole run (all processes; see budget.py).
    retries: further attempts after a transient fault (429, 5xx, timeout, connection
        error, empty reply), with exponential backoff from `backoff_s` (jittered, capped at
        `max_backoff_s`) or the provider's Retry-After when it is longer.
    timeout_s: limit on one attempt.
    concurrency: live calls in flight at once per model (per event loop).
    prices: {model: {"input": USD/token, "output": USD/token}} over pyproject's
        ``[tool.sorg.prices]`` and litellm's cost map.
    meter: a `sorg.progress.Meter` counting live calls for the progress line, or None.
    """

    def __init__(
        self,
        cassette_dir: str | Path | None = "cassettes",
        record: RecordMode = "none",
        cassette_name: str = "default",
        cache_dir: str | Path | None = ".sorg/cache",
        budget_usd: float | None = None,
        retries: int = 4,
        timeout_s: float = 120,
        concurrency: int = 4,
        prices: Mapping[str, Any] | None = None,
        *,
        backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        state_dir: str | Path | None = None,
        meter: Any = None,
    ) -> None:
        if record not in _MODES:
            raise ValueError(f"record must be one of {_MODES}, got {record!r}")
        if retries < 0 or concurrency < 1 or timeout_s <= 0:
            raise ValueError("need retries >= 0, concurrency >= 1, timeout_s > 0; "
                             f"got {retries}, {concurrency}, {timeout_s}")
        self.record: RecordMode = record
        self.cassettes = CassetteStore(cassette_dir, cassette_name) if cassette_dir is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._cache: Any = None
        self.retries = retries
        self.timeout_s = float(timeout_s)
        self.concurrency = concurrency
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        # State shared by the run's processes (budget ledger, local server) lives next to the cache.
        self.state_dir = Path(state_dir) if state_dir is not None else (
            self.cache_dir.parent if self.cache_dir is not None else Path(".sorg"))
        self._price_overrides = prices
        self._prices: Any = None
        self._budget: Any = None
        if budget_usd is not None:
            from sorg.model.budget import Budget

            self._budget = Budget(budget_usd, self.state_dir)
        self._fresh: set[str] = set()  # keys recorded live by this client (record="all"/"rewrite")
        self._use_log: Any = None
        #: Counts live calls for the run's progress line (`sorg.progress.Meter`; the plugin
        #: passes the run's, so a client made elsewhere never shows on a sweep's terminal).
        self.meter = meter
        self._sems: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()
        self._inflight: list[int] = []  # embedded-model calls in flight, per server replica
        #: Calls that went past replay (to a backend or litellm): a trial runner keeps its
        #: event loop only across trials that made none (see `sorg.trial.run_trial`).
        self.live_calls = 0

    # -- public ------------------------------------------------------------------------------

    def complete(self, req: Request) -> Completion:
        """The completion for `req` (blocking). Replay never starts an event loop."""
        key = request_key(req)
        hit = self._replay(req, key)
        if hit is not None:
            return hit
        return _run_sync(self._live(req, key))

    async def acomplete(self, req: Request) -> Completion:
        """The completion for `req`; live calls respect the per-model concurrency limit."""
        key = request_key(req)
        hit = self._replay(req, key)
        if hit is not None:
            return hit
        return await self._live(req, key)

    def close(self) -> None:
        """Release the cache's database handle. The client stays usable (reopens lazily)."""
        if self._cache is not None:
            self._cache.close()
        if self._use_log is not None:
            self._use_log.close()
            self._use_log = None

    def _used(self, model: str, key: str) -> None:
        """Note that `key` was served or recorded (for `sorg cassettes prune`)."""
        folder = os.environ.get(USE_ENV)
        if not folder:
            return
        with self._lock:
            if self._use_log is None:
                os.makedirs(folder, exist_ok=True)
                self._use_log = open(os.path.join(folder, f"{os.getpid()}.keys"), "a", encoding="utf-8", buffering=1)
            self._use_log.write(f"{model}\t{key}\n")

    def _run_name(self) -> str:
        """The run this client records for: the plugin's per-run folder name (the same in all
        xdist workers and the controller), else the budget's run id."""
        folder = os.environ.get(USE_ENV)
        if folder:
            return os.path.basename(os.path.normpath(folder))
        from sorg.model.budget import run_id

        return run_id()

    # -- replay ------------------------------------------------------------------------------

    def _replay(self, req: Request, key: str) -> Completion | None:
        store = self.cassettes
        if store is not None and (self.record not in _LIVE_FIRST or key in self._fresh):
            entry = store.get(req.model, key)
            if entry is not None:
                self._used(req.model, key)
                return _completion(entry, "cassette", key, req.model)
            if self.record == "none" or (self.record == "once" and not store.may_record_once(
                    req.model, self.state_dir / f"once-{self._run_name()}.json")):
                miss = CassetteMiss(self._miss_message(req, key))
                # The model was never recorded: every trial of it misses; the plugin reports
                # such a fault once for the run rather than once per trial.
                miss.run_wide = not store.entries(req.model)
                raise miss
        if self.record not in _LIVE_FIRST:
            cache = self._disk_cache()
            if cache is not None:
                entry = cache.get(key)
                if entry is not None and entry.get("model") == req.model:
                    if store is not None:  # record == "new"/"once": make the cassette complete
                        store.put({**entry, "label": redact_text(req.label, secret_values(req.params))})
                        self._used(req.model, key)
                    return _completion(entry, "cache", key, req.model)
        return None

    def _disk_cache(self) -> Any:
        if self.cache_dir is None:
            return None
        if self._cache is None:
            from sorg.model.cache import DiskCache

            with self._lock:
                if self._cache is None:
                    self._cache = DiskCache(self.cache_dir)
        return self._cache

    def _miss_message(self, req: Request, key: str) -> str:
        assert self.cassettes is not None
        entries = self.cassettes.entries(req.model)
        who = req.label or "(no label)"
        lines = [
            f"no recorded reply for {who}: model {req.model!r}, sample {req.sample!r}, "
            f"last message {_short(redact_text(_last_message(req)))!r} (key {key[:12]}).",
        ]
        nearest = _nearest(req, entries.values())
        if nearest is None:
            lines.append(f"No recording of {req.model!r} under {self.cassettes.root}/ at all.")
        else:
            mine = field_digests(req)
            theirs = nearest.get("req") or {}
            diff = [f for f in mine if theirs.get(f, mine[f]) != mine[f]]
            shown = ", ".join(
                f"{f} ({theirs.get(f)!r} recorded, {mine[f]!r} asked)"
                if f not in ("messages", "params", "response_format")
                else f"{f} (content differs)" for f in diff
            ) or "none of the summarised fields (the request hash scheme changed?)"
            lines.append(
                f"Nearest recorded: sample {nearest.get('sample')!r}, last message {nearest.get('last', '')!r}"
                f" (label {nearest.get('label', '')!r}); fields that differ: {shown}."
            )
        lines.append(
            "To record it: rerun with --sorg-record=new (ModelClient(record='new')) where the model "
            "can be reached, then commit the cassette file "
            f"{self.cassettes.path_for(req.model)}."
        )
        return " ".join(lines)

    # -- live --------------------------------------------------------------------------------

    def _semaphore(self, model: str) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            per_loop = self._sems.get(loop)
            if per_loop is None:
                per_loop = self._sems[loop] = {}
            sem = per_loop.get(model)
            if sem is None:
                sem = per_loop[model] = asyncio.Semaphore(self.concurrency)
        return sem

    def prices(self) -> Any:
        """This client's price table (pyproject + overrides), loaded on first live call."""
        if self._prices is None:
            from sorg.model.pricing import Prices

            self._prices = Prices(self._price_overrides)
        return self._prices

    async def _live(self, req: Request, key: str) -> Completion:
        with self._lock:
            self.live_calls += 1
        if find_backend(req.model) is None:
            from sorg.model.backends import load_litellm

            load_litellm()  # once per process, before any timer or timeout starts
            if req.model.startswith(LOCAL_PREFIX):
                from sorg.model import local

                # Start (or find) the server outside the per-call timeout: loading the GGUF
                # is set-up, not the call.
                await asyncio.to_thread(local.ensure_servers, self.state_dir / "local")
        async with self._semaphore(req.model):
            if self._budget is not None:
                self._budget.check(req.model, req.label)
            t0 = time.perf_counter()
            meter = self.meter
            if meter is not None:
                meter.start(req.model)
            try:
                raw, provider_model = await self._call_with_retries(req)
            except BaseException:
                if meter is not None:
                    meter.end(req.model, ok=False)
                raise
            latency = time.perf_counter() - t0
        # A price the project set (pyproject, ModelClient(prices=...)) wins; else the cost the
        # backend took from the whole response (cached-token discounts count); else the table.
        cost = None if req.model in self.prices().table else raw.cost_usd
        if cost is None:
            # A registered (test) backend without a price is free; a real model without one warns.
            cost = self.prices().cost(req.model, raw.prompt_tokens, raw.completion_tokens, provider_model,
                                      warn=find_backend(req.model) is None)
        if self._budget is not None:
            self._budget.add(cost)
        if meter is not None:
            meter.end(req.model, int(raw.prompt_tokens) + int(raw.completion_tokens), cost)
        entry = self._entry(req, key, raw, cost, latency)
        if self.cassettes is not None and self.record == "rewrite":
            self.cassettes.put_rewrite(entry, self._run_name())
            self._used(req.model, key)
        elif self.cassettes is not None and self.record != "none":
            self.cassettes.put(entry)
            self._used(req.model, key)
        cache = self._disk_cache()
        if cache is not None:
            cache.set(key, entry)
        self._fresh.add(key)
        return _completion(entry, "live", key, req.model)

    def _entry(self, req: Request, key: str, raw: RawReply, cost: float, latency: float) -> dict[str, Any]:
        secrets = secret_values(req.params)
        params = clean_params(req.params or {})
        return {
            "v": FORMAT_VERSION,
            "key": key,
            "model": req.model,
            "sample": req.sample,
            "label": redact_text(req.label, secrets),
            "last": redact_text(_short(_last_message(req)), secrets),
            "req": {**field_digests(req), **({"params_shown": params} if params else {})},
            "reply": {
                "text": raw.text,
                "prompt_tokens": int(raw.prompt_tokens),
                "completion_tokens": int(raw.completion_tokens),
                "finish_reason": raw.finish_reason,
                "model_version": raw.model_version,
            },
            "cost_usd": float(cost),
            "latency_s": round(latency, 4),
        }

    async def _attempt(self, req: Request) -> tuple[RawReply, str | None]:
        backend = find_backend(req.model)
        if backend is not None:
            return await backend(req), None
        from sorg.model.backends import litellm_call

        if req.model.startswith(LOCAL_PREFIX):
            from sorg.model import local

            replica = self._take_replica(local.server_count())
            try:
                api_base = await asyncio.to_thread(local.ensure_server,
                                                   local.replica_dir(self.state_dir / "local", replica))
                name = req.model[len(LOCAL_PREFIX):]
                raw = await litellm_call(
                    req, model=f"openai/{name}", timeout_s=self._timeout(req),
                    extra={"api_base": api_base, "api_key": "sk-local",
                           **({"response_format": local.adapt_response_format(req.response_format)}
                              if req.response_format is not None else {})},
                )
            finally:
                with self._lock:
                    self._inflight[replica] -= 1
            return RawReply(raw.text, raw.prompt_tokens, raw.completion_tokens,
                            local.model_version(), raw.finish_reason, raw.cost_usd), None
        return await litellm_call(req, model=req.model, timeout_s=self.timeout_s), req.model

    def _take_replica(self, count: int) -> int:
        """The embedded-model replica for the next call: the one with the fewest of this
        client's calls in flight (each answers one request at a time). Ties go to the replica
        this process prefers (pid modulo count), so xdist workers running one-call-at-a-time
        protocols each keep to their own server instead of queueing on replica 0."""
        with self._lock:
            if len(self._inflight) != count:
                self._inflight = [0] * count
            first = os.getpid() % count
            order = [(first + i) % count for i in range(count)]
            pick = min(order, key=lambda i: self._inflight[i])
            self._inflight[pick] += 1
        return pick

    def _timeout(self, req: Request) -> float:
        """`timeout_s`, or for the embedded model at least `local.CALL_TIMEOUT_S` (its server
        cannot cancel a request, so a retry after a short timeout only doubles its queue)."""
        if _embedded(req.model):
            from sorg.model import local

            return max(self.timeout_s, local.CALL_TIMEOUT_S)
        return self.timeout_s

    async def _call_with_retries(self, req: Request) -> tuple[RawReply, str | None]:
        secrets = secret_values(req.params)
        last = "no attempt made"
        attempts = self.retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                raw, provider_model = await asyncio.wait_for(self._attempt(req), timeout=self._timeout(req))
                if not raw.text.strip():
                    raise ProviderError("empty reply", retryable=True)
                return raw, provider_model
            except ProviderError as exc:
                refused = _connection_failure(exc)
                if refused:  # litellm reports a refused connection as "InternalServerError (HTTP 500)"
                    where = req.params.get("api_base") or req.params.get("base_url") or "the provider"
                    last = f"{refused} ({where}): no server answered"
                else:
                    last = f"{exc.message}" + (f" (HTTP {exc.status})" if exc.status else "")
                if not exc.retryable:
                    raise ModelError(self._error(req, last, attempt + 1, secrets)) from None
                retry_after = exc.retry_after
            except TimeoutError:
                last = f"no reply within {self._timeout(req):g} s (timeout)"
            except (ConnectionError, OSError) as exc:
                last = f"connection error: {exc}"
            if _embedded(req.model):
                from sorg.model import local

                local.forget()  # the next attempt health-checks the server, restarting it if it died
            if attempt + 1 < attempts:
                delay = self.backoff_s * (2 ** attempt) * (0.5 + random.random())
                if retry_after is not None:
                    delay = max(delay, retry_after)
                await asyncio.sleep(min(delay, self.max_backoff_s))
        raise ModelError(self._error(req, last, attempts, secrets))

    def _error(self, req: Request, message: str, attempts: int, secrets: list[str]) -> str:
        who = f" for {req.label}" if req.label else ""
        return redact_text(
            f"{req.model}{who} failed after {attempts} attempt(s): {message}", secrets
        )


def _completion(entry: Mapping[str, Any], source: Source, key: str, model: str) -> Completion:
    reply = entry["reply"]
    return Completion(
        text=reply["text"],
        prompt_tokens=reply["prompt_tokens"],
        completion_tokens=reply["completion_tokens"],
        cost_usd=entry.get("cost_usd", 0.0),
        # A replay reports the latency recorded with the reply, so metrics computed from
        # cassettes reproduce those of the live run.
        latency_s=entry.get("latency_s", 0.0),
        model=model,
        source=source,
        key=key,
        finish_reason=reply.get("finish_reason"),
        model_version=reply.get("model_version") or "",
    )


def _nearest(req: Request, entries: Any) -> Mapping[str, Any] | None:
    """The recorded entry most like `req`: same sample first, then most fields equal, then text."""
    import difflib

    mine = field_digests(req)
    last = _short(_last_message(req))
    best: tuple[float, Mapping[str, Any]] | None = None
    sample_matcher = difflib.SequenceMatcher(None, "", req.sample)
    last_matcher = difflib.SequenceMatcher(None, "", last)
    for entry in entries:
        fields = entry.get("req") or {}
        same = sum(1 for f, v in mine.items() if fields.get(f) == v)
        sample_matcher.set_seq1(entry.get("sample", ""))
        last_matcher.set_seq1(entry.get("last", ""))
        score = same + sample_matcher.quick_ratio() + 0.5 * last_matcher.quick_ratio()
        if best is None or score > best[0]:
            best = (score, entry)
    return None if best is None else best[1]


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
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
