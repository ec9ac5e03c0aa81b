"""Simulated judges answer the real judge prompt: the coverage judge follows the answer, the
constant judge ignores it, and the counting judge follows the schema's key order."""

from __future__ import annotations

import asyncio
import copy

from sorg.model.client import ModelClient
from sorg.scoring.base import ScoreContext
from sorg.scoring.judge_q import DIMENSIONS, JUDGE_FORMAT, JudgeQ
from sorg.sim import items
from sorg.sim.judge import judge_reply
from sorg.sim.world import load_world
from sorg.tasks.bank import load_bank

TASK = load_bank().get("cur-l1-02")
FULL = "\n".join(items.correct_text(TASK, e) or "" for e in TASK.rubric.elements)


def _q(judge: str, answer: str) -> float | None:
    ctx = ScoreContext(task=TASK, answer=answer, trial_id="t", model=f"sim/{judge}/agent",
                       client=ModelClient(cassette_dir=None, cache_dir=None), judge_model=None)
    return asyncio.run(JudgeQ().score(ctx)).value


def test_the_coverage_judge_orders_a_good_answer_above_an_empty_one():
    assert _q("judge-coverage", "") < _q("judge-coverage", FULL)
    assert _q("judge-coverage", "") == 0.25


def test_the_constant_and_counting_judges_ignore_the_answer():
    for judge in ("judge-constant", "judge-counting"):
        assert _q(judge, "") == _q(judge, FULL)
    assert _q("judge-counting", FULL) == 0.625  # 1,2,3,4 down the keys: the 135M self-judge's Q


def _permuted(fmt):
    out = copy.deepcopy(dict(fmt))
    props = out["json_schema"]["schema"]["properties"]
    keys = ["rationale", *reversed([k for k in props if k != "rationale"])]
    out["json_schema"]["schema"]["properties"] = {k: props[k] for k in keys}
    return out


def test_permuting_the_key_order_moves_the_counting_judge_and_not_the_others():
    import json
    import random

    for name, moves in (("judge-counting", True), ("judge-constant", False), ("judge-coverage", False)):
        world = load_world(name)
        a = json.loads(judge_reply(world, TASK, FULL, JUDGE_FORMAT, random.Random(1)))
        b = json.loads(judge_reply(world, TASK, FULL, _permuted(JUDGE_FORMAT), random.Random(1)))
        assert ({d: a[d] for d in DIMENSIONS} != {d: b[d] for d in DIMENSIONS}) is moves, name
