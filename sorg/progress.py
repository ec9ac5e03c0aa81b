"""Live progress of a sweep that calls models: calls done and in flight, tokens, dollars
against the budget, throughput and an ETA, per model, on the controller's terminal.

Why files: under xdist the calls happen in worker processes, which the controller cannot
see. Each process's `ModelClient` keeps a `Meter` that rewrites a small JSON file in the
run's shared folder (``$SORG_RUN_SHARE/<pid>.meter.json``) at every live call's start and
end; the controller's `ProgressReporter` sums them. Only live calls count, so a pure replay
stays silent; `--sorg-progress=off` turns it off. The controller side is
`sorg.run_hooks.ProgressReporter`. A line is printed at most every
``SORG_PROGRESS_INTERVAL`` seconds (default 10), after a test finishes or, during a long
test, from a timer thread.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SHARE_ENV = "SORG_RUN_SHARE"
_METER_SUFFIX = ".meter.json"


class Meter:
    """This process's live-call counters per model, mirrored to its file after each change."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / f"{os.getpid()}{_METER_SUFFIX}"
        self.models: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def _model(self, model: str) -> dict[str, Any]:
        m = self.models.get(model)
        if m is None:
            m = self.models[model] = {"done": 0, "failed": 0, "in_flight": 0, "tokens": 0, "cost_usd": 0.0,
                                      "first_t": time.time()}
        return m

    def start(self, model: str) -> None:
        """A live call to `model` begins."""
        with self.lock:
            self._model(model)["in_flight"] += 1
            self._write()

    def end(self, model: str, tokens: int = 0, cost_usd: float = 0.0, ok: bool = True) -> None:
        """A live call to `model` ended (`ok` False: it failed after its retries)."""
        with self.lock:
            m = self._model(model)
            m["in_flight"] = max(0, m["in_flight"] - 1)
            m["done" if ok else "failed"] += 1
            m["tokens"] += int(tokens)
            m["cost_usd"] += float(cost_usd)
            m["last_t"] = time.time()
            self._write()

    def _write(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "models": self.models}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:  # progress is a courtesy: never fail a call over it
            pass


_METER: Meter | None = None
_METER_LOCK = threading.Lock()


def meter() -> Meter | None:
    """This process's meter, when the run has a shared folder (set by the plugin)."""
    global _METER
    folder = os.environ.get(SHARE_ENV)
    if not folder:
        return None
    with _METER_LOCK:
        if _METER is None or _METER.path.parent != Path(folder):
            _METER = Meter(folder)
        return _METER


def totals(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Per model, the sum over every process's meter file in `folder`."""
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(Path(folder).glob(f"*{_METER_SUFFIX}")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a file being replaced: next time
        for model, m in (data.get("models") or {}).items():
            t = out.setdefault(model, {"done": 0, "failed": 0, "in_flight": 0, "tokens": 0, "cost_usd": 0.0,
                                       "first_t": math.inf})
            for k in ("done", "failed", "in_flight", "tokens"):
                t[k] += int(m.get(k, 0))
            t["cost_usd"] += float(m.get("cost_usd", 0.0))
            t["first_t"] = min(t["first_t"], float(m.get("first_t", math.inf)))
            t["last_t"] = max(t.get("last_t", 0.0), float(m.get("last_t", 0.0)))
    return out


def _dur(s: float) -> str:
    s = int(max(0, s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else (f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s")


def render(per_model: Mapping[str, Mapping[str, Any]], now: float, tests_done: int, tests_total: int,
           budget_usd: float | None) -> str:
    """One progress line (empty when no live call has started: a pure replay says nothing)."""
    if not any(m["done"] or m["in_flight"] or m["failed"] for m in per_model.values()):
        return ""
    parts = []
    for model, m in sorted(per_model.items()):
        # Throughput over the time calls were being made (to the last one's end when idle).
        until = now if m["in_flight"] or not m.get("last_t") else m["last_t"]
        el = max(until - m["first_t"], 1e-9) if math.isfinite(m["first_t"]) else 0.0
        rate = f", {m['done'] / el * 60:.1f} calls/min, {m['tokens'] / el:.0f} tok/s" if el > 0 else ""
        fail = f", {m['failed']} failed" if m["failed"] else ""
        parts.append(f"{model}: {m['done']} calls done, {m['in_flight']} in flight{fail}, {m['tokens']:,} tok, "
                     f"${m['cost_usd']:.4f}{rate}")
    spent = math.fsum(m["cost_usd"] for m in per_model.values())
    money = f"${spent:.4f} spent" + (f" of ${budget_usd:.2f} budget ({100 * spent / budget_usd:.0f}%)"
                                     if budget_usd else " (no budget)")
    starts = [m["first_t"] for m in per_model.values() if math.isfinite(m["first_t"])]
    eta = ""
    if tests_total and 0 < tests_done < tests_total and starts:
        el = now - min(starts)
        eta = f" | ETA {_dur(el * (tests_total - tests_done) / tests_done)}"
    tests = f"tests {tests_done}/{tests_total}" if tests_total else f"tests {tests_done}"
    return f"sorg live | {tests} | " + " | ".join(parts) + f" | {money}{eta}"
