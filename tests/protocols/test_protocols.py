"""Every protocol, through the real model door with a scripted fake model: who is called,
in what order, seeing what; abstention and parse failures; bounded prompts at 256 agents;
the same seed making the same calls."""

from __future__ import annotations

import json
import math

import pytest

from sorg.protocols import PROTOCOLS
from sorg.trial import run_trial
from tests.protocols.fakes import agent_of, kind_of, round_of, user_text

EIGHT = {"coordinator", "hierarchical", "fixed_roles", "sequential", "broadcast", "shared", "dynamic", "single"}


def test_registry_has_the_eight_protocols_with_docstrings_naming_order_roles_and_sight():
    assert set(PROTOCOLS) == EIGHT
    for name, p in PROTOCOLS.items():
        doc = (type(p).__module__ and __import__(type(p).__module__, fromlist=["x"]).__doc__) or ""
        for word in ("Order", "Roles", "Sees"):
            if name == "single" and word != "Sees":
                continue
            assert word in doc, f"{name}'s docstring does not say {word}"


def kinds(model):
    return [(kind_of(r), agent_of(r), round_of(r)) for r in model.requests]


def test_sequential_speaks_in_order_and_each_sees_those_before(fake_model, client, task):
    rec = run_trial(task, "sequential", "fake/m", 4, 0, client=client)
    assert [(k, a) for k, a, _ in kinds(fake_model)] == [("agent", a) for a in range(4)]
    for i, req in enumerate(fake_model.requests):
        text = user_text(req)
        for j in range(4):
            assert (f"Item {j}: $100" in text) == (j < i), (i, j)
        assert req.response_format is not None
    assert rec.calls == 4 and rec.unique_roles == 4 and rec.abstention_rate == 0
    assert rec.roles == ("budget analyst", "critic", "planner", "writer")  # normalised


def test_sequential_abstainers_are_recorded_and_left_out_of_the_answer(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": "x", "contribution": f"part {agent_of(req)}",
                                               "abstain": agent_of(req) % 2 == 1})
    rec = run_trial(task, "sequential", "fake/m", 4, 0, client=client)
    assert rec.abstention_rate == 0.5
    assert "part 0" in rec.answer and "part 2" in rec.answer and "part 1" not in rec.answer
    assert "part 1" not in user_text(fake_model.requests[2])  # abstained work is not shown


def test_unparseable_replies_are_parse_failures_not_crashes(fake_model, client, task):
    fake_model.reply = lambda req: "just some words, no json"
    rec = run_trial(task, "sequential", "fake/m", 3, 0, client=client)
    assert rec.status == "ok" and rec.parse_failure_rate == 1.0
    assert all(r.raw == "just some words, no json" for r in rec.replies)


def test_coordinator_plans_then_workers_in_parallel_then_assembles(fake_model, client, task):
    rec = run_trial(task, "coordinator", "fake/m", 5, 0, client=client)
    ks = kinds(fake_model)
    assert ks[0] == ("plan", 0, 0) and ks[-1] == ("assemble", 0, 2)
    assert sorted(a for k, a, _ in ks[1:-1]) == [1, 2, 3, 4]
    workers = [r for r in rec.replies if r.kind == "agent"]
    assert [r.role for r in workers] == ["lead 0", "lead 1", "lead 2", "lead 0"]  # plan reused in turn
    assert all(r.defers_to == (0,) for r in workers) and rec.hierarchy_depth == 1
    # a worker sees its assignment, not the others' work; the assembler sees all of it
    assert "Item 2" not in user_text(fake_model.requests[1])
    assert all(f"Item {w}: $100" in user_text(fake_model.requests[-1]) for w in range(1, 5))
    assert rec.answer == "Final answer by agent 0."


def test_coordinator_survives_an_unreadable_plan(fake_model, client, task):
    base = fake_model.reply
    fake_model.reply = lambda req: "no plan" if kind_of(req) == "plan" else base(req)
    rec = run_trial(task, "coordinator", "fake/m", 3, 0, client=client)
    assert rec.status == "ok" and rec.replies[0].parse_failed
    assert {r.role for r in rec.replies if r.kind == "agent"} == {"specialist"}


def test_hierarchical_has_leads_between_coordinator_and_members(fake_model, client, task):
    rec = run_trial(task, "hierarchical", "fake/m", 10, 0, client=client)
    k = math.ceil(math.sqrt(9))
    plans = [r for r in rec.replies if r.kind == "plan"]
    assert len(plans) == 1 + k and rec.calls == 10 + 1
    assert rec.hierarchy_depth == 2


def test_fixed_roles_imposes_the_taxonomy_and_forbids_abstaining(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": "rebel", "contribution": "c", "abstain": True})
    rec = run_trial(task, "fixed_roles", "fake/m", 7, 0, client=client)
    assert [r.role for r in rec.replies] == ["planner", "researcher", "analyst", "designer", "critic", "writer", "planner"]
    assert rec.abstention_rate == 0


def test_broadcast_announces_then_acts_seeing_intentions_only(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": f"r{agent_of(req)}", "abstain": False,
                                               "contribution": f"{kind_of(req)} of {agent_of(req)}"})
    rec = run_trial(task, "broadcast", "fake/m", 4, 0, client=client)
    ks = kinds(fake_model)
    assert [k for k, _, _ in ks] == ["intent"] * 4 + ["agent"] * 4
    act1 = user_text(fake_model.requests[5])
    assert "intent of 0" in act1 and "agent of" not in act1
    assert rec.calls == 8


def test_shared_runs_two_parallel_rounds_on_a_blackboard(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": "x", "abstain": False,
                                               "contribution": f"r{round_of(req)} by {agent_of(req)}"})
    rec = run_trial(task, "shared", "fake/m", 4, 0, client=client)
    assert [r for _, _, r in kinds(fake_model)] == [0] * 4 + [1] * 4
    assert "r0 by 3" in user_text(fake_model.requests[4]) and "r0 by" not in user_text(fake_model.requests[0])
    assert "r1 by 2" in rec.answer and "r0 by" not in rec.answer


def test_dynamic_bids_decide_who_speaks_and_everyone_speaks_once(fake_model, client, task):
    rec = run_trial(task, "dynamic", "fake/m", 6, 3, client=client)
    speakers = [r.agent for r in rec.replies if r.kind == "agent"]
    assert sorted(speakers) == list(range(6))
    assert rec.calls <= 3 * 6 - 1
    bids = [r for r in rec.replies if r.kind == "bid"]
    assert bids and all(r.kind == "bid" for r in bids)


def test_single_gets_the_team_token_budget(fake_model, client, task):
    run_trial(task, "single", "fake/m", 4, 0, client=client)
    (req,) = fake_model.requests
    assert req.max_tokens == 4 * 160 and req.response_format is None


@pytest.mark.parametrize("protocol", sorted(EIGHT))
def test_team_of_one_is_one_call(fake_model, client, task, protocol):
    assert run_trial(task, protocol, "fake/m", 1, 0, client=client).calls == 1


@pytest.mark.parametrize("protocol", ["sequential", "coordinator", "shared", "dynamic"])
def test_256_agents_keep_every_prompt_within_the_context_budget(fake_model, client, task, protocol):
    rec = run_trial(task, protocol, "fake/m", 256, 0, client=client, context_tokens=2048)
    assert rec.status == "ok" and rec.calls >= 256
    assert rec.max_prompt_tokens <= 2048
    assert len({r.agent for r in rec.replies}) == 256


@pytest.mark.parametrize("protocol", sorted(EIGHT))
def test_same_seed_same_calls_in_the_same_order(fake_model, client, task, protocol):
    run_trial(task, protocol, "fake/m", 5, 7, client=client)
    first = [(r.sample, r.messages, r.seed) for r in fake_model.requests]
    fake_model.requests.clear()
    run_trial(task, protocol, "fake/m", 5, 7, client=client)
    assert [(r.sample, r.messages, r.seed) for r in fake_model.requests] == first
