"""The packaged bank's levels form a gradient (issue #26): what makes a task harder rises from
level to level, on average and task by task at the extremes, so a claim "by level" compares
harder with easier tasks, not one kind of task with another."""

from __future__ import annotations

import statistics

import pytest

from sorg.tasks import load_bank

MEASURES = {
    "steps": lambda t: len(t.steps),
    "domains": lambda t: len(t.domains),
    "rubric items": lambda t: len(t.rubric.elements) + len(t.rubric.constraints),
}


def _by_level() -> dict[int, list]:
    out: dict[int, list] = {}
    for t in load_bank().select():
        out.setdefault(t.level, []).append(t)
    return out


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_each_measure_rises_from_level_to_level(measure):
    f = MEASURES[measure]
    levels = _by_level()
    means = [statistics.mean(f(t) for t in levels[k]) for k in sorted(levels)]
    assert all(a < b for a, b in zip(means, means[1:])), f"{measure} by level: {means}"


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_no_task_is_easier_than_the_median_task_two_levels_down(measure):
    f = MEASURES[measure]
    levels = _by_level()
    for k in sorted(levels)[2:]:
        floor = statistics.median(f(t) for t in levels[k - 2])
        low = [t.id for t in levels[k] if f(t) < floor]
        assert not low, f"level-{k} tasks with fewer {measure} than the level-{k - 2} median ({floor}): {low}"
