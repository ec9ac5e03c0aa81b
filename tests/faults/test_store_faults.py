"""Damaged files: cassettes and trial stores cut at every byte of their last line, with bad
UTF-8, duplicate entries, and entries from another sorg version.

What must hold (issue 6): a clear error naming file and line, or the documented recovery (a
cut-short last line is dropped with a warning); never a silent wrong replay or a trial counted
twice. tests/model/test_cassette.py covers one cut point and single bad fields; here every cut
point, and both readers of trials.jsonl (the plugin's store and `Trials.from_jsonl`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from sorg.errors import CassetteCorrupt, CassetteMiss, StoreCorrupt
from sorg.model.backends import register_backend, unregister_backend
from sorg.model.client import ModelClient
from sorg.record import RECORD_VERSION
from sorg.results import Trials
from sorg.store import read_records
from tests.model.helpers import FakeBackend, make_request


@pytest.fixture
def backend():
    b = FakeBackend()
    register_backend("fake", b)
    yield b
    unregister_backend("fake")


def _client(root: Path, record: str = "new") -> ModelClient:
    return ModelClient(cassette_dir=root / "cas", record=record, cache_dir=None)


def _record_three(root: Path) -> Path:
    c = _client(root)
    for s in ("1", "2", "3"):
        c.complete(make_request(sample=s))
    (path,) = (root / "cas").rglob("*.jsonl")
    return path


# ---------------------------------------------------------------- cassettes
def test_cassette_cut_at_every_byte_of_its_last_line_never_replays_wrong(tmp_path: Path, backend) -> None:
    path = _record_three(tmp_path)
    data = path.read_bytes()
    head, last = data[: data.rstrip(b"\n").rfind(b"\n") + 1], data[data.rstrip(b"\n").rfind(b"\n") + 1:]
    expected = {s: _client(tmp_path, "none").complete(make_request(sample=s)).text for s in ("1", "2", "3")}
    for cut in range(len(last)):  # 0 .. len-1: every prefix of the last line, newline excluded at the end
        path.write_bytes(head + last[:cut])
        replay = _client(tmp_path, "none")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for s in ("1", "2"):
                assert replay.complete(make_request(sample=s)).text == expected[s], cut
            if cut == len(last) - 1:  # only the newline is missing: the whole entry is kept
                assert replay.complete(make_request(sample="3")).text == expected["3"]
            else:
                with pytest.raises(CassetteMiss):
                    replay.complete(make_request(sample="3"))
    # and recording after the cut repairs the file: every line whole JSON again
    path.write_bytes(head + last[: len(last) // 2])
    with pytest.warns(RuntimeWarning, match="truncated final line"):
        _client(tmp_path).complete(make_request(sample="3"))
    assert [json.loads(x)["sample"] for x in path.read_text().splitlines()] == ["1", "2", "3"]


def test_cassette_bad_utf8_names_file_and_line(tmp_path: Path, backend) -> None:
    path = _record_three(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"reply to", b"reply \xff\xfe to", 1)
    path.write_bytes(b"".join(lines))
    with pytest.raises(CassetteCorrupt, match=rf"{path.name}:2"):
        _client(tmp_path, "none").complete(make_request(sample="1"))


def test_cassette_duplicate_keys_replay_the_later_entry_consistently(tmp_path: Path, backend) -> None:
    path = _record_three(tmp_path)
    first = json.loads(path.read_text().splitlines()[0])
    dup = {**first, "reply": {**first["reply"], "text": "the re-recorded reply"}}
    with path.open("a") as fh:
        fh.write(json.dumps(dup) + "\n")
    for _ in range(2):  # the documented rule (record="all" appends): the later entry wins, every time
        assert _client(tmp_path, "none").complete(make_request(sample="1")).text == "the re-recorded reply"


@pytest.mark.parametrize("version", [2, 99, "1", None])
def test_cassette_entry_of_another_version_is_refused(tmp_path: Path, backend, version) -> None:
    path = _record_three(tmp_path)
    lines = path.read_text().splitlines()
    e = json.loads(lines[2])
    e["v"] = version
    lines[2] = json.dumps(e)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CassetteCorrupt, match=rf"{path.name}:3: cassette format version"):
        _client(tmp_path, "none").complete(make_request(sample="1"))


# ---------------------------------------------------------------- trial stores
def _store(tmp_path: Path) -> tuple[Path, list[dict]]:
    """A real trials.jsonl of three records, written by the plugin's store."""
    from sorg.store import TrialStore
    from sorg.tasks import load_bank
    from tests.pytest_plugin.fake_trials import fake_run_trial

    tasks = load_bank().select(levels=(1,), per_level=3)
    store = TrialStore(tmp_path / "reports", "r1")
    recs = [fake_run_trial(t, "sequential", "fake/m", 4, 0) for t in tasks]
    for r in recs:
        store.append(r)
    store.close()
    return store.path, [r.to_dict() for r in recs]


def _read_both(path: Path) -> dict[str, list[str]]:
    """Trial ids as each reader returns them (both must agree, or both refuse)."""
    return {"store": [r.trial_id for r in read_records(path)],
            "results": [r.trial_id for r in Trials.from_jsonl(path).records]}


def test_trial_store_cut_at_every_byte_of_its_last_line(tmp_path: Path) -> None:
    path, recs = _store(tmp_path)
    data = path.read_bytes()
    cut_at = data.rstrip(b"\n").rfind(b"\n") + 1
    head, last = data[:cut_at], data[cut_at:]
    ids = [r["trial_id"] for r in recs]
    for cut in range(len(last)):
        path.write_bytes(head + last[:cut])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = [r.trial_id for r in read_records(path)]
        # a line without its newline is the documented cut-short write: dropped, never half read
        assert got == ids[:2], cut
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = [r.trial_id for r in Trials.from_jsonl(path).records]
            except StoreCorrupt as exc:
                assert f"{path}:3" in str(exc), cut
            else:
                assert res == ids[:2] or (cut == len(last) - 1 and res == ids), (cut, res)


def test_trial_store_bad_utf8_names_file_and_line(tmp_path: Path) -> None:
    path, _ = _store(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"answer of", b"answer \xc3\x28 of", 1)
    path.write_bytes(b"".join(lines))
    with pytest.raises(StoreCorrupt, match=rf"{path}:2: not UTF-8"):
        read_records(path)
    with pytest.raises(StoreCorrupt, match=rf"{path}:2"):
        Trials.from_jsonl(path)


def test_trial_store_duplicates_are_counted_once_by_both_readers(tmp_path: Path) -> None:
    path, recs = _store(tmp_path)
    with path.open("a") as fh:
        fh.write(json.dumps({**recs[0], "answer": "a second, different run of the same cell"}) + "\n")
    got = _read_both(path)
    assert got["store"] == [r["trial_id"] for r in recs]
    assert got["results"] == got["store"], "Trials.from_jsonl counts a duplicated trial twice"
    assert read_records(path)[0].answer == recs[0]["answer"]  # first wins (documented)
    assert Trials.from_jsonl(path).records[0].answer == recs[0]["answer"]


@pytest.mark.parametrize("change", ["future_version", "unknown_field", "missing_field"])
def test_trial_store_record_of_another_version_is_refused_by_both_readers(tmp_path: Path, change: str) -> None:
    path, recs = _store(tmp_path)
    rec = dict(recs[1])
    if change == "future_version":
        rec["version"] = RECORD_VERSION + 1
    elif change == "unknown_field":
        rec["quality_v2"] = {"rubric": 0.5}
    else:
        del rec["quality"]
    lines = path.read_text().splitlines()
    lines[1] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StoreCorrupt, match=rf"{path}"):
        read_records(path)
    with pytest.raises(StoreCorrupt, match=rf"{path}:2"):
        Trials.from_jsonl(path)


def test_both_readers_agree_on_duplicates_blank_lines_and_a_retried_trial(tmp_path: Path) -> None:
    """`Trials.from_jsonl` and `read_records` are one parser (issue 15): the same trials with
    the same kept record (`Trials` orders them its own way), for a store holding a duplicated ok trial, blank
    lines, and a trial whose first record is a budget cut retried later (the resume rule)."""
    path, recs = _store(tmp_path)
    cut = {**recs[1], "status": "budget", "answer": ""}
    lines = [json.dumps(cut), "", json.dumps(recs[0]), "   ", json.dumps(recs[2]),
             json.dumps({**recs[0], "answer": "a second, different run of the same cell"}), "",
             json.dumps(recs[1])]
    path.write_text("\n".join(lines) + "\n")
    store = read_records(path)
    results = Trials.from_jsonl(path).records
    assert sorted(map(repr, results)) == sorted(map(repr, store))
    assert [r.trial_id for r in store] == [recs[0]["trial_id"], recs[2]["trial_id"], recs[1]["trial_id"]]
    assert store[0].answer == recs[0]["answer"]  # the first ok record of a trial wins
    assert store[2].status == "ok" and store[2].answer == recs[1]["answer"]  # the retry replaced the cut


def test_a_record_that_does_not_fit_names_its_line_in_both_readers(tmp_path: Path) -> None:
    path, recs = _store(tmp_path)
    lines = path.read_text().splitlines()
    lines.insert(1, "")
    lines[3] = json.dumps({**recs[2], "bogus": 1})
    path.write_text("\n".join(lines) + "\n")
    for read in (read_records, Trials.from_jsonl):
        with pytest.raises(StoreCorrupt, match=rf"{path}:4: trial "):
            read(path)
