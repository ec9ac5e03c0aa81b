"""The four complexity levels of the study (docs/STUDY.md "Levels"), as checkable bounds.

The paper: L1 is one domain and 3-5 steps; L4 is three or more domains, stakeholders whose
demands conflict and information the team must notice is missing; L2 and L3 lie in between.
sorg makes "in between" precise (the ranges overlap at their ends, so one more step or domain
moves a task up):

======  =========  =========  =========================  ======================
level   domains    steps      stakeholders (conflicting)  missing information
======  =========  =========  =========================  ======================
L1      1          3-5        any (usually none)          none
L2      1-2        4-6        any                         any
L3      2-3        5-8        any                         any
L4      >= 3       >= 6       >= 2, named in the prompt   >= 1
======  =========  =========  =========================  ======================

Each task of the bank lists its `domains`, `steps`, `stakeholders` and `missing`
information; the loader refuses a task whose lists do not fit its level (`level_problems`),
and each missing item names the rubric element that detects an answer noticing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["LevelSpec", "LEVELS", "level_problems"]


@dataclass(frozen=True)
class LevelSpec:
    """Inclusive bounds for one level; None is unbounded."""

    domains: tuple[int, int | None]
    steps: tuple[int, int | None]
    stakeholders: tuple[int, int | None]
    missing: tuple[int, int | None]


LEVELS: dict[int, LevelSpec] = {
    1: LevelSpec(domains=(1, 1), steps=(3, 5), stakeholders=(0, None), missing=(0, 0)),
    2: LevelSpec(domains=(1, 2), steps=(4, 6), stakeholders=(0, None), missing=(0, None)),
    3: LevelSpec(domains=(2, 3), steps=(5, 8), stakeholders=(0, None), missing=(0, None)),
    4: LevelSpec(domains=(3, None), steps=(6, None), stakeholders=(2, None), missing=(1, None)),
}


def _bounds(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo}"
    return f"exactly {lo}" if lo == hi else f"{lo} to {hi}"


def level_problems(level: int, prompt: str, domains: Sequence[str], steps: Sequence[str],
                   stakeholders: Sequence[Any], missing: Sequence[Any]) -> list[tuple[str, str]]:
    """(field, message) for each way these lists break `level`'s definition; stakeholders are
    dicts or objects with a `name`, each of which must appear in the prompt."""
    spec = LEVELS.get(level)
    if spec is None:
        return [("level", f"must be one of {sorted(LEVELS)}, not {level!r}")]
    problems: list[tuple[str, str]] = []
    for field, items, (lo, hi), what in (
        ("domains", domains, spec.domains, "domain(s)"),
        ("steps", steps, spec.steps, "step(s)"),
        ("stakeholders", stakeholders, spec.stakeholders, "stakeholder(s) with conflicting demands"),
        ("missing", missing, spec.missing, "missing item(s)"),
    ):
        n = len(items)
        if n < lo or (hi is not None and n > hi):
            problems.append((field, f"a level-{level} task has {_bounds(lo, hi)} {what}, this one has {n}"))
    lowered = prompt.lower()
    for i, s in enumerate(stakeholders):
        name = s["name"] if isinstance(s, dict) else s.name
        if name.lower() not in lowered:
            problems.append((f"stakeholders[{i}].name", f"{name!r} is not named in the prompt"))
    return problems
