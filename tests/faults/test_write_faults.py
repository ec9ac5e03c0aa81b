"""Lost data (issue 28, items 6-9): torn lines of any length, a full disk, one writer per run.

Before: a torn last cassette line longer than 1 MiB was not repaired (the repair scanned the
last 1 MiB only), so the next append glued onto it and every replay of that model failed; on a
full disk the budget ledger was truncated to 0 bytes (spend read $0), each trial failed with a
raw OSError traceback and its paid reply was neither recorded nor cached, and a trial record
that did not fit left half a line in trials.jsonl and an INTERNALERROR.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from sorg.model.cassette import append_entry, read_entries


def _entry(key: str, text: str = "ok") -> dict:
    return {"v": 1, "key": key * 64, "model": "fake/m", "reply": {"text": text, "prompt_tokens": 1, "completion_tokens": 1}}


def test_a_torn_cassette_line_of_any_length_is_repaired(tmp_path: Path):
    path = tmp_path / "fake--m" / "default.jsonl"
    append_entry(path, _entry("a"))
    with path.open("ab") as fh:  # a 3 MiB reply cut short by a kill: no closing brace, no newline
        fh.write(b'{"v":1,"key":"torn","model":"fake/m","reply":{"text":"' + b"x" * (3 << 20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        append_entry(path, _entry("b"))
        keys = [e["key"] for _, e in read_entries(path)]
    assert keys == ["a" * 64, "b" * 64]  # before: CassetteCorrupt (line 2 glued "x..." onto entry b)
    assert path.read_bytes().count(b"\n") == 2


def _enospc(*a, **k):
    raise OSError(28, "No space left on device")


def test_a_full_disk_keeps_the_ledger_and_the_paid_reply(tmp_path, fake_backend, monkeypatch):
    from sorg.errors import ModelError
    from sorg.model import cassette, unsaved
    from sorg.model.budget import Budget
    from sorg.model.client import ModelClient
    from tests.model.helpers import make_request

    state = tmp_path / "state"
    ledger = Budget(5.0, state, run="full")
    ledger.add(0.25)
    monkeypatch.setattr("sorg.model.budget.os.write", _enospc)
    try:
        ledger.add(0.5)
    except OSError:
        pass
    monkeypatch.undo()
    assert ledger.spent() == 0.25  # before: the ledger was truncated to 0 bytes and read $0
    monkeypatch.setattr(cassette, "append_entry", _enospc)
    c = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=None, state_dir=state,
                    prices={"fake/m": {"input": 1e-3, "output": 1e-3}})
    try:
        c.complete(make_request("pay me", sample="s-full"))
        raise AssertionError("no error")
    except ModelError as exc:  # the trial records a clean, resumable error (before: a raw OSError)
        assert "the paid reply could not be saved" in str(exc) and "No space left" in str(exc)
    monkeypatch.undo()
    kept = list((state / "unsaved").glob("*.json"))
    assert len(kept) == 1 and unsaved.KEPT[-1]["reply"]["text"].startswith("reply to s-full")
    assert unsaved.restore(tmp_path / "cas", state)
    calls = len(fake_backend.calls)
    replay = ModelClient(cassette_dir=tmp_path / "cas", record="none", cache_dir=None)
    assert replay.complete(make_request("pay me", sample="s-full")).source == "cassette"
    assert len(fake_backend.calls) == calls  # not paid twice


def test_a_full_disk_leaves_the_trial_store_whole(tmp_path):
    from sorg.errors import StoreWriteFailed
    from sorg.store import TrialStore, encode

    st = TrialStore(tmp_path, "r", point_latest_on_open=False)
    assert st.append_line("t1", encode({"trial_id": "t1", "status": "ok"}), "ok")

    class Full:  # a file whose write stops half-way: the disk filled up
        def __init__(self, fh):
            self.fh = fh

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def write(self, text):
            self.fh.write(text[: len(text) // 2])
            self.fh.flush()
            raise OSError(28, "No space left on device")

    st._fh = Full(st._fh)
    try:
        st.append_line("t2", encode({"trial_id": "t2", "status": "ok", "answer": "x" * 100}), "ok")
        raise AssertionError("no error")
    except StoreWriteFailed as exc:
        assert "could not be stored" in str(exc) and "--sorg-run-id=r" in str(exc)
    assert (tmp_path / "r" / "trials.jsonl").read_bytes().count(b"\n") == 1  # no half line left behind
    assert st.append_line("t3", encode({"trial_id": "t3", "status": "ok"}), "ok")  # reopens, appends whole
    st.close()
    assert [ln[:20] for ln in (tmp_path / "r" / "trials.jsonl").read_text().splitlines()] == [
        '{"trial_id":"t1","st', '{"trial_id":"t3","st']


def test_a_second_run_with_the_same_id_refuses_before_any_trial(project):
    """Before: both ran; one's end-of-run compaction replaced trials.jsonl under the other and
    1-2 trials reported PASSED had no ok record (3 of 3 tries)."""
    from sorg.store import run_lock

    held = run_lock(project.path / "reports", "busy")  # another run holds it
    try:
        r = project.run("--sorg-run-id=busy", "test_evals.py")
        assert r.ret == 4 and "run 'busy' is in use by another sorg run" in r.stderr.str()
        assert not (project.path / "reports" / "busy").exists()  # nothing ran, nothing written
    finally:
        held.release()
    project.run("--sorg-run-id=busy", "test_evals.py").assert_outcomes(passed=26)


def test_two_recorders_of_one_cassette_dir_pay_once_per_request(tmp_path):
    """Before: two recorders into one cassette dir paid twice and duplicated every entry
    (182 calls for 96 requests)."""
    import subprocess
    import sys
    import textwrap

    from tests.subproc import HANG_S, pythonpath

    log = tmp_path / "calls.log"
    script = textwrap.dedent(f"""
        import asyncio, os
        from sorg.model.backends import register_backend, RawReply
        from sorg.model.client import ModelClient
        from sorg.model.types import Request
        async def slow(req):
            with open({str(log)!r}, "a") as fh:
                fh.write(req.sample + "\\n")
            await asyncio.sleep(0.05)
            return RawReply(text="r " + req.sample, prompt_tokens=1, completion_tokens=1)
        register_backend("fake", slow)
        c = ModelClient(cassette_dir={str(tmp_path / 'cas')!r}, record="new", cache_dir=None)
        async def main():
            await asyncio.gather(*(c.acomplete(Request(model="fake/m", messages=({{"role": "user", "content": "q"}},),
                                                       sample=f"s{{i}}")) for i in range(24)))
        asyncio.run(main())
    """)
    env = {"PYTHONPATH": pythonpath(tmp_path), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(3)]
    assert all(p.wait(timeout=HANG_S) == 0 for p in procs)
    calls = log.read_text().split()
    assert len(calls) == 24 == len(set(calls))  # each request paid once, by one of the three
    lines = (tmp_path / "cas" / "fake--m" / "default.jsonl").read_text().splitlines()
    assert len(lines) == 24  # no duplicate entries


def test_a_killed_rewrite_is_resumed_without_paying_again(tmp_path, fake_backend, monkeypatch):
    """Before: a killed --sorg-record=rewrite left its paid calls in an orphan staging file and
    the rerun paid for each again."""
    from sorg.model.cassette import finish_rewrite
    from sorg.model.client import ModelClient
    from sorg.progress import SHARE_ENV
    from tests.model.helpers import make_request

    cas = tmp_path / "cas"
    reqs = [make_request(f"q{i}", sample=f"s{i}") for i in range(5)]
    monkeypatch.setenv(SHARE_ENV, str(tmp_path / "sorg-run-killed"))
    killed = ModelClient(cassette_dir=cas, record="rewrite", cache_dir=None)
    for r in reqs[:3]:
        killed.complete(r)  # paid, staged, then the run is killed before its swap
    assert len(fake_backend.calls) == 3
    monkeypatch.setenv(SHARE_ENV, str(tmp_path / "sorg-run-rerun"))
    rerun = ModelClient(cassette_dir=cas, record="rewrite", cache_dir=None)
    for r in reqs:
        rerun.complete(r)
    assert len(fake_backend.calls) == 5  # only the 2 never paid for
    finish_rewrite(cas, "sorg-run-rerun")
    assert not list(cas.rglob("*.rewrite-*"))
    assert len((cas / "fake--m" / "default.jsonl").read_text().splitlines()) == 5
