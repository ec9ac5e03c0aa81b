"""scripts/record_sweep.py keeps its book (evals/recorded.json) as it goes, so a recording that is
killed outright still has its finished cells and live time on record."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_sweep_under_test", ROOT / "scripts" / "record_sweep.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _summary(started: str, done: int, wall: float, complete: bool = False) -> dict:
    return {"chunk": "core-n4-s0", "started": started, "cells": 12, "done": done, "errors": 0, "calls": 10 * done,
            "live_calls": 10 * done, "wall_s": wall, "finished": "x", "complete": complete}


def test_a_run_is_one_entry_updated_in_place(tmp_path: Path) -> None:
    rs = _script()
    book = tmp_path / "recorded.json"
    rs.note_run("core-n4-s0", _summary("T1", 1, 10.0), book)
    rs.note_run("core-n4-s0", _summary("T1", 2, 25.0), book)
    entry = json.loads(book.read_text())["core-n4-s0"]
    assert [r["done"] for r in entry["runs"]] == [2]
    assert entry["live_wall_s"] == 25.0 and entry["complete"] is False


def test_a_resumed_run_adds_its_time_and_completes_the_chunk(tmp_path: Path) -> None:
    rs = _script()
    book = tmp_path / "recorded.json"
    rs.note_run("core-n4-s0", _summary("T1", 3, 100.0), book)           # killed after 3 cells
    rs.note_run("core-n4-s0", _summary("T2", 12, 50.5, complete=True), book)
    entry = json.loads(book.read_text())["core-n4-s0"]
    assert [r["started"] for r in entry["runs"]] == ["T1", "T2"]
    assert entry["live_wall_s"] == 150.5 and entry["complete"] is True


def test_every_finished_cell_is_on_record_before_the_run_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the third cell runs (where a SIGKILL could end the run, past any `finally`), the
    book already holds the two cells finished before it."""
    rs = _script()
    book = tmp_path / "recorded.json"
    monkeypatch.setattr(rs, "RECORDED_FILE", book)
    monkeypatch.setattr(rs, "ROOT", tmp_path)
    cells = rs.plan("core-n4-s0")
    seen: list[dict] = []

    async def fake_stream(stream, protocol, model, n, seed, client, scorers):  # noqa: ANN001, ANN202
        seen.append(json.loads(book.read_text())["core-n4-s0"]["runs"][-1] if book.exists() else {})
        rec = SimpleNamespace(calls=3, scores={}, sources={"live": 3}, status="ok", quality={},
                              to_dict=lambda: {"ok": True})
        return [rec] * len(stream)

    import sorg.model.client
    import sorg.trial

    monkeypatch.setattr(sorg.trial, "arun_stream", fake_stream)
    monkeypatch.setattr(sorg.model.client, "ModelClient", lambda **kw: SimpleNamespace(close=lambda: None))
    asyncio.run(rs.record("core-n4-s0", tmp_path / "out.jsonl", parallel=1))
    noted = seen[2]
    assert noted["done"] == 2 and noted["cells"] == len(cells) and noted["complete"] is False
    assert noted["calls"] == 2 * 3 * len(cells[0][0])
    assert json.loads(book.read_text())["core-n4-s0"]["complete"] is True
