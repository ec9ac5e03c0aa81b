"""The instrument gate rejects judges that do not follow the answer and accepts one that does.

The fake judges (tests/scoring/fake_judges.py) answer the real judge prompt through the real
model door (a registered backend, recorded into a cassette like any live call).
"""

from __future__ import annotations

import asyncio

import pytest

from sorg.model.client import ModelClient
from sorg.scoring.gate import TAU_MIN, kendall_tau, run_gate, validate_scorer
from sorg.scoring.judge_q import DIMENSIONS
from sorg.scoring.ladder import gate_tasks, load_references
from sorg.tasks.bank import load_bank
from tests.scoring import fake_judges

BANK = list(load_bank())
REFS = load_references()
TASKS = gate_tasks(BANK, REFS, 6)


@pytest.fixture
def door(tmp_path):
    fake_judges.install()
    client = ModelClient(cassette_dir=tmp_path / "cassettes", record="new", cache_dir=None, cassette_name="gate")
    yield client
    client.close()
    fake_judges.uninstall()


def gate(name, judge, door):
    return asyncio.run(validate_scorer(name, TASKS, REFS, client=door, model="agents/x",
                                       judge_model=f"fakejudge/{judge}"))


def checks(result):
    return {c.name: c for c in result.checks}


def test_kendall_tau_b():
    assert kendall_tau([0, 1, 2, 3, 4], [0, 0.1, 0.2, 0.5, 1]) == 1.0
    assert kendall_tau([0, 1, 2, 3, 4], [1, 0.5, 0.2, 0.1, 0]) == -1.0
    assert kendall_tau([0, 1, 2, 3, 4], [3, 3, 3, 3, 3]) is None
    assert kendall_tau([0, 1, 2, 3, 4], [0, 0, 0, 0.5, 1]) == pytest.approx(7 / 70 ** 0.5)


def test_coverage_passes_every_check_on_the_packaged_bank():
    (r,) = run_gate(["coverage"], BANK, REFS, n_tasks=None)
    assert r.status == "passed" and r.tasks == len(BANK)
    c = checks(r)
    assert c["monotone"].figure >= TAU_MIN and c["floor"].figure == 1.0 and c["stable"].figure == 1.0
    assert "order" not in c  # one number, no dimensions to reorder


@pytest.mark.parametrize("name", ["judge_q", "judge_q_shuffled", "judge_q_dims"])
def test_a_constant_judge_fails_on_tau(door, name):
    r = gate(name, "constant", door)
    assert r.status == "failed"
    assert checks(r)["monotone"].figure == 0.0 and not checks(r)["monotone"].passed
    assert r.sentence().startswith(f"{name} failed validation (tau 0.00")


def test_a_counting_judge_fails_and_is_named_as_following_key_order(door):
    r = gate("judge_q", "counting", door)
    assert r.status == "failed"
    c = checks(r)
    assert not c["monotone"].passed and not c["order"].passed
    assert c["order"].figure == pytest.approx(1 / 5)  # only the dimension the rotation puts back on a 1 slot
    assert c["order"].note == "follows key order"
    assert "follows key order" in r.sentence()


def test_a_counting_judge_cannot_count_when_each_dimension_is_its_own_call(door):
    r = gate("judge_q_dims", "counting", door)  # one key per call: it writes 1 every time
    assert r.status == "failed" and checks(r)["monotone"].figure == 0.0


@pytest.mark.parametrize("name", ["judge_q", "judge_q_shuffled", "judge_q_dims"])
def test_a_judge_that_follows_the_answer_passes(door, name):
    r = gate(name, "coverage", door)
    assert r.status == "passed", r.reason
    c = checks(r)
    assert c["monotone"].figure >= TAU_MIN and c["order"].figure == 1.0 and c["stable"].figure == 1.0


def test_permuting_the_keys_moves_the_counting_judge_and_not_the_valid_one(door):
    counting, valid = gate("judge_q", "counting", door), gate("judge_q", "coverage", door)
    moved = [tid for tid, row in counting.per_task.items() if row["moved_scores"] != row["scores"]]
    assert moved  # the same answers, another key order, other Q
    assert all(row["moved_scores"] == row["scores"] for row in valid.per_task.values())


def test_the_ladders_judge_calls_are_recorded_in_the_gate_cassette(door, tmp_path):
    gate("judge_q", "constant", door)
    files = list((tmp_path / "cassettes").rglob("gate.jsonl"))
    assert files and files[0].read_text().count("\n") == len(TASKS) * 5 * 3  # first, again, reordered


def test_a_judge_never_recorded_is_not_run(tmp_path):
    replay = ModelClient(cassette_dir=tmp_path, record="none", cache_dir=None)
    r = asyncio.run(validate_scorer("judge_q", TASKS, REFS, client=replay, model="local/x", judge_model=None))
    assert r.status == "not_run" and "CassetteMiss" in r.reason
    assert r.sentence().startswith("judge_q was not run through the gate (CassetteMiss")
    replay.close()


def test_no_references_no_gate():
    r = asyncio.run(validate_scorer("coverage", [], {}))
    assert r.status == "not_run" and "reference" in r.reason


def test_the_reorder_check_moves_every_dimension():
    from sorg.scoring.gate import moved_order

    moved = moved_order(DIMENSIONS)
    assert sorted(moved) == sorted(DIMENSIONS) and all(a != b for a, b in zip(moved, DIMENSIONS))


def test_a_counting_judge_scores_noise_when_the_key_order_is_drawn_per_call(door):
    r = gate("judge_q_shuffled", "counting", door)
    assert r.status == "failed" and not checks(r)["monotone"].passed
    orders = {tuple(row["scores"].values()) for row in r.per_task.values()}
    assert len(orders) > 1  # the same slots, other dimensions: Q moves with the draw, not the answer


def test_the_default_judge_request_is_unchanged_without_gate_settings():
    from sorg.scoring.judge_q import JUDGE_FORMAT, RUBRIC, judge_format, messages, rubric

    assert rubric() == RUBRIC and judge_format() == JUDGE_FORMAT
    assert messages("m", "a")[1]["content"].endswith(RUBRIC)
    assert list(judge_format(tuple(reversed(DIMENSIONS)))["json_schema"]["schema"]["properties"])[1:] == \
        list(reversed(DIMENSIONS))
