"""Cassette care: record modes once and rewrite, the use log, stats and prune."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sorg.errors import CassetteMiss
from sorg.model import cassette_care as care
from sorg.model.cassette import finish_rewrite, read_entries
from sorg.model.client import USE_ENV, ModelClient
from tests.model.helpers import make_request

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def use_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-run folder the plugin would name (its basename is the run's name)."""
    folder = tmp_path / "sorg-run-test"
    monkeypatch.setenv(USE_ENV, str(folder))
    return folder


def _client(tmp_path: Path, record: str, name: str = "default", cache: bool = False) -> ModelClient:
    return ModelClient(cassette_dir=tmp_path / "cassettes", record=record, cassette_name=name,
                       cache_dir=(tmp_path / "cache") if cache else None, state_dir=tmp_path / "state",
                       backoff_s=0.001)


def _keys(path: Path) -> list[str]:
    return [e["sample"] for _, e in read_entries(path)]


def test_once_records_into_a_new_file_then_only_replays(tmp_path, fake_backend, use_dir):
    c = _client(tmp_path, "once")
    c.complete(make_request(sample="a"))
    c.complete(make_request(sample="b"))  # the file now exists, but this run created it
    path = c.cassettes.path_for("fake/m")
    assert _keys(path) == ["a", "b"] and len(fake_backend.calls) == 2
    # another process of the same run (an xdist worker) may record into it too
    _client(tmp_path, "once").complete(make_request(sample="c"))
    assert _keys(path) == ["a", "b", "c"]


def test_once_never_records_into_a_file_that_existed(tmp_path, fake_backend, use_dir, monkeypatch):
    _client(tmp_path, "new").complete(make_request(sample="a"))
    monkeypatch.setenv(USE_ENV, str(tmp_path / "sorg-run-later"))  # a later run
    c = _client(tmp_path, "once")
    assert c.complete(make_request(sample="a")).source == "cassette"
    with pytest.raises(CassetteMiss, match="sample 'b'"):
        c.complete(make_request(sample="b"))
    assert _keys(c.cassettes.path_for("fake/m")) == ["a"] and len(fake_backend.calls) == 1


def test_rewrite_replaces_each_file_with_exactly_what_the_run_called(tmp_path, fake_backend, use_dir):
    old = _client(tmp_path, "new", name="chunk")
    for s in ("a", "b", "stale"):
        old.complete(make_request(sample=s))
    chunk = old.cassettes.path_for("fake/m")
    before = chunk.read_bytes()
    c = _client(tmp_path, "rewrite")
    for s in ("a", "b", "new"):
        assert c.complete(make_request(sample=s)).source == "live"
    assert c.complete(make_request(sample="a")).source == "cassette"  # once per key, like "all"
    assert chunk.read_bytes() == before  # nothing replaced until the run finishes
    done = finish_rewrite(tmp_path / "cassettes", use_dir.name)
    default = c.cassettes.path_for("fake/m")
    assert sorted(done) == sorted([chunk, default])
    assert _keys(chunk) == ["a", "b"]  # re-recorded in the file they came from, "stale" gone
    assert _keys(default) == ["new"]  # a new key goes to this client's file
    assert not list((tmp_path / "cassettes").rglob("*.rewrite-*"))
    assert len(fake_backend.calls) == 6


def test_use_log_prune_and_stats(tmp_path, fake_backend, use_dir):
    rec = _client(tmp_path, "new")
    for s in ("a", "b", "c"):
        rec.complete(make_request(sample=s))
    rec.close()
    import shutil

    shutil.rmtree(use_dir)  # the recording run's log is not the replay's
    rep = _client(tmp_path, "none")
    rep.complete(make_request(sample="a"))
    rep.complete(make_request(sample="c"))
    rep.close()
    run = tmp_path / "run"
    run.mkdir()
    assert care.collect_use(use_dir, run) == run / care.USED_FILE and not list(use_dir.glob("*.keys"))
    root = tmp_path / "cassettes"
    plan = care.unused(root, run)
    assert plan.total == 1 and [e["sample"] for e in next(iter(plan.unused.values()))] == ["b"]
    text = care.render_prune(plan, applied=False)
    assert "1 entries in 1 files" in text and "sample=b" in text
    path = rep.cassettes.path_for("fake/m")
    assert _keys(path) == ["a", "b", "c"]  # listing removes nothing
    assert care.prune(plan) == 1 and _keys(path) == ["a", "c"]
    rows = care.stats(root)
    assert [(r.path, r.lines, r.keys, r.by_model) for r in rows] == [("fake--m/default.jsonl", 2, 2, {"fake/m": 2})]
    assert "total" in care.render_stats(rows)


def test_cli_cassettes_stats_and_prune_against_a_replay(tmp_path):
    """`sorg cassettes` on a copy of the committed cassettes, pruned against a run that used
    all but one file's entries: only that file's entries are listed, and --apply removes them."""
    import shutil

    root = tmp_path / "cassettes"
    shutil.copytree(REPO / "cassettes", root)
    files = sorted(root.rglob("*.jsonl"))
    sizes = {p: len(list(read_entries(p))) for p in files}
    unused = min(files, key=lambda p: (sizes[p], p.name))  # whatever the committed files are
    kept = [p for p in files if p != unused]
    used = [f"{e['model']}\t{e['key']}" for p in kept for _, e in read_entries(p)]
    run = tmp_path / "run"
    run.mkdir()
    (run / care.USED_FILE).write_text("\n".join(used) + "\n")
    cli = [sys.executable, "-m", "sorg.cli", "cassettes"]
    st = subprocess.run([*cli, "stats", "--cassette-dir", str(root)], capture_output=True, text=True, check=True)
    assert unused.name in st.stdout and str(sum(sizes.values())) in st.stdout
    dry = subprocess.run([*cli, "prune", "--cassette-dir", str(root), "--run", str(run)], capture_output=True,
                         text=True, check=True)
    assert f"unused (not removed; add --apply): {sizes[unused]} entries in 1 files" in dry.stdout
    assert unused.exists()
    subprocess.run([*cli, "prune", "--cassette-dir", str(root), "--run", str(run), "--apply"], check=True,
                   capture_output=True)
    assert not unused.exists()
    for p in kept:
        assert p.read_bytes() == (REPO / "cassettes" / p.relative_to(root)).read_bytes()
    missing = subprocess.run([*cli, "prune", "--cassette-dir", str(root)], capture_output=True, text=True)
    assert missing.returncode == 2 and "--run" in missing.stderr


def test_a_full_disk_at_the_end_of_a_run_is_a_warning_and_keeps_the_key_logs(tmp_path, monkeypatch):
    """Before: the run's key logs were deleted first, then the write failed with a traceback
    from pytest_sessionfinish (found by benchmarks/faults_combined.py, full_disk_trial_store)."""
    import pytest

    logs, run = tmp_path / "use", tmp_path / "run"
    logs.mkdir()
    run.mkdir()
    (logs / "1.keys").write_text("fake/m\tabc\n", encoding="utf-8")

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_text", full)
    with pytest.warns(RuntimeWarning, match="could not be written.*No space left"):
        assert care.collect_use(logs, run) is None
    monkeypatch.undo()
    assert (logs / "1.keys").exists() and not list(run.iterdir())
    assert care.collect_use(logs, run) == run / care.USED_FILE and not (logs / "1.keys").exists()
