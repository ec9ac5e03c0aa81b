"""One USD budget per run, shared by every process of the run (xdist workers).

Why a file: xdist workers are separate processes; a per-process budget would let 32 workers
spend 32 times the limit. The ledger is a small JSON file (``budget-<run>.json`` next to the
cache directory) updated under a lock (`sorg.model.locks`: filelock, on the sidecar
``budget-<run>.json.lock``). The run is named by the `run_id` setting (`sorg.options`:
``--sorg-run-id``, ini ``sorg_run_id``, env ``SORG_RUN_ID``), read when the ledger is opened,
else by xdist's PYTEST_XDIST_TESTRUNUID (the same in all workers of one session), else by this
process.

The check is made before each live call and the cost added after it, so the calls already
in flight when the limit is reached finish (at most one per concurrency slot): finished work
is kept, further live calls raise BudgetExceeded.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

from sorg import options
from sorg.errors import BudgetExceeded, SettingError
from sorg.model.locks import locked

__all__ = ["Budget", "run_id"]

_PROCESS_RUN = f"p{os.getpid()}-{uuid.uuid4().hex[:8]}"


def run_id(explicit: str | None = None) -> str:
    """The current run's name, made file-name safe: `explicit`, else the `run_id` setting, else
    xdist's test-run uid, else this process (see module doc)."""
    raw = explicit or options.setting("run_id") or os.environ.get("PYTEST_XDIST_TESTRUNUID") or _PROCESS_RUN
    return re.sub(r"[^A-Za-z0-9._-]+", "-", raw)[:80]


class Budget:
    """A ledger of USD spent by live calls in this run, limited to `limit_usd`; `run` names the
    run (default: `run_id()`)."""

    def __init__(self, limit_usd: float, folder: str | os.PathLike[str], run: str | None = None) -> None:
        if limit_usd < 0:
            raise SettingError("budget_usd", limit_usd, "Budget(limit_usd=...)", "must be >= 0")
        self.limit_usd = float(limit_usd)
        self.path = Path(folder) / f"budget-{run_id(run)}.json"

    def _update(self, add: float) -> float:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
            try:
                raw = os.read(fd, 1 << 16)
                spent = float(json.loads(raw)["spent_usd"]) if raw.strip() else 0.0
            finally:
                os.close(fd)
            if add:
                spent += add
                self._replace(json.dumps({"spent_usd": spent, "limit_usd": self.limit_usd}).encode())
            return spent

    def _replace(self, data: bytes) -> None:
        """Write the ledger whole to a temp file, then rename it over the old one: a full disk
        fails the write and leaves the old ledger as it was (truncating it in place first made
        a failed write read as $0 spent, lifting the budget)."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
            try:
                if os.write(fd, data) != len(data):
                    raise OSError(28, f"short write to {tmp}")
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    def spent(self) -> float:
        """USD spent so far by all processes of this run."""
        return self._update(0.0)

    def check(self, model: str, label: str = "") -> None:
        """Raise BudgetExceeded if the run's budget is spent (called before a live call)."""
        spent = self.spent()
        if spent >= self.limit_usd - 1e-9:  # float sums of prices land a hair under the limit
            who = f" for {label}" if label else ""
            raise BudgetExceeded(
                f"run budget of ${self.limit_usd:.4f} spent (${spent:.4f} so far, ledger {self.path}); "
                f"no live call to {model}{who}. Finished work is kept; raise --sorg-budget to continue"
            )

    def add(self, cost_usd: float) -> None:
        """Record the cost of a finished live call."""
        if cost_usd:
            self._update(cost_usd)
