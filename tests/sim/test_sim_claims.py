"""Each claim kind passes on a simulated world that plants its effect and fails on one that plants
none: the whole pipeline (prompts, parsing, protocols, memory, scorers, claims) run end to end on
fixed seeds and small designs. The pass *rates* belong to benchmarks/bench_claims_oc.py."""

from __future__ import annotations

from functools import cache

import pytest

from sorg import claims
from sorg.sim.run import simulate, study_tasks

SEEDS = range(3)
pytestmark = pytest.mark.slow  # seeded simulations of whole designs (about 10 s of CPU)


@cache
def _protocol_trials(world: str):
    return simulate([f"sim/{world}/closed", f"sim/{world}/weak"], ["sequential", "coordinator", "shared",
                                                                   "fixed_roles"],
                    [4, 8], SEEDS, study_tasks(per_level=3), stream_length=4)


@cache
def _scaling_trials(world: str):
    model = "sim/random/agent" if world == "random" else f"sim/{world}/closed"
    return simulate([model], ["sequential", "shared"], [8, 64], [0], study_tasks(6, levels=(1,)),
                    streams=False)


def test_beats_passes_where_planted_and_not_under_the_null():
    for world, expect in (("paper", True), ("null", False)):
        t = _protocol_trials(world).where(model=f"sim/{world}/closed")
        v = claims.beats(t, "sequential", "coordinator", metric="quality.judge_q")
        assert v.passed is expect, (world, v.message if hasattr(v, "message") else v)


def test_spread_passes_where_planted_and_not_under_the_null():
    for world, expect in (("paper", True), ("null", False)):
        t = _protocol_trials(world).where(model=f"sim/{world}/closed")
        v = claims.spread(t, by="protocol", metric="quality.judge_q", contrast=("sequential", "shared"))
        assert v.passed is expect, world


def test_the_weak_model_prefers_fixed_roles_only_where_planted():
    for world, expect in (("paper", True), ("null", False)):
        t = _protocol_trials(world)
        v = claims.beats(t, "fixed_roles", "sequential", metric="quality.judge_q", model=[f"sim/{world}/weak"])
        assert v.passed is expect, world


def test_memory_stabilises_roles_only_where_planted():
    for world, expect in (("paper", True), ("null", False)):
        t = _protocol_trials(world).where(model=f"sim/{world}/closed")
        v = claims.beats(t, "shared", "sequential", metric="rsi")
        assert bool(v.passed) is expect, world


def test_tokens_per_agent_stay_flat_only_where_reading_is_bounded():
    # paper: an agent reads at most 200 tokens a call; random: an agent reads its whole prompt,
    # which grows with the work it is shown, so tokens per agent grow with the team
    for world, expect in (("paper", True), ("random", False)):
        v = claims.ratio(_scaling_trials(world), num=64, den=8, by="n_agents", metric="tokens_per_agent",
                         at_most=1.25)
        assert v.passed is expect, world


def test_abstention_count_follows_the_world():
    paper = _protocol_trials("paper").where(model="sim/paper/closed")
    v = claims.count(paper, metric="abstention_rate", at_least=0.0, protocol="sequential")
    assert v.passed is True
    coins = simulate(["sim/random/agent"], ["sequential"], [8], [0], study_tasks(per_level=2), stream_length=4)
    # a coin abstains about half the time, agent 0 with nothing written included: the rate alone
    # cannot tell behaviour from noise (the instrument gate's validity checks do)
    first = [r for rec in coins for r in rec.replies if r.kind == "agent" and r.agent == 0]
    assert 0.2 < sum(r.abstain for r in first) / len(first) < 0.8
    sane = [r for rec in _protocol_trials("paper").where(protocol="sequential") for r in rec.replies
            if r.kind == "agent" and r.agent == 0]
    assert sum(r.abstain for r in sane) == 0


def test_distinct_roles_are_invented_unless_roles_are_coins():
    paper = _protocol_trials("paper").where(model="sim/paper/closed", protocol="sequential")
    coins = simulate(["sim/random/agent"], ["sequential"], [8], SEEDS, study_tasks(per_level=3), stream_length=4)
    floor = 0.2 * len(paper)
    assert claims.count(paper, metric="unique_roles", at_least=floor, agg="distinct").passed is True
    assert claims.count(coins, metric="unique_roles", at_least=floor, agg="distinct").passed is False
