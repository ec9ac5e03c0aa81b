"""The declared sweep: which sweep tests and claims the eval files declare, which this run
selected, and whether a claim may be judged.

Why: pytest decides what runs (`-k`, `-m`, `--lf`, `--deselect`, pytest-split, `-x`), and a
claim judged over part of a sweep can pass or fail where the full sweep would not. So the
plugin notes the sweep tests and claims *as collected, before any deselection* (the declared
sweep), and a claim is judged only when every declared sweep test has finished, in this run
or in the run directory it continues (a resumed run, merged shards, `--sorg-claims-only`).
Under xdist the controller collects nothing, so each worker writes its plan to a file the
controller named (a channel that survives `-x` stopping the workers early).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

PLAN_DIR_KEY = "sorg_plan_dir"


def is_sweep_item(item: pytest.Item) -> bool:
    """A sweep test: one that runs trials through the `sorg_trial` or `sorg_stream` fixture
    (not a claim). The sweep is counted in tests: a stream is one test whatever its length."""
    names = getattr(item, "fixturenames", ())
    return ("sorg_trial" in names or "sorg_stream" in names) and item.get_closest_marker("sorg_claim") is None


def is_claim_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("sorg_claim") is not None


@dataclass
class Plan:
    """What collection declared and selected (plain data: it crosses processes as JSON)."""

    declared: list[str] = field(default_factory=list)  # sweep test node ids before deselection
    selected: list[str] = field(default_factory=list)  # sweep test node ids that will run
    claims: list[dict] = field(default_factory=list)  # every declared claim's entry ("selected": bool)
    shard: str = ""  # "i/N" when --sorg-shard cut the sweep
    narrowed: bool = False  # this run's --sorg-* options are a slice of the project's sweep
    filtered: str = ""  # why collection itself may have left declared tests out (--lf), or ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls(**json.loads(text))


def parse_shard(value: str) -> tuple[int, int] | None:
    """`"i/N"` (1 <= i <= N) -> (i, N); "" or "none" -> None. Raises ValueError otherwise."""
    v = value.strip().lower()
    if v in ("", "none"):
        return None
    try:
        i, n = (int(x) for x in v.split("/"))
    except ValueError:
        raise ValueError(f"{value!r} is not i/N (e.g. 1/3)") from None
    if not 1 <= i <= n:
        raise ValueError(f"{value!r}: need 1 <= i <= N")
    return i, n


def shard_share(declared: Iterable[str], i: int, n: int) -> set[str]:
    """Shard i of n: every n-th sweep test of the sorted declared node ids, starting at the
    i-th. Deterministic from the declaration alone (not from -k or worker count), so N shard
    jobs together run every test exactly once; a test is a whole stream, never split."""
    ids = sorted(set(declared))
    return {nid for k, nid in enumerate(ids) if k % n == i - 1}


def new_plan_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="sorg-plan-")


def write_plan(plan_dir: str, worker_id: str, plan: Plan) -> None:
    """A worker's plan, written atomically (the controller may read while others write)."""
    p = Path(plan_dir) / f"{worker_id}.json"
    tmp = p.with_suffix(".tmp")
    tmp.write_text(plan.to_json(), encoding="utf-8")
    os.replace(tmp, p)


def write_no_plan(plan_dir: str | None, worker_id: str) -> None:
    """A worker that collected no sweep test and no claim says so, so the controller does not
    take a missing plan for one that could not reach it (a run of ordinary tests under xdist)."""
    if plan_dir:
        try:
            (Path(plan_dir) / f"{worker_id}.none").touch()
        except OSError:
            pass


def nothing_planned(plan_dir: str) -> bool:
    """Whether a worker reported that it collected nothing for sorg to judge."""
    return any(Path(plan_dir).glob("*.none"))


def read_plan(plan_dir: str) -> Plan | None:
    """The plan any worker wrote (xdist refuses to run when workers collect differently)."""
    for p in sorted(Path(plan_dir).glob("*.json")):
        try:
            return Plan.from_json(p.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            continue
    return None


@dataclass(frozen=True)
class Coverage:
    """How much of the declared sweep has finished, and why not all of it."""

    done: int
    total: int
    why: str = ""
    known: bool = True  # False: collection was filtered (--lf) and no stored sweep says what was declared

    @property
    def complete(self) -> bool:
        return self.known and self.total > 0 and self.done >= self.total

    def reason(self) -> str:
        """The skip reason of a claim over this coverage."""
        if self.total == 0 and not self.why:
            return ("partial sweep: 0 of 0 sweep tests (no sweep test was collected with the claims); run the claims "
                    "with their eval files, or over a complete stored run (--sorg-run-id=RUN --sorg-claims-only)")
        return f"partial sweep: {self.done} of {self.total} sweep tests" + (f" ({self.why})" if self.why else "")


def coverage(plan: Plan, finished: set[str], stored: dict[str, list[str]] | None,
             stored_declared: list[str] | None, stopped: str = "",
             cut: Mapping[str, str] | None = None, stored_claims: list[str] | None = None) -> Coverage:
    """Count the declared sweep tests that finished here or in the continued run directory.

    `finished`: sweep tests of this session whose every trial is stored ok; `stored`: the run
    directory's finished tests (`nodes.jsonl`); `stored_declared`: its `sweep.json`, used
    when this session declared no sweep (claims run alone over a stored run); `cut`: trial
    id -> status of this session's trials stored not ok (budget, error), named in the reason;
    `stored_claims`: the claims its `sweep.json` declares (a filtered collection must hold them all).
    """
    declared = set(plan.declared) or set(stored_declared or ())
    if plan.filtered:  # what was collected is not the declared sweep: only a stored one says
        declared = set(stored_declared or ()) | set(plan.declared)
    have = (finished | set(stored or ())) & declared
    missing = len(declared) - len(have)
    parts = []
    known = not plan.filtered or bool(stored_declared)
    if plan.filtered:
        parts.append(plan.filtered + ("" if known else " (and no stored run declares it)"))
        lacking = sorted(set(stored_claims or ()) - {c["nodeid"] for c in plan.claims})
        if lacking:
            known = False
            parts.append(f"{len(lacking)} declared claim(s) not collected, so the Holm family is incomplete")
    if missing:
        deselected = len(declared) - len(set(plan.selected)) if plan.declared else 0
        if plan.shard:
            parts.append(f"shard {plan.shard}")
        if deselected and plan.narrowed:
            parts.append(f"{deselected} outside this run's slice (the --sorg-* options narrow the project's sweep)")
        elif deselected:
            parts.append(f"{deselected} deselected")
        not_done = len(set(plan.selected) - have)
        if cut:
            kinds: dict[str, int] = {}
            for status in cut.values():
                kinds[status] = kinds.get(status, 0) + 1
            what = ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items()))
            parts.append(f"{len(cut)} trial(s) cut short ({what}): rerun with the same --sorg-run-id to complete them")
        if not_done:
            parts.append(f"{not_done} selected but without an ok record"
                         + (f": the run stopped early ({stopped})" if stopped else ""))
    return Coverage(len(have), len(declared), "; ".join(parts), known)


def plan_meta(plan: Plan, cov: Coverage) -> dict[str, Any]:
    """What claims.json says about the sweep the claims were (or were not) judged over."""
    return {"complete": cov.complete, "done": cov.done, "declared": cov.total, "why": cov.why,
            "shard": plan.shard, "family": sorted(c["nodeid"] for c in plan.claims),
            "selected_claims": sorted(c["nodeid"] for c in plan.claims if c.get("selected"))}


def collection_filter(config: Any) -> str:
    """Why pytest's collection may hold only part of the declared sweep, or "".

    `--lf` filters *at collection* (pytest's cache provider drops the tests of a file that
    did not fail last time before any hook sees them), so the sweep and claims collected are
    not the declared ones: such a run is never complete by itself (it can complete a stored
    run whose `sweep.json` declares the whole sweep). `-k`, `-m`, `--deselect` deselect after
    collection and are counted as deselected instead."""
    lf = config.pluginmanager.get_plugin("lfplugin")
    if lf is not None and getattr(lf, "active", False) and getattr(lf, "lastfailed", None):
        return "--lf collected only the tests that failed last time, not the declared sweep"
    return ""

