"""What a run directory knows about its sweep, beside its trials: `sweep.json` and `nodes.jsonl`.

Why: a claim may only be judged over the complete sweep its eval files declare. A run that
was cut (`-k`, `--lf`, a shard, `-x`) or resumed later, a merged set of shards, or a stored
run judged by `--sorg-claims-only` must all be able to say whether every declared test has
finished, so the run directory keeps
- `sweep.json`: the sweep test node ids the eval files declared (collected before any
  deselection) and the claims they declared (the Holm family);
- `nodes.jsonl`: one line per finished sweep test, `{"nodeid": ..., "trial_ids": [...]}`,
  appended when its report arrives (so a killed run keeps what finished). One test may
  yield several trials (a task stream): completeness is counted in tests, not trial ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SWEEP_FILE = "sweep.json"
NODES_FILE = "nodes.jsonl"


def write_sweep(run_dir: str | os.PathLike[str], declared: Iterable[str], claims: Iterable[str],
                **extra: Any) -> Path:
    """Write `sweep.json` atomically (sorted, so shards of one sweep write identical files)."""
    p = Path(run_dir) / SWEEP_FILE
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{SWEEP_FILE}.{os.getpid()}.tmp")
    data = {"declared": sorted(set(declared)), "claims": sorted(set(claims)), **extra}
    tmp.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p


def read_sweep(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """`sweep.json` of a run directory, or None when the run never declared one."""
    p = Path(run_dir) / SWEEP_FILE
    if not p.exists():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def read_nodes(run_dir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Finished sweep tests of a run: node id -> trial ids it produced (the last line of a
    node wins; a line cut short by a kill is ignored)."""
    p = Path(run_dir) / NODES_FILE
    out: dict[str, list[str]] = {}
    if not p.exists():
        return out
    with p.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # a write cut short by a kill: that test did not finish, as far as we know
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("nodeid"), str):
                out[obj["nodeid"]] = [str(t) for t in obj.get("trial_ids") or ()]
    return out


class NodeLog:
    """Appends finished sweep tests to `nodes.jsonl`; opened on the first append."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.path = Path(run_dir) / NODES_FILE
        self._fh: Any = None

    def append(self, nodeid: str, trial_ids: list[str]) -> None:
        """Record that `nodeid` finished with these trials (flushed before returning)."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._repair_tail()
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps({"nodeid": nodeid, "trial_ids": trial_ids}, ensure_ascii=False) + "\n")
        self._fh.flush()

    def _repair_tail(self) -> None:
        if self.path.exists():
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):
                with open(self.path, "rb+") as fh:
                    fh.truncate(data.rfind(b"\n") + 1)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
