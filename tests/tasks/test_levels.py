"""The packaged bank follows the study's levels (docs/STUDY.md "Levels", sorg.tasks.levels).

L1: one domain, 3-5 steps, nothing missing. L2: 1-2 domains, 4-6 steps. L3: 2-3 domains,
5-8 steps. L4: three or more domains, at least 6 steps, at least two stakeholders named in
the prompt whose demands conflict, and at least one piece of information the prompt withholds,
each with a rubric element that detects an answer noticing it.

The bounds are written out here, not read from `sorg.tasks.levels`, so that loosening the
table there fails a test rather than silently passing a weaker bank.
"""

from __future__ import annotations

import re
import statistics

import pytest

from sorg.tasks import LEVELS, Task, load_bank
from sorg.tasks.rubric import REGEX_FLAGS, score_details

BANK = load_bank()
TASKS = list(BANK)

# level: (domains min, max), (steps min, max), stakeholders min, (missing min, max); None: unbounded
DEFINITION = {
    1: ((1, 1), (3, 5), 0, (0, 0)),
    2: ((1, 2), (4, 6), 0, (0, None)),
    3: ((2, 3), (5, 8), 0, (0, None)),
    4: ((3, None), (6, None), 2, (1, None)),
}


def _within(n: int, bounds: tuple[int, int | None]) -> bool:
    lo, hi = bounds
    return n >= lo and (hi is None or n <= hi)


def test_the_loader_enforces_the_same_definition() -> None:
    for level, (domains, steps, stakeholders, missing) in DEFINITION.items():
        spec = LEVELS[level]
        assert spec.domains == domains and spec.steps == steps and spec.missing == missing, level
        assert spec.stakeholders[0] == stakeholders, level
    assert sorted(LEVELS) == [1, 2, 3, 4]


def test_at_least_12_tasks_per_level_over_at_least_6_domains() -> None:
    for level in (1, 2, 3, 4):
        tasks = [t for t in TASKS if t.level == level]
        assert len(tasks) >= 12, (level, len(tasks))
        assert len({t.domain for t in tasks}) >= 6, (level, sorted({t.domain for t in tasks}))
    assert len(BANK.domains) >= 6
    assert len({d for t in TASKS for d in t.domains}) >= 6


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_each_task_fits_its_level(task: Task) -> None:
    domains, steps, stakeholders, missing = DEFINITION[task.level]
    assert _within(len(task.domains), domains), (task.domains, domains)
    assert _within(len(task.steps), steps), (task.steps, steps)
    assert len(task.stakeholders) >= stakeholders, task.stakeholders
    assert _within(len(task.missing), missing), (task.missing, missing)
    assert task.domains[0] == task.domain
    assert len(set(task.domains)) == len(task.domains)
    assert len({s.lower() for s in task.steps}) == len(task.steps)
    assert all(s.strip() for s in task.steps)
    assert len(task.prompt) <= 1000


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_stakeholders_are_named_in_the_prompt_with_distinct_demands(task: Task) -> None:
    for s in task.stakeholders:
        assert s.name.lower() in task.prompt.lower(), (s.name, task.prompt)
        assert s.wants.strip()
    assert len({s.name for s in task.stakeholders}) == len(task.stakeholders)
    assert len({s.wants for s in task.stakeholders}) == len(task.stakeholders)


@pytest.mark.parametrize("task", [t for t in TASKS if t.level == 4], ids=lambda t: t.id)
def test_level4_conflict_and_gap_are_scored(task: Task) -> None:
    """An L4 answer is checked for settling the conflict and for noticing each gap."""
    ids = {e.id for e in task.rubric.elements}
    assert "conflict" in ids
    assert {g.element for g in task.missing} <= ids
    assert len(task.steps) >= 6
    assert any(c.kind in ("sum", "count", "range") for c in task.rubric.constraints)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_missing_items_name_rubric_elements(task: Task) -> None:
    elements = {e.id: e for e in task.rubric.elements}
    for gap in task.missing:
        assert gap.element in elements, (gap, sorted(elements))
        assert gap.what.strip()
    if task.level == 1:
        assert task.missing == ()


def _scored_items(task: Task) -> list[str]:
    """The element ids whose patterns must not match the task's own prompt: all of an L1 task
    (rewritten for content an answer adds), and every task's gap and conflict elements."""
    if task.level == 1:
        return [e.id for e in task.rubric.elements]
    return [g.element for g in task.missing] + [e.id for e in task.rubric.elements if e.id == "conflict"]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_the_prompt_does_not_answer_its_own_checks(task: Task) -> None:
    """A prompt that withholds information cannot itself read as noticing the gap, nor as
    settling the conflict it states; an L1 prompt names no content its checks look for."""
    by_id = {e.id: e for e in task.rubric.elements}
    for element_id in _scored_items(task):
        for pattern in by_id[element_id].patterns:
            m = re.search(pattern, task.prompt, REGEX_FLAGS)
            assert m is None, (element_id, pattern, m.group() if m else None)


GAP_NOTES = {
    "class_size_gap": "The class size is not given; we assume 40 students.",
    "currency_gap": "The budget's currency is not stated, so we assume US dollars.",
    "city_gap": "The city is not specified; we assume Chicago.",
    "location_gap": "Assumption: the location is a two-hour drive away; to be confirmed.",
    "rules_gap": "We need to know the engineers' time zones and the labour law that applies.",
    "jurisdiction_gap": "The jurisdiction is unknown: confirm which regulator applies.",
    "cities_gap": "The cities are not named; we assume Berlin, Paris and Madrid.",
    "capacity_gap": "The factory's capacity is unknown; confirm units per week with Beth.",
    "population_gap": "Eligibility is not defined; we assume adults aged 18 to 65.",
    "load_gap": "Peak traffic is not stated; we assume 500 requests per second.",
    "platform_gap": "The platforms are not specified; we assume both iOS and Android.",
}


@pytest.mark.parametrize("task", [t for t in TASKS if t.missing], ids=lambda t: t.id)
def test_a_note_flagging_the_gap_passes_its_element(task: Task) -> None:
    for gap in task.missing:
        note = GAP_NOTES[gap.element]
        assert gap.element in score_details(task, note).passed, (gap.element, note)
        # the same topic without a flag (no assumption, no question) does not pass
        bare = re.sub(r"(?i)\b(?:not (?:given|stated|specified|named|defined)|unknown|assumption|assume|confirm|need to know|to be confirmed)\b", "", note)
        assert gap.element not in score_details(task, bare).passed, (gap.element, bare)


def test_complexity_rises_with_level() -> None:
    def mean(level: int, attr: str) -> float:
        return statistics.mean(len(getattr(t, attr)) for t in TASKS if t.level == level)

    for attr in ("steps", "domains"):
        means = [mean(level, attr) for level in (1, 2, 3, 4)]
        assert means == sorted(means) and len(set(means)) == 4, (attr, means)
    stakeholders = [mean(level, "stakeholders") for level in (1, 2, 3, 4)]
    assert stakeholders[3] >= 2 > stakeholders[0]


_USER_TASK = {"id": "gdn-l1-01", "level": 1, "title": "Beds", "prompt": "Plan three vegetable beds for a small garden.",
              "rubric": {"elements": [{"id": "veg", "description": "names a vegetable", "patterns": ["tomato|bean"]}]}}


def test_a_user_task_need_not_describe_its_level_in_the_studys_terms(tmp_path) -> None:
    """A user's bank loads without domains/steps/stakeholders/missing (the study's level terms
    are the packaged bank's, checked above); such a task's domains default to its file's."""
    import json

    (tmp_path / "garden.json").write_text(json.dumps({"domain": "garden", "tasks": [_USER_TASK]}), encoding="utf-8")
    (task,) = load_bank(tmp_path)
    assert task.domains == ("garden",) and task.steps == () and task.missing == ()


def test_a_task_describes_its_level_with_all_four_fields_or_none(tmp_path) -> None:
    import json

    from sorg.errors import TaskBankError

    partial = {**_USER_TASK, "steps": ["pick beds", "pick crops", "water"]}
    (tmp_path / "garden.json").write_text(json.dumps({"domain": "garden", "tasks": [partial]}), encoding="utf-8")
    with pytest.raises(TaskBankError, match=r"garden\.json.*gdn-l1-01.*domains.*all of domains, steps"):
        load_bank(tmp_path)


def test_every_packaged_task_describes_its_level() -> None:
    for task in TASKS:
        assert task.steps and task.domains[0] == task.domain, task.id
