"""Cassettes: record, replay, modes, misses that explain themselves, damage, parallel writers, locks."""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sorg.errors import CassetteCorrupt, CassetteMiss, LockTimeout
from sorg.model.cassette import FORMAT_VERSION, CassetteStore, append_entry, compact, read_entries
from sorg.model.client import ModelClient
from sorg.model.identity import request_key
from sorg.model.locks import lock_path
from tests.model.helpers import make_request
from tests.subproc import HANG_S

REPO = Path(__file__).resolve().parents[2]


def _client(tmp_path: Path, record: str = "new", cache: bool = False, **kw) -> ModelClient:
    return ModelClient(cassette_dir=tmp_path / "cassettes", record=record,
                       cache_dir=(tmp_path / "cache") if cache else None, backoff_s=0.001, **kw)


def test_record_then_replay(tmp_path: Path, fake_backend) -> None:
    req = make_request("what is 2+2?", sample="t1|a0|r0", label="test_math")
    live = _client(tmp_path).complete(req)
    assert live.source == "live" and live.text == "reply to t1|a0|r0: what is 2+2?"
    assert live.model_version == "fake-v1" and live.key == request_key(req)
    replay = _client(tmp_path, record="none").complete(req)
    assert replay.source == "cassette"
    assert (replay.text, replay.prompt_tokens, replay.completion_tokens, replay.cost_usd, replay.model_version) == \
        (live.text, live.prompt_tokens, live.completion_tokens, live.cost_usd, live.model_version)
    assert len(fake_backend.calls) == 1


def test_cassette_file_layout_and_content(tmp_path: Path, fake_backend) -> None:
    _client(tmp_path, cassette_name="unit").complete(make_request("x" * 200, sample="s9", label="lbl"))
    path = tmp_path / "cassettes" / "fake--m" / "unit.jsonl"
    (line,) = path.read_text().splitlines()
    entry = json.loads(line)
    assert entry["v"] == FORMAT_VERSION and entry["model"] == "fake/m" and entry["sample"] == "s9"
    assert entry["label"] == "lbl" and len(entry["last"]) <= 80
    assert entry["reply"]["text"].startswith("reply to s9") and entry["reply"]["model_version"] == "fake-v1"
    assert set(entry["req"]) >= {"messages", "temperature", "max_tokens", "seed", "sample", "params"}
    request_part = json.dumps({k: v for k, v in entry.items() if k != "reply"})
    assert "x" * 100 not in request_part  # the prompt is summarised, not stored


def test_eight_identical_agents_get_eight_replies(tmp_path: Path, fake_backend) -> None:
    client = _client(tmp_path)
    replies = {client.complete(make_request("same prompt", sample=f"t|a{i}|r0")).text for i in range(8)}
    assert len(replies) == 8 and len(fake_backend.calls) == 8


def test_miss_in_none_mode_names_everything(tmp_path: Path, fake_backend) -> None:
    _client(tmp_path).complete(make_request("Plan the offsite for forty people", sample="task1|seq|n4|s0|agent|a0|r0",
                                            label="trial-A", seed=1))
    replay = _client(tmp_path, record="none")
    with pytest.raises(CassetteMiss) as err:
        replay.complete(make_request("Plan the offsite for forty people", sample="task1|seq|n4|s0|agent|a0|r0",
                                     label="trial-B", seed=2))
    msg = str(err.value)
    assert "trial-B" in msg and "'fake/m'" in msg and "Plan the offsite" in msg
    assert "Nearest recorded" in msg and "trial-A" in msg
    assert "seed (1 recorded, 2 asked)" in msg and "messages" not in msg.split("differ:")[1]
    assert "--sorg-record=new" in msg and "fake--m" in msg
    assert len(fake_backend.calls) == 1  # never fell through to a live call


def test_miss_with_no_recording_of_the_model(tmp_path: Path, fake_backend) -> None:
    with pytest.raises(CassetteMiss, match="No recording of 'fake/other'"):
        _client(tmp_path, record="none").complete(make_request(model="fake/other"))
    assert fake_backend.calls == []


def test_none_mode_does_not_read_the_cache(tmp_path: Path, fake_backend) -> None:
    req = make_request()
    ModelClient(cassette_dir=None, cache_dir=tmp_path / "cache").complete(req)  # cache only
    with pytest.raises(CassetteMiss):
        _client(tmp_path, record="none", cache=True).complete(req)


def test_new_mode_copies_cache_hits_into_the_cassette(tmp_path: Path, fake_backend) -> None:
    req = make_request()
    ModelClient(cassette_dir=None, cache_dir=tmp_path / "cache").complete(req)
    hit = _client(tmp_path, record="new", cache=True).complete(req)
    assert hit.source == "cache" and len(fake_backend.calls) == 1
    assert _client(tmp_path, record="none").complete(req).source == "cassette"


def test_all_mode_re_records_once_per_key_and_later_entry_wins(tmp_path: Path, fake_backend) -> None:
    from sorg.model.backends import RawReply

    req = make_request()
    _client(tmp_path).complete(req)
    fake_backend.faults = [RawReply("second take", 1, 1)]
    client = _client(tmp_path, record="all", cache=True)
    first = client.complete(req)
    again = client.complete(req)
    assert (first.source, first.text) == ("live", "second take")
    assert (again.source, again.text) == ("cassette", "second take")
    assert len(fake_backend.calls) == 2
    path = tmp_path / "cassettes" / "fake--m" / "default.jsonl"
    assert len(path.read_text().splitlines()) == 2
    assert _client(tmp_path, record="none").complete(req).text == "second take"
    assert compact(path) == 1
    assert len(path.read_text().splitlines()) == 1
    assert _client(tmp_path, record="none").complete(req).text == "second take"


def test_all_files_of_a_model_are_read(tmp_path: Path, fake_backend) -> None:
    _client(tmp_path, cassette_name="a").complete(make_request(sample="1"))
    _client(tmp_path, cassette_name="b").complete(make_request(sample="2"))
    replay = _client(tmp_path, record="none", cassette_name="c")
    assert replay.complete(make_request(sample="1")).source == "cassette"
    assert replay.complete(make_request(sample="2")).source == "cassette"


def _record_two(tmp_path: Path) -> Path:
    client = _client(tmp_path)
    client.complete(make_request(sample="1"))
    client.complete(make_request(sample="2"))
    return tmp_path / "cassettes" / "fake--m" / "default.jsonl"


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda lines: [lines[0], lines[1][:-20] + "garbage", lines[1]], r"default\.jsonl:2: not valid JSON"),
        (lambda lines: [lines[0], "[1, 2]"], r"default\.jsonl:2: a cassette line must be a JSON object"),
        (lambda lines: [lines[0].replace('"key":"', '"key":"zz'), lines[1]], r"default\.jsonl:1: field 'key'"),
        (lambda lines: [lines[0], lines[1].replace('"reply":', '"replay":')], r"default\.jsonl:2: field 'reply' missing"),
        (lambda lines: [lines[0].replace('"v":1', '"v":99'), lines[1]], r"default\.jsonl:1: cassette format version 99"),
        (lambda lines: [lines[0], lines[1].replace('"prompt_tokens":10', '"prompt_tokens":"10"')], r"reply\.prompt_tokens"),
    ],
)
def test_corrupt_line_raises_naming_file_and_line(tmp_path: Path, fake_backend, damage, match) -> None:
    path = _record_two(tmp_path)
    path.write_text("\n".join(damage(path.read_text().splitlines())) + "\n")
    with pytest.raises(CassetteCorrupt, match=match):
        _client(tmp_path, record="none").complete(make_request(sample="1"))


def test_truncated_final_line_is_skipped_with_warning_and_repaired(tmp_path: Path, fake_backend) -> None:
    path = _record_two(tmp_path)
    good, last = path.read_text().splitlines()
    path.write_text(good + "\n" + last[: len(last) // 2])  # crash in the middle of the second write
    replay = _client(tmp_path, record="none")
    with pytest.warns(RuntimeWarning, match="truncated final line"):
        assert replay.complete(make_request(sample="1")).source == "cassette"
    with pytest.raises(CassetteMiss):
        replay.complete(make_request(sample="2"))  # never a wrong replay
    with pytest.warns(RuntimeWarning):
        again = _client(tmp_path, record="new")
        assert again.complete(make_request(sample="2")).source == "live"
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x) for x in lines)


def test_final_line_missing_only_its_newline_is_kept(tmp_path: Path, fake_backend) -> None:
    path = _record_two(tmp_path)
    path.write_text(path.read_text().rstrip("\n"))
    _client(tmp_path).complete(make_request(sample="3"))
    assert [json.loads(x)["sample"] for x in path.read_text().splitlines()] == ["1", "2", "3"]


def _writer(args: tuple[str, int, int]) -> None:
    path, worker, n = args
    for i in range(n):
        append_entry(Path(path), {
            "v": 1, "key": f"{worker:032x}{i:032x}", "model": "fake/m", "sample": f"w{worker}-{i}",
            "reply": {"text": f"{worker}-{i} " + "x" * (100 + 997 * (i % 7)), "prompt_tokens": 1, "completion_tokens": 1},
            "cost_usd": 0.0,
        })


def test_parallel_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "c" / "fake--m" / "default.jsonl"
    workers, per = 8, 60
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(_writer, [(str(path), w, per) for w in range(workers)])
    entries = [e for _, e in read_entries(path)]
    assert len(entries) == workers * per
    assert len({e["key"] for e in entries}) == workers * per
    store = CassetteStore(tmp_path / "c")
    assert len(store.entries("fake/m")) == workers * per


def test_parallel_recording_through_clients(tmp_path: Path) -> None:
    """Separate processes, each with its own ModelClient, recording into one cassette."""
    script = textwrap.dedent(
        f"""
        import sys
        from sorg.model.backends import register_backend, RawReply
        from sorg.model.client import ModelClient
        from sorg.model.types import Request
        async def fake(req): return RawReply(text="r " + req.sample + " " + "y" * 3000, prompt_tokens=1, completion_tokens=1)
        register_backend("fake", fake)
        c = ModelClient(cassette_dir={str(tmp_path / 'cas')!r}, record="new", cache_dir=None)
        w = sys.argv[1]
        for i in range(40):
            c.complete(Request(model="fake/m", messages=({{"role": "user", "content": "q"}},), sample=f"{{w}}-{{i}}"))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(w)], cwd=REPO) for w in range(6)]
    assert all(p.wait(timeout=HANG_S) == 0 for p in procs)
    store = CassetteStore(tmp_path / "cas")
    assert len(store.entries("fake/m")) == 240


def test_replay_does_not_import_litellm(tmp_path: Path, fake_backend) -> None:
    req = make_request("hello there", sample="x")
    _client(tmp_path).complete(req)
    code = textwrap.dedent(
        f"""
        import sys
        from sorg.model.client import ModelClient
        from sorg.model.types import Request
        c = ModelClient(cassette_dir={str(tmp_path / 'cassettes')!r}, record="none", cache_dir=None)
        r = c.complete(Request(model="fake/m", messages=({{"role": "user", "content": "hello there"}},), sample="x", label="t"))
        assert r.source == "cassette", r
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("litellm", "openai", "httpx", "diskcache", "scipy"))
        print(r.text, bad)
        assert not bad, bad
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "reply to x: hello there" in out.stdout


def test_cassette_name_must_be_a_plain_stem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cassette_name"):
        ModelClient(cassette_dir=tmp_path, cassette_name="../evil")


def test_reader_waits_for_a_writer_holding_the_lock(tmp_path: Path, fake_backend) -> None:
    """A final line without its newline may be an append in progress: the reader re-reads
    under the writers' lock, so it sees the line whole, never half of it."""
    import threading
    import time
    import warnings

    from filelock import FileLock

    path = _record_two(tmp_path)
    whole = path.read_bytes().splitlines(keepends=True)[-1]
    third = whole.replace(b'"sample":"2"', b'"sample":"3"')
    done = threading.Event()
    seen: list = []
    with FileLock(str(lock_path(path))):  # a writer mid-append: half its line is in the file
        with path.open("ab") as fh:
            fh.write(third[:40])
        def read() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no "truncated final line": it was waited for
                seen.extend(e["sample"] for _, e in read_entries(path))
            done.set()
        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.2)
        assert not done.is_set()
        with path.open("ab") as fh:
            fh.write(third[40:])
    reader.join(30)
    assert done.is_set() and seen == ["1", "2", "3"]


def test_reader_takes_no_lock_when_every_line_is_whole(tmp_path: Path, fake_backend, monkeypatch) -> None:
    """Replay neither waits for a recording process nor writes a lock file beside the cassettes."""
    from filelock import FileLock

    path = _record_two(tmp_path)
    lock_path(path).unlink()
    monkeypatch.setenv("SORG_LOCK_TIMEOUT", "0.05")  # taking the lock would raise LockTimeout
    replay = _client(tmp_path, record="none")
    assert replay.complete(make_request(sample="1")).source == "cassette"
    assert not lock_path(path).exists()
    with FileLock(str(lock_path(path))):
        assert [e["sample"] for _, e in read_entries(path)] == ["1", "2"]


def test_a_writer_that_cannot_take_the_lock_names_the_cassette(tmp_path: Path, monkeypatch) -> None:
    from filelock import FileLock

    path = tmp_path / "fake--m" / "default.jsonl"
    path.parent.mkdir(parents=True)
    monkeypatch.setenv("SORG_LOCK_TIMEOUT", "0.05")
    with FileLock(str(lock_path(path))), pytest.raises(LockTimeout) as err:
        _writer((str(path), 0, 1))
    assert str(path) in str(err.value) and str(lock_path(path)) in str(err.value)
    assert isinstance(err.value, TimeoutError)
    assert not path.exists()


def _compactor(args: tuple[str, int]) -> None:
    path, rounds = args
    for _ in range(rounds):
        compact(Path(path))


def test_writers_racing_compaction_lose_no_line(tmp_path: Path) -> None:
    """Compaction replaces the file; a writer that waited for it appends to the new file
    (with a lock on the cassette itself it appended to the replaced one: lines lost)."""
    path = tmp_path / "c" / "fake--m" / "default.jsonl"
    _writer((str(path), 99, 1))
    writers, per = 3, 40
    with mp.get_context("fork").Pool(writers + 1) as pool:
        jobs = [pool.apply_async(_writer, ((str(path), w, per),)) for w in range(writers)]
        jobs.append(pool.apply_async(_compactor, ((str(path), 40),)))
        for job in jobs:
            job.get(timeout=HANG_S)
    entries = [e for _, e in read_entries(path)]
    assert len(entries) == len({e["key"] for e in entries}) == writers * per + 1
    assert path.read_bytes().endswith(b"\n")


def _once(args: tuple[str, str]) -> bool:
    root, ledger = args
    return CassetteStore(root).may_record_once("fake/m", Path(ledger))


def test_record_once_ledger_shared_by_processes(tmp_path: Path) -> None:
    """Processes of one run asking at once all may record into the file the first one created."""
    args = (str(tmp_path / "c"), str(tmp_path / "run" / "once.json"))
    with mp.get_context("fork").Pool(4) as pool:
        assert pool.map(_once, [args] * 4) == [True] * 4
    assert json.loads(Path(args[1]).read_text()) == [str(tmp_path / "c" / "fake--m" / "default.jsonl")]
    assert not _once((args[0], str(tmp_path / "other-run.json")))  # another run: the file is old


@pytest.mark.parametrize("kw, match", [({"record": "sometimes"}, "record must be one of"),
                                       ({"retries": -1}, "retries"), ({"concurrency": 0}, "concurrency"),
                                       ({"timeout_s": 0}, "timeout_s")])
def test_bad_client_settings_are_named(tmp_path: Path, kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ModelClient(cassette_dir=tmp_path, **kw)
