"""The instrument gate: a quality scorer must rank the validation ladder before a claim reads it.

Why: a claim over a score that does not depend on the answer prints p-values about noise (on
the committed replay the 135M self-judge counted 1, 2, 3, 4 down the schema's keys; an empty
answer scored like the best one). So every scorer is checked on answers whose order is known
(`sorg.scoring.ladder`: empty < mission echoed < another task's answer < half < full) and a
claim over one that fails, or never ran the gate, reads "not measured" (`sorg.scoring.outcome`).

The checks, per scorer, over the gate's tasks (each declared with its threshold):

- ``monotone``: the mean over tasks of Kendall's tau-b between the rung's intended rank and
  its score is at least TAU_MIN (0.6). A constant score has no tau: it counts as 0.
- ``floor``: the empty answer scores no higher than any other rung of its task, on at least
  FLOOR_MIN (90%) of the tasks.
- ``stable``: asked the same question again at temperature 0 (a new call: the request's
  sample carries a tag, so neither the cache nor a cassette answers it with the first reply),
  at least STABLE_MIN (95%) of the ladder's scores come back identical.
- ``order`` (a judge that scores several dimensions in one call, `Scorer.dimensions`): asked
  with the dimensions in another order (each moved one slot: none keeps its place), at least
  ORDER_MIN (80%) of the (answer, dimension) scores stay the same, and no more of them stay
  with the *slot* than with the dimension (a judge that counts slots "follows key order").

The ladder's judge calls go through the run's model door like any call (cached, recorded in
cassettes: the plugin's gate records into the cassette file ``gate``). A call that cannot be
made (not recorded, no key) leaves the scorer "not run": a claim over it is not measured.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sorg.scoring.base import SCORERS, ScoreContext
from sorg.scoring.ladder import RUNGS, gate_tasks, ladder
from sorg.tasks.task import Task

__all__ = ["Check", "GateResult", "TAU_MIN", "kendall_tau", "run_gate", "validate_scorer"]

TAU_MIN = 0.6
FLOOR_MIN = 0.9
STABLE_MIN = 0.95
ORDER_MIN = 0.8
#: How many of the bank's tasks the gate runs on by default: a spread over the domains (one
#: each in the packaged bank) and levels, small enough for a CPU-bound judge (6 tasks x 5
#: answers x 3 askings = 90 judge calls for `judge_q`).
DEFAULT_TASKS = 6
#: The sample tag of the repeated question (the stability check).
AGAIN = "gate-again"

Status = Literal["passed", "failed", "not_run"]


@dataclass(frozen=True)
class Check:
    """One check of one scorer: its figure, the threshold it was held to, and the verdict."""

    name: str
    figure: float | None
    threshold: str
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class GateResult:
    """A scorer's gate result (`status` "passed", "failed" or "not_run", with `reason`)."""

    scorer: str
    status: Status
    checks: tuple[Check, ...] = ()
    tasks: int = 0
    judge_model: str | None = None
    reason: str = ""
    per_task: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def sentence(self) -> str:
        """What a claim over this instrument says: "judge_q failed validation (tau 0.02; follows
        key order)", "judge_q was not run through the gate (...)" or "judge_q passed validation"."""
        if self.status == "not_run":
            return f"{self.scorer} was not run through the gate ({self.reason})"
        word = "passed" if self.passed else "failed"
        return f"{self.scorer} {word} validation ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {"scorer": self.scorer, "status": self.status, "judge_model": self.judge_model,
                "tasks": self.tasks, "reason": self.reason, "sentence": self.sentence(),
                "checks": [c.__dict__ for c in self.checks], "per_task": dict(self.per_task)}


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b (ties in either variable corrected); None when either is constant."""
    n = len(x)
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif (dx > 0) == (dy > 0):
                conc += 1
            else:
                disc += 1
    denom = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return None if denom == 0 else (conc - disc) / denom


def moved_order(dims: Sequence[str]) -> tuple[str, ...]:
    """The dimensions each moved one slot on (a rotation: no dimension keeps its slot)."""
    return tuple(dims[1:]) + tuple(dims[:1])


async def _score_all(name: str, task: Task, answers: Sequence[str], client: Any, model: str,
                     judge_model: str | None, settings: Mapping[str, Any]) -> list[tuple[float | None, dict]]:
    """Every rung of one ladder scored at once (a judge's calls run concurrently, as a trial's do)."""
    scorer = SCORERS[name]
    ctxs = [ScoreContext(task=task, answer=answer, trial_id=f"gate:{task.id}:{RUNGS[k]}", model=model,
                         client=client, judge_model=judge_model, settings=dict(settings))
            for k, answer in enumerate(answers)]
    scores = await asyncio.gather(*(scorer.score(ctx) for ctx in ctxs))
    return [(s.value, dict(s.details)) for s in scores]


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


async def validate_scorer(name: str, tasks: Sequence[Task], refs: Mapping[str, Sequence[str]], *,
                          client: Any = None, model: str = "", judge_model: str | None = None) -> GateResult:
    """Run `name` over the ladders of `tasks` (each must have a reference) and judge the checks.
    A model call that fails (not recorded, unreachable) gives status "not_run" with the cause."""
    scorer = SCORERS[name]
    if not tasks:
        return GateResult(name, "not_run", judge_model=judge_model,
                          reason="no task of the bank has a reference answer to build a ladder from")
    if scorer.needs_model and client is None:
        return GateResult(name, "not_run", judge_model=judge_model, reason="no model door to ask the judge through")
    order_ids = sorted(refs)
    dims: tuple[str, ...] = tuple(getattr(scorer, "dimensions", ()) or ())
    taus: list[float] = []
    floor_ok = stable_hits = stable_n = failures = asked = 0
    dim_same = slot_same = pairs = 0
    per_task: dict[str, Any] = {}
    try:
        for task in tasks:
            rungs = ladder(task, refs, order_ids)
            answers = [r.answer for r in rungs]
            first = await _score_all(name, task, answers, client, model, judge_model, {})
            again = await _score_all(name, task, answers, client, model, judge_model, {"judge_sample": AGAIN})
            vals = [v for v, _ in first]
            asked += len(vals)
            failures += sum(v is None for v in vals)
            got = [(r.rank, v) for r, v in zip(rungs, vals) if v is not None]
            tau = kendall_tau([float(a) for a, _ in got], [b for _, b in got]) if len(got) >= 2 else None
            taus.append(tau or 0.0)
            if vals[0] is not None and all(v is None or vals[0] <= v for v in vals[1:]):
                floor_ok += 1
            for (v1, _), (v2, _) in zip(first, again):
                if v1 is not None and v2 is not None:
                    stable_n += 1
                    stable_hits += v1 == v2
            row: dict[str, Any] = {"scores": dict(zip(RUNGS, vals)), "tau": tau}
            if dims:
                moved = moved_order(dims)
                perm = await _score_all(name, task, answers, client, model, judge_model, {"judge_order": list(moved)})
                for (_, d1), (_, d2) in zip(first, perm):
                    if d1.get("failed", True) or d2.get("failed", True):
                        continue
                    for slot, d in enumerate(dims):
                        pairs += 1
                        dim_same += d1.get(d) == d2.get(d)
                        slot_same += d1.get(d) == d2.get(moved[slot])
                row["moved_scores"] = dict(zip(RUNGS, [v for v, _ in perm]))
            per_task[task.id] = row
    except Exception as exc:  # a call the door could not make: the gate did not run
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        return GateResult(name, "not_run", judge_model=judge_model,
                          reason=f"{type(exc).__name__}: {first_line}", per_task=per_task)
    mean_tau = math.fsum(taus) / len(taus)
    floor = _share(floor_ok, len(tasks))
    stable = _share(stable_hits, stable_n)
    checks = [
        Check("monotone", round(mean_tau, 4), f"mean Kendall tau >= {TAU_MIN}", mean_tau >= TAU_MIN),
        Check("floor", floor, f"empty at the floor on >= {FLOOR_MIN:.0%} of tasks",
              floor is not None and floor >= FLOOR_MIN),
        Check("stable", stable, f"same score when asked again on >= {STABLE_MIN:.0%}",
              stable is not None and stable >= STABLE_MIN),
    ]
    if dims:
        da, sa = _share(dim_same, pairs), _share(slot_same, pairs)
        ok = da is not None and sa is not None and da >= ORDER_MIN and da >= sa
        note = "follows key order" if (da is not None and sa is not None and sa > da) else ""
        checks.append(Check("order", da, f"dimension scores kept when reordered >= {ORDER_MIN:.0%} "
                                          f"and not fewer than the slot's (slot {_fmt(sa)})", ok, note))
    failed = [c for c in checks if not c.passed]
    parts = [f"tau {mean_tau:.2f}"] + [_why(c) for c in failed if c.name != "monotone"]
    if failures:
        parts.append(f"{failures} of {asked} ladder scores failed")
    return GateResult(name, "failed" if failed else "passed", tuple(checks), len(tasks), judge_model,
                      "; ".join(parts), per_task)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _why(c: Check) -> str:
    if c.name == "floor":
        return f"empty answer above the floor on {1 - (c.figure or 0):.0%} of tasks"
    if c.name == "stable":
        return f"unstable at temperature 0 ({_fmt(c.figure)} repeat)"
    if c.name == "order":
        return c.note or f"depends on key order ({_fmt(c.figure)} kept)"
    return f"{c.name} {_fmt(c.figure)}"


def run_gate(scorers: Sequence[str], tasks: Sequence[Task], refs: Mapping[str, Sequence[str]], *,
             client: Any = None, judge_models: Sequence[str | None] = (None,), model: str = "",
             n_tasks: int | None = DEFAULT_TASKS) -> list[GateResult]:
    """Every scorer through the gate (a model scorer once per judge model), over a spread of
    `n_tasks` of `tasks` with references. Synchronous: runs its own event loop."""
    picked = gate_tasks(tasks, refs, n_tasks)

    async def go() -> list[GateResult]:
        out = []
        for name in scorers:
            if SCORERS[name].needs_model:
                for jm in judge_models:
                    out.append(await validate_scorer(name, picked, refs, client=client, model=jm or model,
                                                     judge_model=jm))
            else:
                out.append(await validate_scorer(name, picked, refs))
        return out

    return asyncio.run(go())


def table(results: Sequence[GateResult]) -> str:
    """The gate as text: one line per scorer with each check's figure and verdict."""
    lines = []
    for r in results:
        head = f"{r.scorer}" + (f" [{r.judge_model}]" if r.judge_model else "")
        if r.status == "not_run":
            lines.append(f"{head}: NOT RUN - {r.reason}")
            continue
        checks = ", ".join(f"{c.name} {_fmt(c.figure)} {'ok' if c.passed else 'FAIL'}" for c in r.checks)
        lines.append(f"{head}: {r.status.upper()} over {r.tasks} tasks - {checks}")
    return "\n".join(lines)
