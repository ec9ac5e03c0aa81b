"""Simulated agents read the real prompts: they write items the bank's own checks credit, avoid
what they were shown, abstain when nothing is left, link only to agents they saw, and are never
recorded."""

from __future__ import annotations

import json

import pytest

from sorg.model.client import ModelClient
from sorg.scoring.coverage import coverage_details
from sorg.sim import items
from sorg.tasks.bank import load_bank
from sorg.trial import run_stream, run_trial

BANK = load_bank()


def test_nearly_every_rubric_element_has_a_correct_line_that_its_own_check_credits():
    total = writable = 0
    for task in BANK:
        for el in task.rubric.elements:
            total += 1
            line = items.correct_text(task, el)
            if line is None:
                continue
            writable += 1
            passed = {i["id"] for i in coverage_details(task, line)["items"] if i["passed"]}
            assert el.id in passed, (task.id, el.id, line)
            wrong = {i["id"] for i in coverage_details(task, items.wrong_text(el))["items"] if i["passed"]}
            assert el.id not in wrong, (task.id, el.id)
    assert writable >= total - 2


def _client(tmp_path, record="none"):
    return ModelClient(cassette_dir=tmp_path / "cassettes", record=record, cache_dir=tmp_path / "cache")


def test_sim_calls_bypass_cassettes_and_cache_and_replay_identically(tmp_path):
    task = BANK.get("cur-l1-01")
    a = run_trial(task, "sequential", "sim/paper/closed", 4, 0, client=_client(tmp_path))
    b = run_trial(task, "sequential", "sim/paper/closed", 4, 0, client=_client(tmp_path))
    assert a.answer == b.answer and a.quality == b.quality and a.status == "ok"
    assert not (tmp_path / "cassettes").exists() or not any((tmp_path / "cassettes").rglob("*.jsonl"))
    c = run_trial(task, "sequential", "sim/paper/closed", 4, 1, client=_client(tmp_path))
    assert [r.raw for r in c.replies] != [r.raw for r in a.replies]


def test_sequential_agents_avoid_shown_items_and_abstain_when_nothing_is_left(tmp_path):
    task = BANK.get("cur-l1-01")  # three writable items
    rec = run_trial(task, "sequential", "sim/judge-coverage/agent", 8, 0, client=_client(tmp_path))
    work = [r for r in rec.replies if r.kind == "agent"]
    assert not work[0].abstain  # nothing written yet: agent 0 never abstains
    written = [r for r in work if not r.abstain]
    assert len({r.contribution for r in written[:3]}) == 3  # no repeats while items are left
    assert sum(r.abstain for r in work[3:]) >= 3  # most later agents see nothing left


def test_links_only_name_agents_the_replier_was_shown_and_coins_do_not(tmp_path):
    tasks = BANK.select(per_level=1)
    def impossible(world):
        bad = total = 0
        for rec in run_stream(tasks, "sequential", world, 8, 0, client=_client(tmp_path)):
            for r in rec.replies:
                if r.kind != "agent":
                    continue
                for link in (*r.builds_on, *r.defers_to):
                    total += 1
                    bad += link > r.agent  # in sequential an agent is shown only earlier agents
        return bad, total
    bad, total = impossible("sim/paper/closed")
    assert total > 0 and bad == 0
    bad, total = impossible("sim/random/agent")
    assert bad > 0


def test_shared_agents_retake_the_role_their_memory_shows(tmp_path):
    tasks = BANK.select(per_level=1)
    paper = run_stream(tasks, "shared", "sim/paper/closed", 4, 0, client=_client(tmp_path))
    null = run_stream(tasks, "shared", "sim/null/closed", 4, 0, client=_client(tmp_path))
    def kept(records):
        return sum(a == b and a != "" for x, y in zip(records, records[1:])
                   for a, b in zip(x.agent_roles, y.agent_roles))
    assert kept(paper) > kept(null)


def test_the_coordinator_plan_staffs_every_item_and_workers_write_their_assignment(tmp_path):
    task = BANK.get("cur-l1-02")
    rec = run_trial(task, "coordinator", "sim/judge-coverage/agent", 5, 0, client=_client(tmp_path))
    plan = json.loads(rec.replies[0].raw)["assignments"]
    assert [p["subtask"] for p in plan] == [e.description for e in items.writable_elements(task)][:4]
    assert rec.quality["coverage"] > 0


@pytest.mark.parametrize("protocol", ["broadcast", "shared", "fixed_roles", "single", "stigmergic", "ripple",
                                      "morphogenetic", "clonal", "dynamic", "hierarchical"])
def test_every_packaged_protocol_runs_on_a_world(tmp_path, protocol):
    rec = run_trial(BANK.get("evt-l2-01") if "evt-l2-01" in BANK else BANK.select(levels=2, per_level=1)[0],
                    protocol, "sim/paper/closed", 6, 0, client=_client(tmp_path))
    assert rec.status == "ok", rec.error
    assert rec.answer.strip()
    assert 0.25 <= rec.quality["judge_q"] <= 1.0
