"""The whole chain under the plugin, with nothing faked but the provider: the real
`run_trial`, protocols, model door and scorers, a fake backend registered in the suite's
conftest. Same records with and without -n 2; the claims are judged over them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection

pytest.importorskip("sorg.trial")
pytest.importorskip("sorg.model.client")

from sorg.store import read_records  # noqa: E402

CONFTEST = '''
import hashlib
from sorg.model.backends import RawReply, register_backend

async def fake_backend(req):
    h = hashlib.sha256(req.sample.encode()).hexdigest()
    last = req.messages[-1]["content"] if req.messages else ""
    text = ('{"role": "writer", "abstain": false, "contribution": "Plan step ' + h[:6] +
            ': budget, schedule, owners, risks. ' + last[-80:].replace('"', "'") + '"}')
    return RawReply(text=text, prompt_tokens=len(last) // 4 + 1, completion_tokens=30, model_version="fake-1",
                    cost_usd=1e-6)

register_backend("fake", fake_backend)
'''

INI = '''
[pytest]
# mechanics, not measurement: the fake runner's qualities never went through the instrument gate
sorg_gate = off
sorg_models = fake/m
sorg_protocols = sequential,coordinator,single
sorg_agents = 4
sorg_levels = 1,2
sorg_tasks_per_level = 2
sorg_seeds = 1
sorg_record = new
'''

EVALS = '''
from sorg import claims

def test_protocol(sorg_trial, task, protocol, n_agents, model, seed):
    r = sorg_trial(task, protocol, model, n_agents, seed)
    assert r.status == "ok", r.error
    assert 0.0 <= r.quality["coverage"] <= 1.0

@claims.claim
def test_spread(trials):
    return claims.spread(trials, by="protocol", metric="quality.coverage", alpha=0.05)
'''


def test_real_trials_same_records_with_and_without_xdist(project_dir):
    p = project_dir
    p.write("conftest.py", CONFTEST)
    p.write("pytest.ini", INI)
    p.write("test_evals.py", EVALS)
    r0 = p.run("--sorg-run-id=a", "-rA")
    assert r0.ret in (0, 1), r0.stdout.str()
    outcomes = r0.parseoutcomes()
    assert outcomes.get("passed", 0) >= 12, r0.stdout.str()
    r2 = p.run("-n", "2", "--sorg-run-id=b", "--sorg-record=none")
    assert r2.parseoutcomes() == outcomes
    a = {t.trial_id: t for t in read_records(p.path / "reports" / "a" / "trials.jsonl")}
    b = {t.trial_id: t for t in read_records(p.path / "reports" / "b" / "trials.jsonl")}
    assert len(a) == 12 and a.keys() == b.keys()
    for k in a:  # the replay gives the same answers and scores; only provenance and timing differ
        assert (a[k].answer, dict(a[k].quality), a[k].calls) == (b[k].answer, dict(b[k].quality), b[k].calls)
        assert set(b[k].sources) == {"cassette"}
    assert "sorg claims" in r2.stdout.str() and "test_spread" in r2.stdout.str()


STREAM_EVALS = '''
import pytest

@pytest.mark.sorg(protocols=["shared", "sequential"], stream_length=2)
def test_stream(sorg_stream, stream, protocol, n_agents, model, seed):
    records = sorg_stream(stream, protocol, model, n_agents, seed)
    assert [r.position for r in records] == list(range(len(stream)))
'''


def test_a_stream_is_one_test_and_yields_a_record_per_task_under_xdist_too(project_dir):
    """Four tasks in streams of two: each stream is one test (so -k and xdist never split it),
    and every task's record reaches the store, in order, with its stream id."""
    p = project_dir
    p.write("conftest.py", CONFTEST)
    p.write("pytest.ini", INI.replace("sorg_protocols = sequential,coordinator,single\n", ""))
    p.write("test_evals.py", STREAM_EVALS)
    r = p.run("--sorg-run-id=s", "--sorg-scorers=coverage", "-n", "2")
    assert r.parseoutcomes().get("passed") == 4, r.stdout.str()  # 2 streams x 2 protocols
    recs = read_records(p.path / "reports" / "s" / "trials.jsonl")
    assert len(recs) == 8
    streams = {}
    for rec in recs:
        streams.setdefault(rec.stream_id, []).append(rec.position)
    assert len(streams) == 4 and all(sorted(v) == [0, 1] for v in streams.values())
    shared_second = [x for x in recs if x.protocol == "shared" and x.position == 1]
    assert shared_second and all(x.rsi is not None or not any(x.agent_roles) for x in shared_second)
    # Selecting one stream by its id runs both of its tasks, never one of them.
    r2 = p.run("--sorg-run-id=k", "--sorg-scorers=coverage", "-k", "shared and cur-l1-01")
    assert r2.parseoutcomes().get("passed") == 1, r2.stdout.str()
    assert len(read_records(p.path / "reports" / "k" / "trials.jsonl")) == 2
