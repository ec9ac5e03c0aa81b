"""The prompt version sees every prompt: changing any template, header or constant that an
agent or a judge receives changes it; nothing else does."""

from __future__ import annotations

import pytest

import sorg.agents
import sorg.protocols.base
import sorg.protocols.broadcast
import sorg.protocols.clonal
import sorg.protocols.coordinator
import sorg.protocols.fixed_roles
import sorg.protocols.plan
import sorg.protocols.ripple
import sorg.protocols.shared
import sorg.scoring.judge_q
from sorg import prompt_version as pv


@pytest.fixture(autouse=True)
def fresh():
    pv.reset()
    yield
    pv.reset()


CHANGES = [
    (sorg.agents, "SYSTEM", "X" + sorg.agents.SYSTEM),
    (sorg.agents, "ASK_JSON", "X" + sorg.agents.ASK_JSON),
    (sorg.agents, "ASK_JSON_IMPOSED", "X" + sorg.agents.ASK_JSON_IMPOSED),
    (sorg.agents, "REPLY_FORMAT", {**sorg.agents.REPLY_FORMAT, "x": 1}),
    (sorg.protocols.base, "ASSEMBLE", "X" + sorg.protocols.base.ASSEMBLE),
    (sorg.protocols.fixed_roles, "TAXONOMY", ("planner", "x")),
    (sorg.protocols.coordinator, "MAX_PARTS", 2),
    (sorg.protocols.coordinator, "PLAN_FORMAT", {"type": "json_object"}),
    (sorg.protocols.clonal, "math", type("M", (), {"ceil": staticmethod(lambda x: 3)})),
    (sorg.scoring.judge_q, "RUBRIC", "X" + sorg.scoring.judge_q.RUBRIC),
    (sorg.scoring.judge_q, "SYSTEM", "X" + sorg.scoring.judge_q.SYSTEM),
    (sorg.scoring.judge_q, "JUDGE_MAX_TOKENS", 121),
]


@pytest.mark.parametrize("module,name,value", CHANGES, ids=[f"{m.__name__}.{n}" for m, n, _ in CHANGES])
def test_changing_any_template_changes_the_version(monkeypatch, module, name, value):
    before = pv.prompt_version()
    pv.reset()
    monkeypatch.setattr(module, name, value)
    assert pv.prompt_version() != before


def test_a_team_setting_changes_the_version(monkeypatch):
    """The answer budget, the agents' temperature and their token limit are part of what
    every request asks (Team's defaults)."""
    import inspect

    from sorg.protocols.base import Team

    names = [p.name for p in inspect.signature(Team.__init__).parameters.values()
             if p.default is not inspect.Parameter.empty]
    for field, value in (("answer_tokens", 321), ("temperature", 0.5), ("max_tokens", 161)):
        before = pv.prompt_version()
        pv.reset()
        defaults = list(Team.__init__.__defaults__)
        defaults[names.index(field)] = value
        monkeypatch.setattr(Team.__init__, "__defaults__", tuple(defaults))
        assert pv.prompt_version() != before, field
        monkeypatch.undo()
        pv.reset()


def test_a_header_change_changes_the_version(monkeypatch):
    before = pv.prompt_version()
    pv.reset()
    monkeypatch.setattr(sorg.protocols.base, "header", lambda team, a: f"Agent {a} of {team.n_agents}.")
    for mod in (sorg.protocols.broadcast, sorg.protocols.shared, sorg.protocols.ripple):
        monkeypatch.setattr(mod, "header", sorg.protocols.base.header)
    assert pv.prompt_version() != before


def test_the_version_is_stable_and_ignores_what_no_model_sees(monkeypatch):
    before = pv.prompt_version()
    pv.reset()
    monkeypatch.setattr(sorg.protocols.shared, "__doc__", "changed")
    assert pv.prompt_version() == before
