"""The plugin's `sorg_client` for real: the model door configured from the --sorg-* options,
with a fake backend (no network). Records, then replays from cassettes with no live call, and a
cassette miss in replay mode fails the trial's test naming the request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection

pytest.importorskip("sorg.model.client")

from sorg.store import read_records  # noqa: E402

CONFTEST = '''
import hashlib, os
from collections import Counter

import pytest
from sorg.model.backends import RawReply, register_backend
from sorg.model.types import Request
from sorg.record import TrialRecord


async def fake_backend(req):
    if os.environ.get("SORG_FAKE_SLEEP"):
        import asyncio
        await asyncio.sleep(float(os.environ["SORG_FAKE_SLEEP"]))
    with open(os.environ["SORG_FAKE_LOG"], "a") as fh:
        fh.write(req.sample + "\\n")
    h = hashlib.sha256(req.sample.encode()).hexdigest()
    return RawReply(text="reply " + h[:12], prompt_tokens=11, completion_tokens=7, model_version="fake-1",
                    cost_usd=0.001)

register_backend("fake", fake_backend)


def door_trial(task, protocol, model, n_agents, seed, *, client, judge_model=None, label="", **kw):
    tid = f"{task.id}|{protocol}|n{n_agents}|s{seed}"
    comps = [client.complete(Request(model=model, messages=({"role": "user", "content": task.prompt[:200]},),
                                     max_tokens=16, sample=f"{tid}|agent|a{a}|r0", label=tid))
             for a in range(2)]
    q = int(hashlib.sha256("".join(c.text for c in comps).encode()).hexdigest()[:4], 16) / 65535
    return TrialRecord(
        trial_id=tid, task_id=task.id, level=task.level, domain=task.domain, protocol=protocol, model=model,
        n_agents=n_agents, seed=seed, answer=comps[0].text, quality={"rubric": q},
        cost_usd=sum(c.cost_usd for c in comps), prompt_tokens=sum(c.prompt_tokens for c in comps),
        completion_tokens=sum(c.completion_tokens for c in comps), calls=len(comps), latency_s=0.0,
        max_prompt_tokens=11, per_agent=(), per_round=(), replies=(), unique_roles=0, roles=(),
        role_entropy=0.0, abstention_rate=0.0, hierarchy_depth=0, parse_failure_rate=0.0,
        sources=dict(Counter(c.source for c in comps)), model_version=comps[0].model)


@pytest.fixture(scope="session")
def sorg_runner():
    return door_trial
'''

INI = '''
[pytest]
# mechanics, not measurement: the fake runner's qualities never went through the instrument gate
sorg_gate = off
sorg_models = fake/m
sorg_protocols = sequential,coordinator
sorg_agents = 4
sorg_levels = 1
sorg_tasks_per_level = 2
sorg_seeds = 2
'''

EVALS = '''
def test_protocol(sorg_trial, task, protocol, n_agents, model, seed):
    sorg_trial(task, protocol, model, n_agents, seed)
'''


def _live_calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_record_then_replay_from_cassettes_without_live_calls(project_dir):
    p = project_dir
    p.write("conftest.py", CONFTEST)
    p.write("pytest.ini", INI)
    p.write("test_evals.py", EVALS)
    log = p.path / "live.log"
    r = p.run("-n", "2", "--sorg-record=new", "--sorg-run-id=rec", SORG_FAKE_LOG=str(log))
    r.assert_outcomes(passed=8)
    assert _live_calls(log) == 16
    assert list((p.path / "cassettes").rglob("*.jsonl")), "the run recorded cassettes"
    recorded = {t.trial_id: t for t in read_records(p.path / "reports" / "rec" / "trials.jsonl")}
    assert all(t.sources == {"live": 2} for t in recorded.values())

    # replay: no live call, the same answers, sources say cassette; the report names the cassettes
    r = p.run("--sorg-run-id=replay", "--sorg-cache-dir=none", SORG_FAKE_LOG=str(log))
    r.assert_outcomes(passed=8)
    assert _live_calls(log) == 16
    replayed = {t.trial_id: t for t in read_records(p.path / "reports" / "replay" / "trials.jsonl")}
    assert {k: v.answer for k, v in replayed.items()} == {k: v.answer for k, v in recorded.items()}
    assert all(t.sources == {"cassette": 2} for t in replayed.values())
    md = (p.path / "reports" / "replay" / "summary.md").read_text()
    assert "cassettes (sha256/16): `fake" in md and "default.jsonl" in md

    # a cell the cassettes lack, in replay mode: the test fails with the model door's CassetteMiss
    r = p.run("--sorg-run-id=miss", "--sorg-seeds=3", "--sorg-cache-dir=none", SORG_FAKE_LOG=str(log))
    r.assert_outcomes(passed=8, failed=4)
    assert "CassetteMiss" in r.stdout.str()
    assert _live_calls(log) == 16


def test_killed_run_resumes_from_cassettes_with_only_the_missing_calls(project_dir):
    """kill -9 of the controller half-way (recording, -n 2): finished trials stay in the store,
    and the rerun makes live calls only for what was not finished."""
    p = project_dir
    p.write("conftest.py", CONFTEST)
    p.write("pytest.ini", INI.replace("sorg_seeds = 2", "sorg_seeds = 4"))  # 16 trials, 32 calls
    p.write("test_evals.py", EVALS)
    log = p.path / "live.log"
    store = p.path / "reports" / "k" / "trials.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--sorg-record=new",
                             "--sorg-run-id=k"], cwd=p.path, start_new_session=True,
                            env=p.env(SORG_FAKE_LOG=str(log), SORG_FAKE_SLEEP="0.1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (store.exists() and store.read_bytes().count(b"\n") >= 4):
            assert time.monotonic() < deadline, "no trial stored within 60 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    kept = {t.trial_id: t for t in read_records(store)}
    assert 4 <= len(kept) < 16
    calls_before = _live_calls(log)
    r = p.run("--sorg-record=new", "--sorg-run-id=k", SORG_FAKE_LOG=str(log))
    r.assert_outcomes(passed=16)
    final = {t.trial_id: t for t in read_records(store)}
    assert len(final) == 16 and all(final[k] == v for k, v in kept.items())
    assert len([ln for ln in store.read_text().splitlines() if ln]) == 16
    # every call of a stored trial replayed: at most the calls of unfinished trials went live
    assert _live_calls(log) - calls_before <= 2 * (16 - len(kept))
