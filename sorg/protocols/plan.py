"""The plan a coordinator (or team lead) writes: roles and subtasks for its workers.

Shared by `coordinator` and `hierarchical`. Asked for as JSON; whatever comes back, every
worker gets an assignment (the plan's items are reused in turn, and a plan that cannot be
read falls back to generic parts), so a weak model's bad plan degrades the answer, not the
trial.
"""

from __future__ import annotations

from typing import Any

from sorg.agents import json_object

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assignments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"role": {"type": "string"}, "subtask": {"type": "string"}},
                "required": ["role", "subtask"],
            },
        }
    },
    "required": ["assignments"],
}
PLAN_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "plan", "schema": PLAN_SCHEMA}}
FALLBACK = (("specialist", "Write the most important part of the answer."),)


def read_plan(text: str) -> tuple[list[tuple[str, str]], bool]:
    """(role, subtask) pairs from a plan reply, and whether it could be read."""
    obj = json_object(text)
    items = obj.get("assignments") if isinstance(obj, dict) else None
    out: list[tuple[str, str]] = []
    if isinstance(items, list):
        for it in items:
            if isinstance(it, dict):
                role, sub = str(it.get("role", "")).strip(), str(it.get("subtask", "")).strip()
                if role or sub:
                    out.append((role or "specialist", sub or "Write your part of the answer."))
    return (out, True) if out else (list(FALLBACK), False)


def assignment(plan: list[tuple[str, str]], i: int) -> tuple[str, str]:
    """The i-th worker's assignment: plans shorter than the team are reused in turn."""
    return plan[i % len(plan)]
