"""One trial end to end through the real model door (fake backend), and its failure modes."""

from __future__ import annotations

import json

import pytest

from sorg.errors import CassetteMiss
from sorg.model.backends import ProviderError, RawReply, register_backend, unregister_backend
from sorg.model.client import ModelClient
from sorg.record import TrialRecord
from sorg.tasks import load_bank
from sorg.trial import run_trial, trial_id


@pytest.fixture
def model(fake_model):
    """The scripted fake model of tests/protocols/conftest.py, registered as "fake/..."."""
    return fake_model


def test_record_is_complete_and_round_trips(model, tmp_path):
    task = load_bank().select(per_level=1)[0]
    client = ModelClient(cassette_dir=None, cache_dir=None)
    rec = run_trial(task, "coordinator", "fake/m", 4, 1, client=client)
    assert rec.trial_id == trial_id(task.id, "coordinator", "fake/m", 4, 1) == f"{task.id}.coordinator.fake--m.n4.s1"
    assert rec.status == "ok" and set(rec.quality) == {"coverage", "judge_q"}
    assert all(0 <= v <= 1 for v in rec.quality.values())
    # The fake judge gives accuracy 3, completeness 2, coherence 3, actionability 2: Q = 10/16.
    assert rec.quality["judge_q"] == 10 / 16 and rec.judge["self_judged"] and rec.judge["mission_relevance"] == 4
    assert rec.calls == 5 == sum(r.calls for r in rec.per_agent) == sum(r.calls for r in rec.per_round)
    assert rec.prompt_tokens == sum(r.prompt_tokens for r in rec.replies)  # the team's, judge apart
    assert rec.scores["judge_q"]["usage"]["calls"] == 1
    assert rec.sources == {"live": 5} and rec.model_version == "fake-1" and rec.prompt_version
    assert rec.answer_chars == len(rec.answer) and rec.stream_id == "" and rec.position == 0 and rec.rsi is None
    assert TrialRecord.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec
    assert all(r.label == rec.trial_id for r in model.requests)


def test_replay_from_cassette_gives_the_same_record(model, tmp_path):
    task = load_bank().select(per_level=1)[1]
    live = run_trial(task, "sequential", "fake/m", 4, 0,
                     client=ModelClient(cassette_dir=tmp_path, record="new", cache_dir=None))
    unregister_backend("fake")
    replay = run_trial(task, "sequential", "fake/m", 4, 0,
                       client=ModelClient(cassette_dir=tmp_path, record="none", cache_dir=None))
    def strip(r):
        return {k: v for k, v in r.to_dict().items() if k not in ("latency_s", "sources", "replies")}

    assert strip(replay) == strip(live) and replay.sources == {"cassette": 4}
    assert [r.contribution for r in replay.replies] == [r.contribution for r in live.replies]


def test_cassette_miss_raises_but_provider_errors_become_error_records(model, tmp_path):
    task = load_bank().select(per_level=1)[0]
    with pytest.raises(CassetteMiss):
        run_trial(task, "sequential", "fake/m", 2, 0,
                  client=ModelClient(cassette_dir=tmp_path, record="none", cache_dir=None))

    async def broken(req):
        raise ProviderError("upstream exploded", status=500)

    register_backend("fake", broken)
    rec = run_trial(task, "sequential", "fake/m", 2, 0,
                    client=ModelClient(cassette_dir=None, cache_dir=None, retries=1, backoff_s=0.0))
    assert rec.status == "error" and "upstream exploded" in rec.error and rec.quality == {}


def test_unknown_protocol_and_bad_team_size_are_named(model):
    task = load_bank().select(per_level=1)[0]
    client = ModelClient(cassette_dir=None, cache_dir=None)
    with pytest.raises(ValueError, match="unknown protocol 'anarchy'"):
        run_trial(task, "anarchy", "fake/m", 2, 0, client=client)
    with pytest.raises(ValueError, match="n_agents"):
        run_trial(task, "sequential", "fake/m", 0, 0, client=client)


def test_a_failed_concurrent_turn_cancels_its_siblings(task):
    """One worker's provider error ends the trial; the other workers' calls are cancelled,
    not left running (and spending) after the error record is returned."""
    import asyncio

    from sorg.trial import arun_trial

    finished: list[int] = []

    async def backend(req):
        kind, agent = req.sample.split("|")[4], int(req.sample.split("|")[5][1:])
        if kind == "plan":
            return RawReply(text=json.dumps({"assignments": [{"role": "r", "subtask": "s"}]}),
                            prompt_tokens=5, completion_tokens=5)
        if agent == 1:
            raise ProviderError("worker 1 exploded", status=400)
        await asyncio.sleep(0.3)
        finished.append(agent)
        return RawReply(text='{"role": "r", "contribution": "c", "abstain": false}',
                        prompt_tokens=5, completion_tokens=5)

    async def main():
        rec = await arun_trial(task, "coordinator", "fake/m", 4, 0,
                               client=ModelClient(cassette_dir=None, cache_dir=None, retries=1,
                                                  backoff_s=0.0, concurrency=8))
        await asyncio.sleep(0.5)  # a leaked sibling would finish here
        return rec

    register_backend("fake", backend)
    try:
        rec = asyncio.run(main())
    finally:
        unregister_backend("fake")
    assert rec.status == "error" and "worker 1 exploded" in rec.error
    assert finished == []


class _Door:
    """Just the counter `run_in_loop` reads: a real client's `live_calls`."""

    live_calls = 0


def test_the_loop_is_kept_only_across_trials_that_replay():
    """Replay-only runs share one loop; a live call, a leftover task or an error closes it
    (as asyncio.run would), and the next run gets a fresh loop."""
    import asyncio
    import contextvars

    from sorg.trial import close_kept_loop, run_in_loop

    door = _Door()
    var: contextvars.ContextVar[int] = contextvars.ContextVar("var", default=0)

    async def replay():
        var.set(var.get() + 1)  # a context change must not leak into the next run
        return asyncio.get_running_loop(), var.get()

    async def live():
        door.live_calls += 1
        return asyncio.get_running_loop()

    async def leaves_a_task():
        asyncio.get_running_loop().create_task(asyncio.sleep(60))
        return asyncio.get_running_loop()

    async def fails():
        raise RuntimeError("boom")

    close_kept_loop()
    try:
        (a, n1), (b, n2) = run_in_loop(replay(), door), run_in_loop(replay(), door)
        assert a is b and not a.is_closed() and n1 == n2 == 1
        assert run_in_loop(live(), door) is a and a.is_closed()
        c, _ = run_in_loop(replay(), door)
        assert c is not a and not c.is_closed()
        assert run_in_loop(leaves_a_task(), door) is c and c.is_closed()
        d, _ = run_in_loop(replay(), door)
        with pytest.raises(RuntimeError, match="boom"):
            run_in_loop(fails(), door)
        assert d.is_closed()
        # A client without the counter (a user's own door) always gets asyncio.run.
        e, _ = run_in_loop(replay(), object())
        assert e.is_closed()
        # Some other code closing the kept loop does not break the next trial.
        f, _ = run_in_loop(replay(), door)
        f.close()
        g, _ = run_in_loop(replay(), door)
        assert g is not f and not g.is_closed()
    finally:
        close_kept_loop()


def test_a_live_trial_closes_its_loop_and_replays_keep_theirs(model, tmp_path):
    """Through the real door: recording calls the backend (live) and closes the loop; the
    replay of the same trial keeps it."""
    import sorg.trial as trial_mod

    task = load_bank().select(per_level=1)[0]
    trial_mod.close_kept_loop()
    try:
        run_trial(task, "broadcast", "fake/m", 3, 0,
                  client=ModelClient(cassette_dir=tmp_path, record="new", cache_dir=None))
        assert trial_mod._Kept.runner is None
        client = ModelClient(cassette_dir=tmp_path, record="none", cache_dir=None)
        run_trial(task, "broadcast", "fake/m", 3, 0, client=client)
        kept = trial_mod._Kept.runner
        assert kept is not None and client.live_calls == 0
        run_trial(task, "broadcast", "fake/m", 3, 0, client=client)
        assert trial_mod._Kept.runner is kept
    finally:
        trial_mod.close_kept_loop()
