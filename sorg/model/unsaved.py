"""Paid replies that could not be written where they belong (a full disk), kept for later.

Why: a live reply costs money. When the budget ledger, the cassette or the cache refuses a
write, the trial fails once, cleanly (`WriteFailed`), and its reply must not be lost with it:
it is written, whole, to the first of `<state dir>/unsaved/`, the system temp directory (often
another filesystem) that takes it, and always held in this process (`KEPT`). `restore` (the
`sorg restore` command) puts kept replies into the cassettes once there is room again, so the
rerun replays them instead of paying twice.

A kept file is the cassette entry plus `_kept_for`, the cassette directory it was meant for:
the temp directory is shared by every project on the machine, so a restore takes from it only
the replies kept for its own cassettes (the state directory is the project's own).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNSAVED_DIR = "unsaved"
KEPT_FOR = "_kept_for"
#: Every reply this process could not save, in order (the last resort: memory).
KEPT: list[dict[str, Any]] = []


def _folders(state_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    return Path(state_dir) / UNSAVED_DIR, Path(tempfile.gettempdir()) / "sorg-unsaved"


def keep(entry: Mapping[str, Any], state_dir: str | os.PathLike[str],
         cassette_dir: str | os.PathLike[str] | None = None) -> str:
    """Keep `entry` (a cassette entry) meant for `cassette_dir`; returns where, in words, for
    the error message."""
    KEPT.append(dict(entry))
    kept = {**entry, KEPT_FOR: None if cassette_dir is None else str(Path(cassette_dir).resolve())}
    line = json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
    for folder in _folders(state_dir):
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


@dataclass(frozen=True)
class Restored:
    """What `restore` did with one kept file. `outcome`: "restored", "already recorded" (the
    file is removed either way), "other project" (kept for another cassette directory, left),
    "unreadable" or "write failed" (left, `detail` says why), "would restore" (a dry run)."""

    path: Path
    outcome: str
    model: str = ""
    key: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome not in ("unreadable", "write failed")


def restore(cassette_dir: str | os.PathLike[str], state_dir: str | os.PathLike[str], *,
            dry_run: bool = False) -> list[Restored]:
    """Append every kept reply under `state_dir` (and those in the temp folder kept for
    `cassette_dir`) to its model's cassette (`<cassette_dir>/<model>/default.jsonl`), removing
    each file once written; with `dry_run`, only say what would be done."""
    from sorg.errors import CassetteCorrupt
    from sorg.model.cassette import CassetteStore

    store = CassetteStore(cassette_dir)
    mine = str(Path(cassette_dir).resolve())
    done: list[Restored] = []
    own, shared = _folders(state_dir)
    for folder in (own, shared):
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                meant = entry.pop(KEPT_FOR, None)
                model, key = str(entry["model"]), str(entry["key"])
                entry["reply"]["text"]  # noqa: B018 - a kept file without a reply is no reply
            except (OSError, ValueError, KeyError, TypeError) as exc:
                done.append(Restored(path, "unreadable", detail=f"{type(exc).__name__}: {exc}"))
                continue
            if folder == shared and meant not in (None, mine):
                done.append(Restored(path, "other project", model, key, f"kept for {meant}"))
                continue
            try:
                if store.get(model, key) is not None:
                    outcome = "already recorded"
                elif dry_run:
                    outcome = "would restore"
                else:
                    store.put(entry)
                    outcome = "restored"
                if not dry_run:
                    path.unlink()
            except (OSError, CassetteCorrupt) as exc:  # still no room; a cassette to repair first
                done.append(Restored(path, "write failed", model, key, str(exc)))
                continue
            done.append(Restored(path, outcome, model, key, str(store.path_for(model))))
    return done
