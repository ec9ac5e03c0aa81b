"""Paid replies that could not be written where they belong (a full disk), kept for later.

Why: a live reply costs money. When the budget ledger, the cassette or the cache refuses a
write, the trial fails once, cleanly (`WriteFailed`), and its reply must not be lost with it:
it is written, whole, to the first of `<state dir>/unsaved/`, the system temp directory (often
another filesystem) that takes it, and always held in this process (`KEPT`). `restore` puts
kept replies into the cassettes once there is room again, so the rerun replays them instead of
paying twice.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

UNSAVED_DIR = "unsaved"
#: Every reply this process could not save, in order (the last resort: memory).
KEPT: list[dict[str, Any]] = []


def keep(entry: Mapping[str, Any], state_dir: str | os.PathLike[str]) -> str:
    """Keep `entry` (a cassette entry); returns where, in words, for the error message."""
    KEPT.append(dict(entry))
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
    for folder in (Path(state_dir) / UNSAVED_DIR, Path(tempfile.gettempdir()) / "sorg-unsaved"):
        path = folder / f"{entry['key']}.json"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            return str(path)
        except OSError:
            try:
                path.unlink(missing_ok=True)  # no half-written file to mistake for a reply
            except OSError:
                pass
    return "this process's memory only (sorg.model.unsaved.KEPT): every folder refused the write"


def restore(cassette_dir: str | os.PathLike[str], state_dir: str | os.PathLike[str]) -> list[Path]:
    """Append every kept reply under `state_dir` and the temp folder to its model's cassette
    (`<cassette_dir>/<model>/default.jsonl`), removing each file once written. Returns them."""
    from sorg.model.cassette import CassetteStore

    store = CassetteStore(cassette_dir)
    done = []
    for folder in (Path(state_dir) / UNSAVED_DIR, Path(tempfile.gettempdir()) / "sorg-unsaved"):
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            entry = json.loads(path.read_text(encoding="utf-8"))
            if store.get(entry["model"], entry["key"]) is None:
                store.put(entry)
            path.unlink()
            done.append(path)
    return done
