"""The generation settings (--sorg-temperature, --sorg-max-tokens, --sorg-context-tokens,
--sorg-answer-tokens) reach the model request from the flag, the ini key and the environment;
unset, the plugin asks exactly what `run_trial` asks with `Team`'s defaults (the requests the
committed cassettes hold)."""

from __future__ import annotations

import asyncio
import json

import pytest

from sorg import options
from sorg.model.types import Completion
from sorg.protocols.base import ANSWER_TOKENS, CONTEXT_TOKENS, MAX_TOKENS, TEMPERATURE, Team

# A probe backend that logs every request whole and answers with a long contribution (so the
# context budget visibly cuts what the next agent sees).
CONFTEST = '''
import json, os
from sorg.model.backends import RawReply, register_backend

REPLY = json.dumps({"role": "probe", "contribution": "- " + "word " * 300, "abstain": False})

async def probe(req):
    with open(os.environ["PROBE_LOG"], "a") as fh:
        fh.write(json.dumps({"model": req.model, "messages": [dict(m) for m in req.messages],
                             "temperature": req.temperature, "max_tokens": req.max_tokens, "seed": req.seed,
                             "response_format": req.response_format, "sample": req.sample}) + "\\n")
    return RawReply(text=REPLY, prompt_tokens=1, completion_tokens=1, model_version="probe-1", cost_usd=0.0)

register_backend("probe", probe)
'''

INI = '''
[pytest]
sorg_models = probe/m
sorg_protocols = sequential,single
sorg_agents = 2
sorg_levels = 1
sorg_tasks_per_level = 1
sorg_seeds = 1
sorg_scorers = coverage
sorg_cassette_dir = none
sorg_cache_dir = none
'''

EVALS = '''
def test_trial(sorg_trial, task, protocol, n_agents, model, seed):
    assert sorg_trial(task, protocol, model, n_agents, seed).status == "ok"
'''

REPLY = json.dumps({"role": "probe", "contribution": "- " + "word " * 300, "abstain": False})


class _Probe:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    async def acomplete(self, req):
        self.requests.append({"model": req.model, "messages": [dict(m) for m in req.messages],
                              "temperature": req.temperature, "max_tokens": req.max_tokens, "seed": req.seed,
                              "response_format": req.response_format, "sample": req.sample})
        return Completion(text=REPLY, prompt_tokens=1, completion_tokens=1, cost_usd=0.0, latency_s=0.0,
                          model=req.model, source="live", key="probe")


#: Sequential (the agents' budget, the context cut) and single (the answer budget: only a
#: synthesised or lone answer has one, no self-organised team makes an assembly call).
PROTOCOLS = ("sequential", "single")


def _sorted(requests: list[dict]) -> list[dict]:
    return sorted(requests, key=lambda r: json.dumps(r, sort_keys=True))


def _direct(task_id: str, **settings) -> list[dict]:
    """The requests of `arun_trial` called directly (no plugin), with `settings`."""
    from sorg.tasks import load_bank
    from sorg.trial import arun_trial

    probe = _Probe()
    for protocol in PROTOCOLS:
        asyncio.run(arun_trial(load_bank().get(task_id), protocol, "probe/m", 2, 0, client=probe,
                               scorers=("coverage",), **settings))
    return _sorted(probe.requests)


def _run(project_dir, ini_extra: str = "", *args: str, **env: str) -> list[dict]:
    p = project_dir
    p.write("conftest.py", CONFTEST)
    p.write("pytest.ini", INI + ini_extra)
    p.write("test_evals.py", EVALS)
    log = p.path / "probe.log"
    log.unlink(missing_ok=True)
    p.run(*args, PROBE_LOG=str(log), **env).assert_outcomes(passed=len(PROTOCOLS))
    return _sorted([json.loads(line) for line in log.read_text().splitlines()])


def test_the_options_default_to_the_teams_defaults():
    by_name = {s.name: s for s in options.SPECS}
    assert by_name["temperature"].parse(by_name["temperature"].default) == TEMPERATURE
    assert by_name["max_tokens"].parse(by_name["max_tokens"].default) == MAX_TOKENS
    # 'auto': the Team's default for a model, a simulated world's larger one for sim/ (sorg.sim_defaults)
    assert by_name["context_tokens"].parse(by_name["context_tokens"].default) is None
    assert Team.__dataclass_fields__["context_tokens"].default == CONTEXT_TOKENS
    assert by_name["answer_tokens"].parse(by_name["answer_tokens"].default) == ANSWER_TOKENS


@pytest.mark.slow
def test_unset_the_plugin_asks_what_the_teams_defaults_ask(project_dir):
    got = _run(project_dir)
    task_id = got[0]["sample"].split("|")[0]
    assert got == _direct(task_id)
    assert {r["temperature"] for r in got} == {TEMPERATURE}
    assert max(r["max_tokens"] for r in got) == ANSWER_TOKENS


@pytest.mark.slow
def test_flag_ini_and_env_settings_reach_the_requests(project_dir):
    got = _run(project_dir, "sorg_max_tokens = 100\n", "--sorg-temperature=0.25",
               SORG_ANSWER_TOKENS="200", SORG_CONTEXT_TOKENS="600")
    task_id = got[0]["sample"].split("|")[0]
    assert got == _direct(task_id, temperature=0.25, max_tokens=100, answer_tokens=200, context_tokens=600)
    assert {r["temperature"] for r in got} == {0.25}
    assert {r["max_tokens"] for r in got} == {100, 200}  # the agents', the lone agent's answer
    # the tighter context budget cuts what agent 1 sees of agent 0's long contribution
    assert got != _direct(task_id, temperature=0.25, max_tokens=100, answer_tokens=200)
