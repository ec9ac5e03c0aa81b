"""Hypothesis properties of the rubric scorer, over every task of the bank:

- the score is in [0, 1] for any text;
- reordering the answer's sections does not change it;
- adding a section (in particular one holding a required element) never lowers it, and adding
  a missing element's text raises it.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorg.tasks import load_bank, score_details, score_rubric

BANK = load_bank()
TASKS = list(BANK)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Answer-like lines: bullets with amounts, time slots, durations, percents, words the rubrics
# look for, and arbitrary unicode, so the constraints are exercised and not only the elements.
WORDS = [
    "venue", "budget", "total", "catering", "keynote", "speaker", "risk", "mitigation", "Week",
    "Day 1", "schedule", "hotel", "survey", "hypothesis", "control", "sample", "POST /users",
    "root cause", "owner", "percent", "groups", "latency", "GB", "revenue", "shift", "sev",
]
amount = st.integers(0, 150_000).map(lambda n: f"${n:,}")
slot = st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59)).map(
    lambda t: f"{t[0]}:{t[1]:02d}-{t[2]}:{t[3]:02d}"
)
duration = st.tuples(st.integers(1, 200), st.sampled_from(["h", "hours", "min", "weeks", "months", "%", "days"])).map(
    lambda t: f"{t[0]} {t[1]}"
)
token = st.one_of(st.sampled_from(WORDS), amount, slot, duration, st.integers(0, 500).map(str),
                  st.text(max_size=8))
line = st.tuples(st.sampled_from(["", "- ", "1. ", "## ", "Week 3: ", "* "]), st.lists(token, max_size=6)).map(
    lambda t: t[0] + " ".join(t[1])
)
section = st.lists(line, min_size=1, max_size=8).map("\n".join)
sections = st.lists(section, max_size=7)
tasks = st.sampled_from(TASKS)


def _join(parts: list[str]) -> str:
    return "\n\n".join(parts)


@SETTINGS
@given(tasks, st.text(max_size=2000))
def test_score_in_unit_interval_for_any_text(task, text: str) -> None:
    s = score_rubric(task, text)
    assert 0.0 <= s <= 1.0
    assert s == score_rubric(task, text)


@SETTINGS
@given(tasks, sections)
def test_score_in_unit_interval_for_answer_like_text(task, parts: list[str]) -> None:
    assert 0.0 <= score_rubric(task, _join(parts)) <= 1.0


@SETTINGS
@given(tasks, st.lists(st.one_of(section, st.text(max_size=200)), max_size=7), st.randoms(use_true_random=False))
def test_reordering_sections_does_not_change_the_score(task, parts: list[str], rnd) -> None:
    shuffled = list(parts)
    rnd.shuffle(shuffled)
    a = score_details(task, _join(parts))
    b = score_details(task, _join(shuffled))
    assert a.score == b.score
    assert a.passed == b.passed


@SETTINGS
@given(tasks, sections, st.one_of(section, st.text(max_size=300)), st.integers(0, 10))
def test_adding_a_section_never_lowers_the_score(task, parts: list[str], extra: str, where: int) -> None:
    before = score_details(task, _join(parts))
    grown = list(parts)
    grown.insert(min(where, len(grown)), extra)
    after = score_details(task, _join(grown))
    assert after.score >= before.score
    assert set(before.passed) <= set(after.passed)


def _element_example(pattern: str) -> st.SearchStrategy[str]:
    """Single-line text that the element's pattern matches (generated from the regex)."""
    return st.from_regex(re.compile(pattern, re.IGNORECASE), fullmatch=True).filter(
        lambda s: len(s.splitlines()) == 1 and s.strip() != ""
    )


@st.composite
def task_and_element_text(draw):
    task = draw(tasks)
    element = draw(st.sampled_from(task.rubric.elements))
    pattern = draw(st.sampled_from(element.patterns))
    alternative = draw(st.sampled_from(pattern.split("|"))) if "(" not in pattern else pattern
    try:
        re.compile(alternative)
    except re.error:
        alternative = pattern
    text = draw(_element_example(alternative))
    return task, element, text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(task_and_element_text(), sections, st.integers(0, 10))
def test_adding_a_required_element_never_lowers_and_makes_it_pass(drawn, parts: list[str], where: int) -> None:
    task, element, text = drawn
    before = score_details(task, _join(parts))
    grown = list(parts)
    grown.insert(min(where, len(grown)), text)
    after = score_details(task, _join(grown))
    assert after.score >= before.score
    assert element.id in after.passed, (element.id, text)
    if element.id not in before.passed:
        assert after.score > before.score


def test_every_element_pattern_is_attainable() -> None:
    """No rubric element is impossible: each alternative of each pattern matches some text."""
    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data) -> None:
        for task in TASKS:
            for element in task.rubric.elements:
                text = data.draw(_element_example(element.patterns[0]))
                assert element.id in score_details(task, text).passed

    check()
