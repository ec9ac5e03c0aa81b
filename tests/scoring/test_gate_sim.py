"""The gate on the simulated judges (`sorg.sim`): the constant and the counting judge fail it,
a coverage judge that answers the question (not the sample) passes it.

The shipped `sim/judge-coverage` draws its declared noise (0.35 per dimension) from the whole
request, sample included: asking the same question again, or with the keys reordered, draws
another noise, so at "temperature 0" it is not the same judge twice. The gate says so (stable
~0.5, order ~0.8); the last test pins that down, and a noise-free twin shows the coverage
judge itself passes.
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


def test_the_shipped_coverage_sim_judge_orders_the_ladder_but_redraws_its_noise_per_request():
    r = gate("judge_q", "sim/judge-coverage".split("/", 1)[1])
    c = checks(r)
    assert c["monotone"].passed and c["floor"].passed  # it follows the answer
    assert not c["stable"].passed  # noise drawn from the sample: asked again, another score
