"""`sorg restore`: the paid replies a full disk left unsaved go back into their cassettes.

Before: they could only be put back from Python (`sorg.model.unsaved.restore`), which no error
message a user sees could point at; the temp folder, shared by every project on the machine,
was emptied into whichever cassettes restored first.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from sorg.cli import main
from sorg.model import cassette
from sorg.model.client import ModelClient
from tests.model.helpers import make_request


def _enospc(*a: Any, **k: Any) -> None:
    raise OSError(28, "No space left on device")


def _fill_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *samples: str) -> Path:
    """Record `samples` while every cassette write fails: their replies are kept in state/unsaved."""
    state = tmp_path / "state"
    with monkeypatch.context() as m:
        m.setattr(cassette, "append_entry", _enospc)
        c = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=None, state_dir=state)
        for s in samples:
            with pytest.raises(Exception, match="sorg restore"):
                c.complete(make_request("pay me", sample=s))
    return state


def _restore(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["restore", "--cassette-dir", str(tmp_path / "cas"), "--state-dir", str(tmp_path / "state"), *extra])
    return code, capsys.readouterr().out


def test_restore_puts_kept_replies_back_and_says_so(tmp_path: Path, fake_backend: Any, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    _fill_the_disk(tmp_path, monkeypatch, "s1", "s2")
    assert len(list((tmp_path / "state" / "unsaved").glob("*.json"))) == 2
    code, out = _restore(tmp_path, capsys, "--dry-run")
    assert code == 0 and "2 would restore" in out and len(list((tmp_path / "state" / "unsaved").glob("*.json"))) == 2
    code, out = _restore(tmp_path, capsys)
    assert code == 0 and "sorg restore: 2 restored" in out and "fake--m" in out
    assert not list((tmp_path / "state" / "unsaved").glob("*.json"))
    paid = len(fake_backend.calls)
    replay = ModelClient(cassette_dir=tmp_path / "cas", record="none", cache_dir=None)
    assert {replay.complete(make_request("pay me", sample=s)).source for s in ("s1", "s2")} == {"cassette"}
    assert len(fake_backend.calls) == paid  # not paid twice
    code, out = _restore(tmp_path, capsys)
    assert code == 0 and "no kept replies" in out


def test_restore_leaves_other_projects_replies_and_unreadable_files(
        tmp_path: Path, fake_backend: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "tmp" / "sorg-unsaved"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    shared.mkdir(parents=True)
    other = {"v": 1, "key": "b" * 64, "model": "fake/m", "reply": {"text": "theirs"}, "_kept_for": "/elsewhere/cas"}
    (shared / f"{'b' * 64}.json").write_text(json.dumps(other), encoding="utf-8")
    (tmp_path / "state" / "unsaved").mkdir(parents=True)
    (tmp_path / "state" / "unsaved" / "torn.json").write_text('{"v":1,"key":"c', encoding="utf-8")
    code, out = _restore(tmp_path, capsys)
    assert code == 1  # an unreadable kept file is reported, not dropped
    assert "other project" in out and "kept for /elsewhere/cas" in out and "unreadable" in out
    assert (shared / f"{'b' * 64}.json").exists() and (tmp_path / "state" / "unsaved" / "torn.json").exists()
    assert not (tmp_path / "cas").exists()


def test_restore_finds_the_projects_folders(tmp_path: Path, fake_backend: Any, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Without flags: the project's sorg_cassette_dir, and the parent of its sorg_cache_dir."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "pytest.ini").write_text("[pytest]\nsorg_cassette_dir = rec\nsorg_cache_dir = st/cache\n")
    state = _fill_the_disk(tmp_path, monkeypatch, "s1")
    state.rename(tmp_path / "st")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.delenv("SORG_CASSETTE_DIR", raising=False)
    monkeypatch.delenv("SORG_CACHE_DIR", raising=False)
    assert main(["restore"]) == 0
    assert f"1 restored (cassettes {tmp_path / 'rec'})" in capsys.readouterr().out
    assert ModelClient(cassette_dir=tmp_path / "rec", record="none", cache_dir=None).complete(
        make_request("pay me", sample="s1")).source == "cassette"
