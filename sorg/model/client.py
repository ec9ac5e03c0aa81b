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

This module holds the look-up chain and what a live reply is charged and recorded as; how a
live call is made (retries, timeouts, concurrency, replicas) is `sorg.model.live`, the stored
entry's shape `sorg.model.entry`, and a miss's explanation `sorg.model.miss`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from sorg import progress
from sorg.errors import CassetteMiss, WriteFailed
from sorg.model import unsaved
from sorg.model.backends import RawReply, find_backend, is_recorded
from sorg.model.cassette import CassetteStore
from sorg.model.entry import completion_of, make_entry
from sorg.model.identity import request_key
from sorg.model.live import LOCAL_PREFIX, LiveCaller, run_sync
from sorg.model.miss import miss_cause, miss_message
from sorg.model.redact import redact_text, secret_values
from sorg.model.types import Completion, RecordMode, Request

__all__ = ["ModelClient", "LOCAL_PREFIX"]

_MODES: tuple[RecordMode, ...] = get_args(RecordMode)
_LIVE_FIRST = ("all", "rewrite")  # modes that call every key live once, ignoring recordings
USE_ENV = progress.SHARE_ENV  # the per-run folder shared by the run's processes (sorg.run_hooks)


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
    model_config: a litellm Router `model_list` file whose model names are served by its
        deployments (`sorg.model.routes`); None: the `model_config` setting.
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
        model_config: str | Path | None = None,
    ) -> None:
        if record not in _MODES:
            raise ValueError(f"record must be one of {_MODES}, got {record!r}")
        cache_path = Path(cache_dir) if cache_dir is not None else None
        # State shared by the run's processes (budget ledger, local server) lives next to the cache.
        self.state_dir = Path(state_dir) if state_dir is not None else (
            cache_path.parent if cache_path is not None else Path(".sorg"))
        #: How live calls are made (retries, timeouts, concurrency, embedded-model replicas).
        self.live = LiveCaller(retries, timeout_s, concurrency, self.state_dir,
                               backoff_s=backoff_s, max_backoff_s=max_backoff_s, model_config=model_config)
        self.record: RecordMode = record
        self.cassettes = CassetteStore(cassette_dir, cassette_name) if cassette_dir is not None else None
        self.cache_dir = cache_path
        self._cache: Any = None
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
        self._lock = threading.Lock()
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
        return run_sync(self._go_live(req, key))

    async def acomplete(self, req: Request) -> Completion:
        """The completion for `req`; live calls respect the per-model concurrency limit."""
        key = request_key(req)
        hit = self._replay(req, key)
        if hit is not None:
            return hit
        return await self._go_live(req, key)

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
        if not is_recorded(req.model):
            return None  # a pure backend (a simulated world): computed, never stored or replayed
        store = self.cassettes
        if store is not None and self.record == "rewrite" and key not in self._fresh:
            staged = store.staged(req.model, key)
            if staged is not None:  # paid by a rewrite that was killed: take it over, do not pay again
                store.put_rewrite(staged, self._run_name())
                self._fresh.add(key)
                self._used(req.model, key)
                return completion_of(staged, "cassette", key, req.model)
        if store is not None and (self.record not in _LIVE_FIRST or key in self._fresh):
            entry = store.get(req.model, key)
            if entry is not None:
                self._used(req.model, key)
                return completion_of(entry, "cassette", key, req.model)
            if self.record == "none" or (self.record == "once" and not store.may_record_once(
                    req.model, self.state_dir / f"once-{self._run_name()}.json")):
                cause = miss_cause(store, req)
                miss = CassetteMiss(miss_message(store, req, key, cause))
                # The model was never recorded, or the request changed for every trial (a
                # setting or the prompts): the plugin reports it once for the run, not per trial.
                miss.run_wide = not store.entries(req.model) or bool(cause)
                miss.cause = cause
                raise miss
        if self.record not in _LIVE_FIRST:
            cache = self._disk_cache()
            if cache is not None:
                entry = cache.get(key)
                if entry is not None and entry.get("model") == req.model:
                    if store is not None:  # record == "new"/"once": make the cassette complete
                        store.put({**entry, "label": redact_text(req.label, secret_values(req.params))})
                        self._used(req.model, key)
                    return completion_of(entry, "cache", key, req.model)
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

    # -- live --------------------------------------------------------------------------------

    def prices(self) -> Any:
        """This client's price table (pyproject + overrides), loaded on first live call."""
        if self._prices is None:
            from sorg.model.pricing import Prices

            self._prices = Prices(self._price_overrides)
        return self._prices

    async def _go_live(self, req: Request, key: str) -> Completion:
        """Call the model, unless another recorder of the same cassettes is calling it for the
        same request: then wait for it and replay its recording (record modes "new"/"once";
        "all"/"rewrite" mean to call again)."""
        store = self.cassettes
        if store is None or self.record in _LIVE_FIRST or self.record == "none":
            return await self._call_live(req, key)
        lock_file = store.inflight_lock(req.model, key)
        try:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return await self._call_live(req, key)
        lock = await _take(lock_file)
        try:
            entry = store.fresh_get(req.model, key)
            if entry is not None:  # recorded by the other recorder while this one waited
                self._used(req.model, key)
                return completion_of(entry, "cassette", key, req.model)
            return await self._call_live(req, key)
        finally:
            lock.release()
            try:
                lock_file.unlink()
            except OSError:
                pass

    async def _call_live(self, req: Request, key: str) -> Completion:
        """Call the model (within the budget and the concurrency limit), charge the reply,
        record it where the record mode says, and serve it."""
        with self._lock:
            self.live_calls += 1
        await self.live.prepare(req.model)
        async with self.live.semaphore(req.model):
            if self._budget is not None:
                self._budget.check(req.model, req.label)
            t0 = time.perf_counter()
            meter = self.meter
            if meter is not None:
                meter.start(req.model)
            try:
                raw, provider_model = await self.live.call(req)
            except BaseException:
                if meter is not None:
                    meter.end(req.model, ok=False)
                raise
            latency = time.perf_counter() - t0
        cost = self._cost(req, raw, provider_model)
        self._check_reply(req, raw, cost)
        recorded = is_recorded(req.model)
        if meter is not None:
            # a simulated world's declared prices are no spend: the progress line shows none
            meter.end(req.model, int(raw.prompt_tokens) + int(raw.completion_tokens),
                      cost if recorded else 0.0)
        if not recorded:
            # a pure backend (a simulated world): nothing to store (so no entry to build or
            # redact), and its declared prices are no real spend, so the budget is not charged
            return Completion(text=raw.text, prompt_tokens=int(raw.prompt_tokens),
                              completion_tokens=int(raw.completion_tokens), cost_usd=float(cost),
                              latency_s=round(latency, 4), model=req.model, source="live", key=key,
                              finish_reason=raw.finish_reason, model_version=raw.model_version)
        entry = make_entry(req, key, raw, cost, latency)
        failed = []  # a paid reply is kept even when the disk refuses a write (module `unsaved`)
        for what, write in (("budget ledger", lambda: self._budget is not None and self._budget.add(cost)),
                            ("cassette", lambda: self._record_entry(req, key, entry)),
                            ("cache", lambda: self._cache_entry(key, entry))):
            try:
                write()
            except OSError as exc:
                failed.append(f"{what}: {exc}")
        self._fresh.add(key)
        if failed:
            where = unsaved.keep(entry, self.state_dir, self.cassettes.root if self.cassettes is not None else None)
            raise WriteFailed(f"{req.model}{' for ' + req.label if req.label else ''}: the paid reply could not be "
                              f"saved ({'; '.join(failed)}); it is kept in {where}. Free disk space and rerun "
                              f"with the same --sorg-run-id (`sorg restore` puts kept replies back first)")
        return completion_of(entry, "live", key, req.model)

    def _check_reply(self, req: Request, raw: RawReply, cost: float) -> None:
        """A reply that cannot be stored is one provider error of its trial (charged, not
        recorded): over the `max_reply_bytes` setting (two 50 MB replies once made a 734 MB
        trials.jsonl and 2.1 GB of memory), or not valid Unicode (a lone surrogate crashed the
        trial when the cassette line was encoded)."""
        from sorg import options
        from sorg.errors import ModelError

        cap = options.setting("max_reply_bytes")
        size = len(raw.text.encode("utf-8", "surrogatepass"))
        problem = ""
        if cap is not None and size > cap:
            problem = (f"reply of {size:,} bytes is over the max_reply_bytes setting ({cap:,}; "
                       f"--sorg-max-reply-bytes, SORG_MAX_REPLY_BYTES)")
        else:
            try:
                raw.text.encode("utf-8")
            except UnicodeEncodeError as exc:
                problem = f"reply is not valid Unicode ({exc.reason} at character {exc.start})"
        if not problem:
            return
        if self._budget is not None:
            try:
                self._budget.add(cost)
            except OSError:
                pass
        raise ModelError(f"{req.model}{' for ' + req.label if req.label else ''}: {problem}")

    def _record_entry(self, req: Request, key: str, entry: dict[str, Any]) -> None:
        if self.cassettes is not None and self.record == "rewrite":
            self.cassettes.put_rewrite(entry, self._run_name())
            self._used(req.model, key)
        elif self.cassettes is not None and self.record != "none":
            self.cassettes.put(entry)
            self._used(req.model, key)

    def _cache_entry(self, key: str, entry: dict[str, Any]) -> None:
        cache = self._disk_cache()
        if cache is not None:
            cache.set(key, entry)

    def _cost(self, req: Request, raw: RawReply, provider_model: str | None) -> float:
        """What the reply cost in USD: a price the project set (pyproject,
        ModelClient(prices=...)) wins; else the cost the backend took from the whole response
        (cached-token discounts count); else the price table."""
        cost = None if req.model in self.prices().table else raw.cost_usd
        if cost is None:
            # A registered (test) backend without a price is free; a real model without one warns.
            cost = self.prices().cost(req.model, raw.prompt_tokens, raw.completion_tokens, provider_model,
                                      warn=find_backend(req.model) is None)
        return cost


async def _take(lock_file: Path) -> Any:
    """The in-flight lock of one request, waited for without blocking the event loop (other
    requests of this process go on meanwhile)."""
    import asyncio

    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_file), timeout=0)
    delay = 0.01
    while True:
        try:
            lock.acquire()
            return lock
        except Timeout:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

