"""Every protocol, through the real model door with a scripted fake model: who is called, in
what order, seeing what; the paper's call counts exactly (no assembly step but the
Coordinator's); bounded prompts at 256 agents; the same seed making the same calls."""

from __future__ import annotations

import importlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorg.protocols import BIO, PACKAGED, PAPER, PROTOCOLS, study_protocols
from sorg.protocols.base import ANSWER_TOKENS, ASSEMBLE
from sorg.protocols.plan import Part, allocate
from sorg.trial import run_stream, run_trial
from tests.protocols.fakes import agent_of, kind_of, round_of, user_text

NO_SCORERS: tuple[str, ...] = ()


def trial(task, protocol, n, client, seed=0, **kw):
    return run_trial(task, protocol, "fake/m", n, seed, client=client, scorers=NO_SCORERS, **kw)


def kinds(model):
    return [(kind_of(r), agent_of(r), round_of(r)) for r in model.requests]


def work(model):
    return [r for r in model.requests if kind_of(r) not in ("assemble",)]


def test_every_packaged_protocol_documents_order_roles_and_sight():
    for name in PACKAGED:  # a user's protocol, registered in this process, is not ours to check
        p = PROTOCOLS[name]
        doc = importlib.import_module(type(p).__module__).__doc__ or ""
        for word in ("Order", "Roles", "Sees"):
            if name == "single" and word != "Sees":
                continue
            assert word in doc, f"{name}'s docstring does not say {word}"
        assert "Calls" in doc, name
    for name in BIO:
        doc = importlib.import_module(type(PROTOCOLS[name]).__module__).__doc__ or ""
        assert "definition is ours" in doc, name
    assert set(PAPER) <= set(study_protocols())
    assert {"hierarchical", "dynamic"}.isdisjoint(study_protocols())  # extras, marked so


# The paper's per-task call counts (STUDY.md), exactly: only the Coordinator synthesises (its +1).
PAPER_CALLS = {"coordinator": lambda n: n + 1, "sequential": lambda n: n,
               "broadcast": lambda n: 2 * n, "shared": lambda n: n}


@pytest.mark.parametrize("protocol", sorted(PAPER_CALLS))
@pytest.mark.parametrize("n", [2, 4, 7, 16, 64, 256])
def test_the_paper_protocols_make_the_papers_call_counts(fake_model, client, task, protocol, n):
    rec = trial(task, protocol, n, client)
    assert rec.calls == PAPER_CALLS[protocol](n) == len(fake_model.requests)
    assert [r.kind for r in rec.replies].count("assemble") == (protocol == "coordinator")


def test_sequential_speaks_in_order_and_each_sees_those_before(fake_model, client, task):
    rec = trial(task, "sequential", 4, client)
    assert [(k, a) for k, a, _ in kinds(fake_model)] == [("agent", a) for a in range(4)]
    for i, req in enumerate(work(fake_model)):
        text = user_text(req)
        for j in range(4):
            assert (f"Item {j}: $100" in text) == (j < i), (i, j)
        assert req.response_format is not None
    assert rec.unique_roles == 4 and rec.abstention_rate == 0
    assert rec.roles == ("budget analyst", "critic", "planner", "writer")  # normalised


def test_abstainers_are_recorded_and_their_work_is_not_in_the_answer(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": "x", "contribution": f"part {agent_of(req)}",
                                               "abstain": agent_of(req) % 2 == 1})
    rec = trial(task, "sequential", 4, client)
    assert rec.abstention_rate == 0.5
    assert "part 1" not in user_text(fake_model.requests[2])  # abstained work is not shown
    assert rec.answer == "part 0\n\npart 2"  # the team's own work, in speaking order


def test_a_team_that_all_abstains_answers_nothing_and_makes_no_assembly_call(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": "x", "contribution": "", "abstain": True})
    rec = trial(task, "sequential", 3, client)
    assert rec.answer == "" and rec.calls == 3 and rec.answer_chars == 0


LEADER_SYNTHESIS = ("coordinator", "hierarchical")


@pytest.mark.parametrize("protocol", [p for p in sorted(PACKAGED) if p != "single"])
def test_only_a_leader_protocol_rewrites_the_teams_work(fake_model, client, task, protocol):
    """Self-organised protocols hand in their agents' contributions, collated, with no model
    call; only a protocol whose leader synthesises by definition makes the assembly call (one
    call of agent 0 under the answer budget)."""
    rec = trial(task, protocol, 5, client)
    asm = [r for r in fake_model.requests if kind_of(r) == "assemble"]
    if protocol in LEADER_SYNTHESIS:
        (one,) = asm
        assert one.max_tokens == ANSWER_TOKENS and agent_of(one) == 0 and one.response_format is None
        assert ASSEMBLE.format(words=ANSWER_TOKENS * 3 // 4) in user_text(one)
        assert rec.answer == "Final answer by agent 0."
    else:
        assert asm == [] and "Final answer" not in rec.answer
        shown = [r.contribution.strip() for r in rec.replies if r.kind == "agent" and not r.abstain
                 and r.contribution.strip()]
        assert rec.answer.split("\n\n") == [c for c in shown if c] or rec.answer in "\n\n".join(shown)
    assert rec.work_chars > 0 and rec.answer_chars == len(rec.answer)


def test_single_writes_under_the_same_answer_budget(fake_model, client, task):
    trial(task, "single", 4, client)
    (req,) = fake_model.requests
    assert req.max_tokens == ANSWER_TOKENS and req.response_format is None


@pytest.mark.parametrize("n", [3, 6, 40, 256])
def test_the_coordinators_plan_covers_every_worker_with_a_role_and_a_phase(fake_model, client, task, n):
    rec = trial(task, "coordinator", n, client)
    workers = [r for r in rec.replies if r.kind == "agent"]
    assert sorted(r.agent for r in workers) == list(range(1, n))
    # The fake plan asks for parts of 1, 2 and 3 workers: every part is staffed.
    assert {r.role for r in workers} == {"lead 0", "lead 1", "lead 2"} if n - 1 >= 3 else True
    assert all(r.defers_to == (0,) for r in workers) and rec.hierarchy_depth == 1
    reqs = [r for r in fake_model.requests if kind_of(r) == "agent"]
    assert all("phase" in user_text(r) for r in reqs)
    assert "Item 2" not in user_text(reqs[0])  # a worker sees its assignment, not others' work


@given(st.lists(st.integers(1, 50), min_size=1, max_size=8), st.integers(1, 300))
def test_allocate_gives_every_worker_exactly_one_part_in_proportion(counts, workers):
    parts = [Part(f"r{i}", "s", 1, c) for i, c in enumerate(counts)]
    got = allocate(parts, workers)
    assert len(got) == workers
    staffed = {p.role for p in got}
    assert staffed == {p.role for p in parts[:workers]}  # every part staffed while workers last
    if workers >= sum(counts):  # enough workers: every part gets at least what it asked, in share
        for p in parts:
            assert sum(1 for g in got if g.role == p.role) >= 1


def test_coordinator_survives_an_unreadable_plan(fake_model, client, task):
    base = fake_model.reply
    fake_model.reply = lambda req: "no plan" if kind_of(req) == "plan" else base(req)
    rec = trial(task, "coordinator", 3, client)
    assert rec.status == "ok" and rec.replies[0].parse_failed
    assert {r.role for r in rec.replies if r.kind == "agent"} == {"specialist"}


def test_fixed_roles_imposes_the_taxonomy_and_forbids_abstaining(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": "rebel", "contribution": "c", "abstain": True})
    rec = trial(task, "fixed_roles", 7, client)
    assert [r.role for r in rec.replies if r.kind == "agent"] == [
        "planner", "researcher", "analyst", "designer", "critic", "writer", "planner"]
    assert rec.abstention_rate == 0


def test_broadcast_announces_then_acts_seeing_intentions_only(fake_model, client, task):
    fake_model.reply = lambda req: json.dumps({"role": f"r{agent_of(req)}", "abstain": False,
                                               "contribution": f"{kind_of(req)} of {agent_of(req)}"})
    trial(task, "broadcast", 4, client)
    assert [k for k, _, _ in kinds(fake_model)] == ["intent"] * 4 + ["agent"] * 4
    act1 = user_text(fake_model.requests[5])
    assert "intent of 0" in act1 and "agent of" not in act1


def test_shared_decides_at_once_from_the_teams_memory_of_earlier_tasks(fake_model, client, task, bank_tasks):
    fake_model.reply = lambda req: (
        "final" if kind_of(req) == "assemble" else
        json.dumps({"role": f"role {agent_of(req)} on {req.sample.split('|')[0]}", "abstain": agent_of(req) == 2,
                    "contribution": f"work of {agent_of(req)}"}))
    recs = run_stream(bank_tasks[:3], "shared", "fake/m", 4, 0, client=client, scorers=NO_SCORERS)
    assert [r.calls for r in recs] == [4, 4, 4]  # N parallel
    agent_reqs = [r for r in fake_model.requests if kind_of(r) == "agent"]
    first, second, third = agent_reqs[:4], agent_reqs[4:8], agent_reqs[8:]
    assert all("no earlier tasks" in user_text(r) for r in first)
    t0 = bank_tasks[0].id
    for r in second:
        text = user_text(r)
        assert f"role 0 on {t0.replace('-', ' ')}" in text and "abstained" in text  # agent 2 abstained on task 1
        assert "work of" not in text  # memory is roles, never this task's or past work
    assert all(f"role 1 on {bank_tasks[1].id.replace('-', ' ')}" in user_text(r) for r in third)
    assert all(round_of(r) == 0 for r in agent_reqs)
    assert [r.position for r in recs] == [0, 1, 2] and len({r.stream_id for r in recs}) == 1
    assert recs[0].rsi is None and recs[1].rsi == 0.0  # every agent changed role (the task is in it)


def test_in_a_stream_only_shared_shows_memory(fake_model, client, bank_tasks):
    for protocol in ("sequential", "coordinator", "broadcast"):
        fake_model.requests.clear()
        run_stream(bank_tasks[:2], protocol, "fake/m", 3, 0, client=client, scorers=NO_SCORERS)
        assert not any("memory" in user_text(r) for r in fake_model.requests), protocol


def test_stigmergic_agents_see_marks_not_work(fake_model, client, task):
    fake_model.reply = lambda req: "final" if kind_of(req) == "assemble" else json.dumps(
        {"role": "scout" if agent_of(req) % 2 else "builder", "abstain": False,
         "contribution": f"note {agent_of(req)}\nsecret body {agent_of(req)}"})
    rec = trial(task, "stigmergic", 5, client)
    reqs = [r for r in fake_model.requests if kind_of(r) == "agent"]
    assert sorted(agent_of(r) for r in reqs) == list(range(5)) and rec.calls == 5
    last = user_text(reqs[-1])
    assert "marked" in last and "secret body" not in last
    assert "Nothing is marked yet" in user_text(reqs[0])


def test_ripple_spreads_in_waves_and_each_hears_only_its_neighbour(fake_model, client, task):
    fake_model.reply = lambda req: "final" if kind_of(req) == "assemble" else json.dumps(
        {"role": "r", "abstain": False, "contribution": f"from {agent_of(req)}"})
    trial(task, "ripple", 6, client)
    reqs = [r for r in fake_model.requests if kind_of(r) == "agent"]
    assert [(agent_of(r), round_of(r)) for r in reqs] == [(0, 0), (1, 1), (5, 1), (2, 2), (4, 2), (3, 3)]
    by = {agent_of(r): user_text(r) for r in reqs}
    assert "from 0" in by[1] and "from 0" in by[5] and "from 1" in by[2] and "from 5" in by[4]
    assert "from 0" not in by[2] and "from 1" not in by[4]


def test_morphogenetic_differentiates_on_its_neighbours_signals(fake_model, client, task):
    fake_model.reply = lambda req: "final" if kind_of(req) == "assemble" else json.dumps(
        {"role": f"sig{agent_of(req)}", "abstain": False, "contribution": "c"})
    rec = trial(task, "morphogenetic", 6, client)
    assert rec.calls == 2 * 6
    grow = {agent_of(r): user_text(r) for r in fake_model.requests if kind_of(r) == "agent"}
    assert "sig2" in grow[3] and "sig4" in grow[3] and "sig0" not in grow[3]


def test_clonal_clones_vary_the_fittest_founder(fake_model, client, task):
    def reply(req):
        if kind_of(req) == "assemble":
            return "final"
        a = agent_of(req)
        body = "- 1\n- 2\n- 3 items" if a == 1 else "plain words"
        return json.dumps({"role": "r", "abstain": False, "contribution": body + f" by {a}"})

    fake_model.reply = reply
    rec = trial(task, "clonal", 8, client)
    assert rec.calls == 8
    clones = [user_text(r) for r in fake_model.requests if kind_of(r) == "agent" and round_of(r) == 1]
    assert len(clones) == 6 and all("by 1" in c and "by 0" not in c for c in clones)


def test_dynamic_bids_decide_who_speaks_and_everyone_speaks_once(fake_model, client, task):
    rec = trial(task, "dynamic", 6, client, seed=3)
    speakers = [r.agent for r in rec.replies if r.kind == "agent"]
    assert sorted(speakers) == list(range(6))
    assert rec.calls <= 3 * 6 - 1


def test_hierarchical_has_leads_between_coordinator_and_members(fake_model, client, task):
    rec = trial(task, "hierarchical", 10, client)
    plans = [r for r in rec.replies if r.kind == "plan"]
    assert len(plans) == 1 + 3 and rec.calls == 10 + 1
    assert rec.hierarchy_depth == 2


@pytest.mark.parametrize("protocol", sorted(PACKAGED))
def test_team_of_one_is_one_call(fake_model, client, task, protocol):
    assert trial(task, protocol, 1, client).calls == 1


@pytest.mark.parametrize("protocol", ["sequential", "coordinator", "shared", "stigmergic", "broadcast"])
def test_256_agents_keep_every_prompt_within_the_context_budget(fake_model, client, task, protocol):
    rec = trial(task, protocol, 256, client, context_tokens=2048)
    assert rec.status == "ok" and rec.calls >= 256
    assert rec.max_prompt_tokens <= 2048
    assert len({r.agent for r in rec.replies}) == 256


def test_256_agent_memory_stays_within_the_context_budget(fake_model, client, bank_tasks):
    recs = run_stream(bank_tasks[:3], "shared", "fake/m", 256, 0, client=client, scorers=NO_SCORERS)
    assert all(r.max_prompt_tokens <= 2048 for r in recs)


@pytest.mark.parametrize("protocol", sorted(PACKAGED))
def test_same_seed_same_calls_in_the_same_order(fake_model, client, task, protocol):
    trial(task, protocol, 5, client, seed=7)
    first = [(r.sample, r.messages, r.seed) for r in fake_model.requests]
    fake_model.requests.clear()
    trial(task, protocol, 5, client, seed=7)
    assert [(r.sample, r.messages, r.seed) for r in fake_model.requests] == first
