"""Properties of the `coverage` scorer, over every task of the bank and every answer recorded
in the cassettes (read at test time: they are re-recorded with new prompts, so nothing here
depends on their contents or their count).

What is proven (hypothesis draws a task, an answer, another answer, filler):

- the value is in [0, 1] for any text, and deterministic;
- reordering sections does not change it (nor any detail);
- appending a copy of the answer, or of one of its sections, does not change it;
- appending filler (text that satisfies no rubric item), as its own section or glued onto the
  last one, never raises it;
- appending another answer that passes nothing for this task never raises it; appending one
  that passes no item the answer lacked never raises it; and when it does pass new items, the
  rise is at most their share of the rubric weight;
- wrapping the answer in JSON (an object, a fenced block, a list of contributions) leaves it
  unchanged;
- the task's own words (the prompt, its sentences shuffled, the prompt plus the checklist)
  score exactly 0 (epsilon 0).

And the old failure: `score_rubric` rises when a long pile is appended; `coverage` falls.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sorg.scoring import SCORERS, Score
from sorg.scoring.coverage import (
    ANSWER_BUDGET_CHARS,
    answer_sections,
    coverage_details,
    normalise_section,
    score_coverage,
)
from sorg.tasks import load_bank, score_rubric
from sorg.tasks.rubric import split_sections
from tests.tasks.test_task_rubric import GOOD_ANSWERS

REPO = Path(__file__).resolve().parents[2]
BANK = load_bank()
TASKS = list(BANK)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reply_answer(text: str) -> str:
    """A recorded reply as a candidate answer: a JSON reply's "contribution", else the text."""
    try:
        obj = json.loads(text)
    except ValueError:
        return text
    if isinstance(obj, dict) and isinstance(obj.get("contribution"), str):
        return obj["contribution"]
    return text


@lru_cache(maxsize=1)
def cassette_answers() -> tuple[tuple[str, str], ...]:
    """(task id of the recording, answer) for every recorded reply, deduplicated, sorted."""
    found: set[tuple[str, str]] = set()
    for path in sorted(REPO.glob("cassettes/**/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            text = (entry.get("reply") or {}).get("text")
            if isinstance(text, str):
                found.add((str(entry.get("sample", "")).split("|")[0], _reply_answer(text)))
    return tuple(sorted(found))


POOL = sorted({a for _, a in cassette_answers()})
# The recorded replies are single contributions; a team's answer is several joined by a
# blank line (sorg/protocols/base.py), so piles of them are answers too, as are the
# hand-written good answers of the rubric tests.
recorded = st.sampled_from(POOL) if POOL else st.nothing()
pile = st.lists(recorded, min_size=2, max_size=6).map("\n\n".join)
answers = st.one_of(recorded, pile, st.sampled_from(sorted(GOOD_ANSWERS.values())))
tasks = st.sampled_from(TASKS)

LOREM = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
         "labore et dolore magna aliqua").split()
TEAM_TALK = ["I agree with the others.", "As a team member I will help.", "Let us work together on this.",
             "Good point, thanks!", "I will wait for the next round.", "Sounds good to me.",
             "My role is to assist the group.", "Nothing to add from my side."]
PUNCT = ["...", "!!!", "???", "---", "***", "~~~", ";;", "::"]
filler_line = st.lists(st.sampled_from(LOREM + TEAM_TALK + PUNCT), min_size=1, max_size=12).map(" ".join)
filler = st.lists(filler_line, min_size=1, max_size=40).map("\n".join)


def _value(task, text: str) -> float:
    return score_coverage(task, text)


def _passes_nothing(task, text: str) -> bool:
    return not coverage_details(task, text)["passed"]


def test_the_cassettes_give_answers() -> None:
    """The properties below draw from the cassettes: they must hold some recorded replies."""
    assert len(POOL) >= 10, f"only {len(POOL)} recorded answers under {REPO / 'cassettes'}"


# ---------------------------------------------------------------------------------------------
# range, determinism, order


@SETTINGS
@given(tasks, st.one_of(st.text(max_size=3000), answers))
def test_value_in_unit_interval_and_deterministic(task, text: str) -> None:
    d = coverage_details(task, text)
    assert 0.0 <= d["value"] <= 1.0
    assert d == coverage_details(task, text)
    assert d["answer_chars"] == len(text)
    json.dumps(d)  # JSON-ready


@SETTINGS
@given(tasks, answers, st.randoms(use_true_random=False))
def test_reordering_sections_changes_nothing(task, answer: str, rnd) -> None:
    parts = split_sections(answer)
    shuffled = list(parts)
    rnd.shuffle(shuffled)
    assert coverage_details(task, "\n\n".join(parts)) == coverage_details(task, "\n\n".join(shuffled))


# ---------------------------------------------------------------------------------------------
# appending


@SETTINGS
@given(tasks, answers, st.data())
def test_appending_a_copy_or_a_section_changes_nothing(task, answer: str, data) -> None:
    before = coverage_details(task, answer)
    doubled = coverage_details(task, answer + "\n\n" + answer)
    assert doubled["value"] == before["value"]
    assert doubled["duplicates_dropped"] >= before["sections"]
    parts = split_sections(answer)
    if parts:
        section = data.draw(st.sampled_from(parts))
        # Case and spacing do not make a new section either.
        variant = data.draw(st.sampled_from([section, section.upper(), "  " + section.replace(" ", "   ")]))
        assert _value(task, answer + "\n\n" + variant) == before["value"]


@SETTINGS
@given(tasks, answers, filler)
def test_appending_filler_never_raises(task, answer: str, junk: str) -> None:
    assume(_passes_nothing(task, junk))
    before = coverage_details(task, answer)
    after = coverage_details(task, answer + "\n\n" + junk)
    assert after["value"] <= before["value"]
    assert after["passed"] == before["passed"]
    # Glued onto the last section (no blank line): that section grows, and its growth is
    # text that earns nothing.
    glued = coverage_details(task, answer + "\n" + junk)
    assert set(glued["passed"]) <= set(before["passed"])
    assert glued["value"] <= before["value"]


@SETTINGS
@given(tasks, answers, answers)
def test_appending_an_answer_that_passes_nothing_here_never_raises(task, answer: str, other: str) -> None:
    assume(_passes_nothing(task, other))
    assert _value(task, answer + "\n\n" + other) <= _value(task, answer)


def _check_append(task, answer: str, other: str) -> bool:
    """Appending `other` never raises the score unless it passes a rubric item the answer did
    not; and then the rise is at most the weight share of the new items (exact when the new
    items include no answer-scope count, see the module docstring). True when new items."""
    before = coverage_details(task, answer)
    after = coverage_details(task, answer + "\n\n" + other)
    new = set(after["passed"]) - set(before["passed"])
    assert set(before["passed"]) <= set(after["passed"])
    if not new:
        assert after["value"] <= before["value"], (task.id, answer, other)
        return False
    counts = {c.id for c in task.rubric.constraints if c.params.get("scope") == "answer"}
    if not new & counts:
        weights = {(i["type"], i["id"]): i["weight"] for i in after["items"]}
        total = sum(weights.values())
        gained = sum(w for (kind, i), w in weights.items() if i in new) / total
        assert after["value"] <= before["value"] + gained + 1e-12, (task.id, answer, other)
    return True


@SETTINGS
@given(tasks, answers, answers)
def test_appending_another_answer_never_raises_without_new_items(task, answer: str, other: str) -> None:
    _check_append(task, answer, other)


def test_appending_another_tasks_answer_exhaustively() -> None:
    """Every task of the bank, against a deterministic sample of recorded answers and, as the
    appended text, recorded answers of *other* tasks: never raises without new items."""
    recorded_by = cassette_answers()
    rnd = random.Random(20261202)
    with_new = checked = 0
    for task in TASKS:
        own = [a for tid, a in recorded_by if tid == task.id] or [a for _, a in recorded_by]
        others = [a for tid, a in recorded_by if tid != task.id]
        mine = rnd.sample(own, min(6, len(own))) + [GOOD_ANSWERS.get(task.id, "")]
        for answer in mine:
            for other in rnd.sample(others, min(6, len(others))):
                with_new += _check_append(task, answer, other)
                checked += 1
    assert checked >= len(TASKS) * 6
    # Recorded replies of a 135M model rarely pass anything; most appends bring no new item.
    assert with_new < checked


# ---------------------------------------------------------------------------------------------
# JSON


def _wraps(answer: str) -> list[str]:
    parts = split_sections(answer)
    return [
        json.dumps({"answer": answer}),
        json.dumps({"answer": answer}, indent=2),
        "```json\n" + json.dumps({"answer": answer}) + "\n```",
        json.dumps(parts),
        json.dumps([{"role": "planner", "contribution": p, "abstain": False} for p in parts]),
        "\n\n".join(json.dumps({"role": "agent", "contribution": p}) for p in parts),
        json.dumps(answer),
    ]


@SETTINGS
@given(tasks, answers)
def test_wrapping_the_answer_in_json_changes_nothing(task, answer: str) -> None:
    before = coverage_details(task, answer)
    for wrapped in _wraps(answer):
        after = coverage_details(task, wrapped)
        assert after["value"] == before["value"], wrapped[:200]
        assert after["json_unwrapped"] or not split_sections(answer)


def test_json_is_unwrapped_to_its_payload() -> None:
    sections, unwrapped = answer_sections(
        '{"role": "venue scout", "contribution": "City hall.\\n\\nLunch: buffet", "abstain": false}\n\n'
        '```json\n["a", {"x": "b", "n": 5}]\n```\n\n'
        '{"answer": "c"} and then text\n\nplain'
    )
    assert unwrapped
    assert sections == ["City hall.", "Lunch: buffet", "a", "b", "c", "and then text", "plain"]
    # JSON without strings leaves nothing; what is not JSON stays text, however deep.
    assert answer_sections("{not json}\n\n[1, 2]") == (["{not json}"], True)
    assert answer_sections("```python\nprint(1)\n```") == (["```python\nprint(1)\n```"], False)
    # Text glued after a fenced JSON block, or after a truncated one, stays text beside it.
    assert answer_sections('```json\n{"a": "b"}\n```\nlorem') == (["b", "lorem"], True)
    assert answer_sections('```json\n["b"]\nlorem') == (["b", "lorem"], True)
    # A JSON string begins a section only when a line break follows it; else it is prose.
    assert answer_sections('"b"\nlorem') == (["b", "lorem"], True)
    assert answer_sections('"Great venue," said the team') == (['"Great venue," said the team'], False)
    deep = "[" * 5000 + "]" * 5000
    assert answer_sections(deep) == ([deep], False)


def test_normalised_sections_differ_only_in_content() -> None:
    assert normalise_section("  Venue:   City  HALL \n\n\t- Lunch ") == "venue: city hall\n- lunch"


# ---------------------------------------------------------------------------------------------
# the task's own words


def _checklist(task) -> str:
    items = list(task.rubric.elements) + list(task.rubric.constraints)
    return "\n".join(f"- [ ] {i.description}" for i in items)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_the_tasks_own_words_score_zero(task) -> None:
    for text in (task.prompt, task.prompt + "\n\n" + _checklist(task), _checklist(task),
                 task.title + "\n\n" + task.prompt, task.prompt.upper()):
        d = coverage_details(task, text)
        assert d["value"] == 0.0, (text, d["passed"])


@SETTINGS
@given(tasks, st.data())
def test_shuffled_prompt_sentences_score_zero(task, data) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?:;])\s+", task.prompt) if s]
    shuffled = data.draw(st.permutations(sentences))
    sep = data.draw(st.sampled_from([" ", "\n", "\n\n"]))
    text = sep.join(shuffled)
    if data.draw(st.booleans()):
        text += "\n\n" + _checklist(task)
    assert _value(task, text) == 0.0


# ---------------------------------------------------------------------------------------------
# the old failure, the registry, the cost


def test_old_rubric_rises_with_a_pile_and_coverage_does_not() -> None:
    task = BANK.get("evt-l2-01")
    answer = "Venue: the city hall, it has a big room for 20 people."
    # A pile that begins with raw JSON, then a long run of distinct generic list lines: it
    # names a catering option and an agenda and has list items, so the existence check
    # passes everything.
    pile = json.dumps({"role": "planner", "notes": "we could get lunch"}) + "\n\n" + "\n\n".join(
        f"- Agenda point {i}: a session where the team discusses the plan" for i in range(1000)
    )
    assert len(answer + pile) > 60_000
    assert score_rubric(task, answer + "\n\n" + pile) == 1.0 > score_rubric(task, answer)
    before, after = coverage_details(task, answer), coverage_details(task, answer + "\n\n" + pile)
    assert after["coverage"] > before["coverage"]
    assert after["value"] < before["value"]
    assert after["value"] < 0.07  # the budget (4,000 characters) over a 60,000-character pile
    assert after["json_unwrapped"] and after["length_factor"] < 0.07


def test_the_count_gate_ignores_bullets_of_filler() -> None:
    task = BANK.get("evt-l2-01")  # at least three list items in the answer
    answer = "Venue: city hall. Lunch: buffet. Agenda: a talk and a workshop.\n- welcome talk"
    junk = "- lorem ipsum\n- dolor sit\n- amet"
    assert "agenda_items" in _passed_rubric(task, answer + "\n\n" + junk)
    d = coverage_details(task, answer + "\n\n" + junk)
    assert "agenda_items" not in d["passed"] and d["value"] < _value(task, answer)


def test_a_repeated_bullet_counts_once() -> None:
    """Found by hypothesis: gluing a word onto one of two identical sections made them two
    sections, and their one bullet two items (evt-l2-02 needs two list items)."""
    task = BANK.get("evt-l2-02")
    answer = "2. The route is the park loop.\n\n2. The route is the park loop."
    assert coverage_details(task, answer)["passed"] == ["route"]
    assert coverage_details(task, answer + "\nlorem")["passed"] == ["route"]
    assert coverage_details(task, answer + "\n\n- Safety: a first aid tent")["passed"] == [
        "route", "safety", "safety_measures"]


def _passed_rubric(task, text: str) -> set[str]:
    from sorg.tasks import score_details

    return set(score_details(task, text).passed)


@pytest.mark.parametrize("task_id", sorted(GOOD_ANSWERS))
def test_a_good_concise_answer_keeps_a_high_score(task_id: str) -> None:
    d = coverage_details(BANK.get(task_id), GOOD_ANSWERS[task_id])
    assert d["coverage"] == 1.0 and d["length_factor"] == 1.0
    assert d["value"] >= 0.95, d
    assert d["scored_chars"] <= ANSWER_BUDGET_CHARS


def test_registered_deterministic_and_carries_answer_chars() -> None:
    scorer = SCORERS["coverage"]
    assert scorer.needs_model is False
    task = BANK.get("sw-l1-02")
    s = scorer.compute(task, GOOD_ANSWERS["sw-l1-02"])
    assert isinstance(s, Score) and s.value == 1.0
    assert s.details["answer_chars"] == len(GOOD_ANSWERS["sw-l1-02"])
    assert "value" not in s.details
    assert scorer.compute(task, None).value == 0.0  # type: ignore[arg-type]


def test_importing_sorg_scoring_registers_coverage_without_heavy_libraries() -> None:
    code = ("import sys, sorg.scoring as s; "
            "print('coverage' in s.SCORERS, sorted({m.split('.')[0] for m in sys.modules} & "
            "{'litellm', 'scipy', 'numpy', 'diskcache', 'openai'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True []"


def test_scoring_a_thousand_answers_is_cheap() -> None:
    """CPU time (not wall time: the machine is shared), on fresh task objects: copies, so no
    section verdict is cached yet."""
    fresh = [dataclasses.replace(t) for t in TASKS]
    sample = (POOL * (1000 // max(len(POOL), 1) + 1))[:1000]
    t0 = time.process_time()
    for i, answer in enumerate(sample):
        score_coverage(fresh[i % len(fresh)], answer)
    assert time.process_time() - t0 < 2.0
