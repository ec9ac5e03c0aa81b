"""The gate on the simulated judges (`sorg.sim`): the constant and the counting judge fail it,
the coverage judge (its noise drawn from the question alone, as a temperature-0 judge's would
be) passes it, with and without noise.
"""

from __future__ import annotations

import asyncio

import pytest

from sorg.model.client import ModelClient
from sorg.scoring.gate import TAU_MIN, validate_scorer
from sorg.scoring.ladder import gate_tasks, load_references
from sorg.tasks.bank import load_bank

sim = pytest.importorskip("sorg.sim")

REFS = load_references()
TASKS = gate_tasks(list(load_bank()), REFS, 6)


def gate(scorer: str, judge: str):
    client = ModelClient(cassette_dir=None, cache_dir=None)
    model = f"sim/{judge}/agent"
    return asyncio.run(validate_scorer(scorer, TASKS, REFS, client=client, model=model, judge_model=model))


def checks(r):
    return {c.name: c for c in r.checks}


@pytest.mark.parametrize("scorer", ["judge_q", "judge_q_shuffled"])
def test_the_constant_sim_judge_fails(scorer):
    r = gate(scorer, "judge-constant")
    assert r.status == "failed" and checks(r)["monotone"].figure == 0.0


def test_the_counting_sim_judge_fails_and_follows_key_order():
    r = gate("judge_q", "judge-counting")
    assert r.status == "failed" and not checks(r)["monotone"].passed
    assert checks(r)["order"].figure == pytest.approx(0.2) and checks(r)["order"].note == "follows key order"


def test_the_counting_sim_judge_scores_noise_under_drawn_key_orders():
    r = gate("judge_q_shuffled", "judge-counting")
    assert r.status == "failed" and checks(r)["monotone"].figure < TAU_MIN


def test_a_coverage_sim_judge_without_noise_passes(tmp_path):
    (tmp_path / "judge-coverage-exact.toml").write_text(
        'description = "judge-coverage without noise"\n\n[judge]\nkind = "coverage"\nnoise = 0.0\n')
    sim.register_world(tmp_path / "judge-coverage-exact.toml")
    for scorer in ("judge_q", "judge_q_shuffled"):
        r = gate(scorer, "judge-coverage-exact")
        assert r.status == "passed", r.reason
        assert checks(r)["monotone"].figure >= TAU_MIN and checks(r)["order"].figure == 1.0


@pytest.mark.parametrize("scorer", ["judge_q", "judge_q_shuffled"])
def test_the_shipped_coverage_sim_judge_passes(scorer):
    r = gate(scorer, "judge-coverage")
    c = checks(r)
    assert r.status == "passed", r.reason
    assert c["monotone"].figure >= TAU_MIN and c["stable"].figure == 1.0 and c["order"].figure == 1.0
