"""Emergence metrics computed from replies."""

from __future__ import annotations

import math

import pytest

from sorg import metrics
from sorg.record import AgentReply


def rep(agent, role="", abstain=False, defers=(), kind="agent", parse_failed=False, tokens=10):
    return AgentReply(agent=agent, round=0, role_raw=role, role=role, abstain=abstain, contribution="c",
                      defers_to=tuple(defers), kind=kind, parse_failed=parse_failed, prompt_tokens=tokens,
                      completion_tokens=1, cost_usd=0.5)


def test_roles_entropy_and_abstention_count_working_turns_only():
    rs = [rep(0, "a"), rep(1, "b"), rep(2, "a"), rep(3, "c", abstain=True), rep(0, "planner", kind="plan")]
    assert metrics.roles(rs) == ("a", "b")
    assert math.isclose(metrics.role_entropy(rs), -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3)))
    assert metrics.abstention_rate(rs) == 0.25
    assert metrics.role_entropy([rep(0, "a"), rep(1, "a")]) == 0.0


def test_hierarchy_depth_is_the_longest_deference_chain_and_cycles_are_cut():
    assert metrics.hierarchy_depth([rep(1, defers=[0]), rep(2, defers=[1]), rep(3, defers=[1])]) == 2
    assert metrics.hierarchy_depth([rep(0, defers=[1]), rep(1, defers=[0])]) == 1
    assert metrics.hierarchy_depth([rep(0)]) == 0
    chain = [rep(i, defers=[j for j in range(i)]) for i in range(1, 200)]  # dense: still fast
    assert metrics.hierarchy_depth(chain) == 199  # 199 -> 198 -> ... -> 0


def test_usage_rolls_up_by_agent_and_round():
    rows = metrics.usage([rep(0), rep(0, kind="plan"), rep(1)], "agent")
    assert [(r.key, r.calls, r.prompt_tokens, r.cost_usd) for r in rows] == [(0, 2, 20, 1.0), (1, 1, 10, 0.5)]
    assert metrics.parse_failure_rate([rep(0, parse_failed=True), rep(1)]) == 0.5


def test_hierarchy_depth_of_a_1024_agent_chain_does_not_recurse_out():
    # agent i defers to i+1: the depth-first search goes 1023 links deep from agent 0
    chain = [rep(i, defers=[i + 1]) for i in range(1023)]
    assert metrics.hierarchy_depth(chain) == 1023
    assert metrics.hierarchy_depth(chain + [rep(1023, defers=[0])]) == 1023  # closing the cycle cuts it


# --- Role Stability Index -----------------------------------------------------------------

from sorg.metrics import agent_rsi, stream_rsi, trial_rsi  # noqa: E402


def test_agent_rsi_on_hand_built_histories():
    assert agent_rsi(["planner", "planner", "planner"]) == 1.0
    assert agent_rsi(["planner", "critic", "writer"]) == 0.0
    assert agent_rsi(["planner", "planner", "critic"]) == 0.5
    assert agent_rsi(["planner", "", "planner"]) is None  # an abstention breaks the pair
    assert agent_rsi(["planner", "", "planner", "planner"]) == 1.0
    assert agent_rsi(["planner"]) is None and agent_rsi([]) is None


def test_stream_rsi_averages_agents_with_a_pair():
    tasks = [("a", "x", ""), ("a", "y", "z"), ("a", "y", "z")]  # agent 0 keeps, 1 changes once, 2 keeps
    assert stream_rsi(tasks) == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    assert stream_rsi([("a", ""), ("", "b")]) is None and stream_rsi([]) is None


def test_trial_rsi_compares_with_the_previous_task():
    assert trial_rsi(None, ("a", "b")) is None
    assert trial_rsi(("a", "b", "c"), ("a", "x", "")) == 0.5
    assert trial_rsi(("", ""), ("a", "b")) is None
