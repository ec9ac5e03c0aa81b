"""The plan a coordinator (or team lead) writes: roles, phases and subtasks for every worker.

Shared by `coordinator` and `hierarchical`. The paper's coordinator "assigns every other agent
a role and a phase": so the plan covers every worker at any team size. It is asked for as a
short list of parts (a role, a phase 1-3, a subtask, and how many workers take it), because a
2,048-token context cannot hold 255 separate assignments; `allocate` then gives every worker
exactly one part, in proportion to the counts the plan asked for (a part with no usable count
gets one worker; what is left is shared out in plan order). Whatever comes back, every worker
gets an assignment: a plan that cannot be read falls back to one generic part, so a weak
model's bad plan degrades the answer, not the trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sorg.agents import json_object

#: At most this many distinct parts in one plan (what fits the plan call's token budget).
MAX_PARTS = 8

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assignments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string"},
                    "phase": {"type": "integer", "minimum": 1, "maximum": 3},
                    "subtask": {"type": "string"},
                    "workers": {"type": "integer", "minimum": 1},
                },
                "required": ["role", "phase", "subtask", "workers"],
            },
        }
    },
    "required": ["assignments"],
}
PLAN_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "plan", "schema": PLAN_SCHEMA}}


@dataclass(frozen=True)
class Part:
    """One part of a plan: the role that takes it, its phase, what to write, how many workers."""

    role: str
    subtask: str
    phase: int = 1
    workers: int = 1


FALLBACK = (Part("specialist", "Write the most important part of the answer."),)


def _int(value: Any, lo: int, hi: int, default: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    return min(hi, max(lo, n))


def read_plan(text: str) -> tuple[list[Part], bool]:
    """The parts of a plan reply (at most MAX_PARTS), and whether it could be read."""
    obj = json_object(text)
    items = obj.get("assignments") if isinstance(obj, dict) else None
    out: list[Part] = []
    if isinstance(items, list):
        for it in items:
            if not isinstance(it, dict):
                continue
            role, sub = str(it.get("role", "")).strip(), str(it.get("subtask", "")).strip()
            if role or sub:
                out.append(Part(role or "specialist", sub or "Write your part of the answer.",
                                _int(it.get("phase"), 1, 3, 1), _int(it.get("workers"), 1, 1024, 1)))
            if len(out) == MAX_PARTS:
                break
    return (out, True) if out else (list(FALLBACK), False)


def allocate(parts: list[Part], workers: int) -> list[Part]:
    """One part per worker, for all `workers`: in proportion to the parts' worker counts.

    Every part gets at least one worker while workers last (parts beyond the team size go
    unstaffed); the rest go to parts by largest remainder of their asked share, ties in plan
    order. The result lists worker 1's part first.
    """
    if workers <= 0:
        return []
    parts = parts or list(FALLBACK)
    staffed = parts[:workers]
    counts = [1] * len(staffed)
    left = workers - len(staffed)
    if left:
        asked = [max(0, p.workers - 1) for p in staffed]
        total = sum(asked) or len(staffed)
        shares = [(a if sum(asked) else 1) * left / total for a in asked]
        base = [int(x) for x in shares]
        rest = left - sum(base)
        order = sorted(range(len(staffed)), key=lambda i: (-(shares[i] - base[i]), i))
        for i in order[:rest]:
            base[i] += 1
        counts = [c + b for c, b in zip(counts, base)]
    out: list[Part] = []
    for p, c in zip(staffed, counts):
        out.extend([p] * c)
    return out
