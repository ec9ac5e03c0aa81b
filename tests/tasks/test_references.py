"""The packaged references: one per task, near-full coverage, and a ladder `coverage` ranks.

Why: the instrument gate (sorg.scoring.gate) trusts the ladder's order (empty < echo <
another task's answer < half < full). That order rests on the references being good answers
to their own tasks, which the deterministic rubric can confirm; these tests are that check.
"""

from __future__ import annotations

import json

import pytest

from sorg.errors import TaskBankError
from sorg.scoring.coverage import coverage_details, score_coverage
from sorg.scoring.ladder import RUNGS, gate_tasks, ladder, load_references, references_dir
from sorg.tasks.bank import load_bank

BANK = load_bank()
REFS = load_references()
ORDER = sorted(REFS)
#: "Near-full credit": every rubric item passes, and at most a fifth of the score is lost to
#: text the minimal cover does not need (sections that repeat an item another one carries).
NEAR_FULL = 0.8


def test_every_packaged_task_has_a_reference_and_no_stray_ones():
    assert set(REFS) == {t.id for t in BANK}


@pytest.mark.parametrize("tid", ORDER)
def test_reference_passes_its_rubric(tid):
    d = coverage_details(BANK.get(tid), "\n\n".join(REFS[tid]))
    assert d["failed"] == [], f"{tid}: rubric items the reference misses: {d['failed']}"
    assert d["value"] >= NEAR_FULL, f"{tid}: coverage {d['value']:.3f} < {NEAR_FULL}"
    assert d["length_factor"] == 1.0


@pytest.mark.parametrize("tid", ORDER)
def test_coverage_is_monotone_on_every_ladder(tid):
    task = BANK.get(tid)
    scores = {r.name: score_coverage(task, r.answer) for r in ladder(task, REFS, ORDER)}
    assert scores["empty"] == 0.0
    assert scores["echo"] == 0.0  # the task's own words score nothing
    assert scores["other"] < scores["half"] < scores["full"], scores
    assert scores["empty"] <= min(scores.values())


def test_ladder_shape():
    task = BANK.get(ORDER[0])
    rungs = ladder(task, REFS, ORDER)
    assert [r.name for r in rungs] == list(RUNGS)
    assert [r.rank for r in rungs] == [0, 1, 2, 3, 4]
    assert rungs[1].answer == task.prompt
    other = BANK.get(ORDER[len(ORDER) // 2])
    assert rungs[2].answer.startswith(REFS[other.id][0].strip())
    assert other.domain != task.domain


def test_gate_tasks_spread_levels_and_domains():
    picked = gate_tasks(list(BANK), REFS, 12)
    assert len(picked) == len({t.id for t in picked}) == 12
    assert {t.level for t in picked} == {1, 2, 3, 4}
    assert len({t.domain for t in picked}) == 6
    assert gate_tasks(list(BANK), REFS, None) == sorted(BANK, key=lambda t: t.id)


def test_a_bank_without_references_has_none(tmp_path):
    (tmp_path / "mine.json").write_text("{}")
    assert references_dir(tmp_path / "mine.json") == tmp_path / "references"
    assert load_references(tmp_path) == {}


def test_a_malformed_references_file_names_file_and_field(tmp_path):
    (tmp_path / "references").mkdir()
    bad = tmp_path / "references" / "x.json"
    bad.write_text(json.dumps({"references": {"t-1": []}}))
    with pytest.raises(TaskBankError, match=r"x\.json: references\.t-1"):
        load_references(tmp_path)
