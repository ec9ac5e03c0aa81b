"""The instrument gate on simulated judges: it accepts the judge that follows the answer and
rejects the constant and the counting judge, in every judge variant."""

from __future__ import annotations

import pytest

from sorg.model.client import ModelClient
from sorg.scoring.gate import run_gate
from sorg.scoring.ladder import load_references
from sorg.tasks.bank import load_bank

VARIANTS = ("judge_q", "judge_q_shuffled", "judge_q_dims")


def _gate(judge: str) -> dict[str, object]:
    results = run_gate(list(VARIANTS), list(load_bank()), load_references(),
                       client=ModelClient(cassette_dir=None, cache_dir=None), model=f"sim/{judge}", n_tasks=8)
    return {r.scorer: r for r in results}


def test_the_gate_accepts_a_judge_that_follows_the_answer():
    for name, result in _gate("judge-coverage").items():
        assert result.passed, (name, result.sentence())


@pytest.mark.parametrize("judge", ["judge-constant", "judge-counting"])
def test_the_gate_rejects_judges_that_ignore_the_answer(judge):
    for name, result in _gate(judge).items():
        assert not result.passed, (name, result.sentence())


def test_the_counting_judge_is_caught_following_the_key_order():
    result = _gate("judge-counting")["judge_q"]
    assert "follows key order" in result.sentence()
