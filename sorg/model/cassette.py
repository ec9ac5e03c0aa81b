"""Cassettes: the committed, reviewable record of every model reply a result depends on.

Layout: ``<cassette_dir>/<model-slug>/<cassette_name>.jsonl``, one JSON object per line:

    {"v": 1, "key": "<sha256 of the request>", "model": ..., "sample": ..., "label": ...,
     "req": {<identifying fields: small ones as is, messages/params as short digests>},
     "last": "<first 80 chars of the last message>",
     "reply": {"text", "prompt_tokens", "completion_tokens", "finish_reason", "model_version"},
     "cost_usd": ..., "latency_s": ...}

Why this shape: the reply is stored whole (replay needs nothing else, not even litellm),
the request only as its hash plus a summary a reviewer can read in a diff, so cassettes stay
small. The per-field digests let a miss say *which* field differs from the nearest
recorded request.

Reading: every ``*.jsonl`` file of a model directory is read once, on the model's first use,
into a dict key -> entry; each look-up after that is one dict access. When a key appears
more than once (``record="all"`` re-records by appending), the later line wins; files are
read in name order.

Writing: each entry is one ``os.write`` of a whole line to a file opened with O_APPEND,
under an exclusive lock, then fsync: several xdist workers can record into the same file at
once without interleaving. The lock (`sorg.model.locks`: filelock, so Windows too) is taken on
a sidecar ``<file>.jsonl.lock``, never on the cassette, and the cassette is opened only while
it is held: compaction and rewrites replace the file, and a writer that waited for them
appends to the new file, not to the one replaced.

Reading takes no lock (`_read`). filelock's locks are exclusive (its reader/writer lock is a
SQLite database, and only from filelock 3.21), and a shared one is not needed: every line but
the last is whole in any read (appends are whole lines made one at a time, replacements are
renames), so only a final line without its newline is in doubt, an append in progress or a
crash's leftover. Only then is the file read again under the writers' lock, which waits for
that append to end. So replay never waits for recording, and never writes beside the
cassettes (no lock file; a read-only checkout replays).

Damage: a line that is not a valid entry raises ``CassetteCorrupt`` naming the file and
line (never a silent wrong replay, and the file is never rewritten, so no other entry is
lost). One case is recovered: a *final* line without its newline that does not parse, which
is what a crash in the middle of a write leaves behind. It is skipped with a warning when
reading (that request simply misses), and cut off under the lock before the next append, so
the next entry starts on a line of its own.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sorg.errors import CassetteCorrupt, LockTimeout
from sorg.model.identity import model_slug
from sorg.model.locks import acquire, lock_path, locked
from sorg.model.tail import repair_tail

__all__ = ["FORMAT_VERSION", "CassetteStore", "read_entries", "append_entry", "compact", "rewrite_file",
           "finish_rewrite", "REWRITE_SUFFIX"]

#: Staging files of record mode "rewrite": ``<file>.jsonl.rewrite-<run>``, renamed over the
#: file when the run finishes (`finish_rewrite`). Never read as cassettes (not ``*.jsonl``).
REWRITE_SUFFIX = ".rewrite-"

FORMAT_VERSION = 1
_REQUIRED = ("key", "model", "reply")
_REPLY_REQUIRED = ("text", "prompt_tokens", "completion_tokens")
#: Binary mode on Windows (os.open defaults to text mode there and would write CRLF); 0 elsewhere.
_O_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class Located:
    """Where an entry was read from (for messages)."""

    path: Path
    line: int


def _check_entry(entry: Any, path: Path, lineno: int) -> dict[str, Any]:
    where = f"{path}:{lineno}"
    if not isinstance(entry, dict):
        raise CassetteCorrupt(f"{where}: a cassette line must be a JSON object, got {type(entry).__name__}")
    version = entry.get("v", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CassetteCorrupt(
            f"{where}: cassette format version {version!r}; this sorg reads versions <= {FORMAT_VERSION} "
            "(upgrade sorg, or re-record with --sorg-record=all)"
        )
    for name in _REQUIRED:
        if name not in entry:
            raise CassetteCorrupt(f"{where}: field {name!r} missing")
    key = entry["key"]
    if not isinstance(key, str) or len(key) != 64:
        raise CassetteCorrupt(f"{where}: field 'key' must be a 64-hex sha256, got {key!r:.80}")
    reply = entry["reply"]
    if not isinstance(reply, dict):
        raise CassetteCorrupt(f"{where}: field 'reply' must be an object")
    for name in _REPLY_REQUIRED:
        if name not in reply:
            raise CassetteCorrupt(f"{where}: field 'reply.{name}' missing")
    if not isinstance(reply["text"], str):
        raise CassetteCorrupt(f"{where}: field 'reply.text' must be a string")
    for name in ("prompt_tokens", "completion_tokens"):
        if not isinstance(reply[name], int):
            raise CassetteCorrupt(f"{where}: field 'reply.{name}' must be an integer")
    cost = entry.get("cost_usd", 0.0)
    if not isinstance(cost, (int, float)) or isinstance(cost, bool) or not 0 <= cost < float("inf"):
        # NaN or a negative cost would be summed into every report's dollars
        raise CassetteCorrupt(f"{where}: field 'cost_usd' must be a finite number >= 0, got {cost!r}")
    return entry


def _read(path: Path) -> bytes:
    """The file's bytes, with no writer's append seen half done (module doc, "Reading").

    Read without a lock; if the last line lacks its newline, read again under the writers'
    lock (waiting for an append in progress). If the lock file cannot be created (a read-only
    checkout, where nobody records), the first read stands.
    """
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return data
    try:
        lock = acquire(path)
    except LockTimeout:
        raise
    except OSError:
        return data
    try:
        return path.read_bytes()
    except FileNotFoundError:  # removed meanwhile (a rewrite left it empty)
        return b""
    finally:
        lock.release()


def read_entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, entry) for each entry of one cassette file, validated.

    Raises CassetteCorrupt for a bad line; a truncated final line (crash mid-write) is
    skipped with a warning.
    """
    return _entries_of(path, _read(path))


def _entries_of(path: Path, data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    if not data:
        return
    lines = data.split(b"\n")
    complete_last = data.endswith(b"\n")
    if complete_last:
        lines.pop()  # the empty string after the final newline
    last_index = len(lines) - 1
    for i, raw in enumerate(lines):
        lineno = i + 1
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if i == last_index and not complete_last:
                warnings.warn(
                    f"{path}:{lineno}: truncated final line (a write interrupted by a crash?) "
                    "skipped; that request will miss and be re-recorded in record mode 'new'",
                    RuntimeWarning,
                    stacklevel=2,
                )
                return
            detail = (f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError)
                      else f"not UTF-8: {exc.reason} at byte {exc.start}")
            raise CassetteCorrupt(f"{path}:{lineno}: not valid JSON ({detail})") from None
        yield lineno, _check_entry(entry, path, lineno)


def append_entry(path: Path, entry: Mapping[str, Any]) -> None:
    """Append one entry as one line: atomic with respect to other writers (lock + O_APPEND)."""
    line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
        try:
            repair_tail(fd, path)
            written = os.write(fd, line)
            if written != len(line):  # disk full: do not leave half a line behind
                os.ftruncate(fd, os.fstat(fd).st_size - written)
                raise OSError(f"{path}: short write ({written} of {len(line)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)


def compact(path: Path) -> int:
    """Rewrite one cassette file keeping only the last entry per key; returns lines dropped.

    For after a `record="all"` session (which appends); safe while others record too: the
    file is replaced atomically (temp file, then rename) under the writers' lock, and a writer
    waiting for that lock opens the file after the rename, so it appends to the new file.
    """
    path.stat()  # FileNotFoundError before any lock file is made
    with locked(path):
        entries: dict[str, dict[str, Any]] = {}
        total = 0
        for _, entry in _entries_of(path, path.read_bytes()):  # we hold the lock already
            total += 1
            entries.pop(entry["key"], None)
            entries[entry["key"]] = entry
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            for entry in entries.values():
                fh.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _replace(tmp, path)
        return total - len(entries)


def rewrite_file(path: Path, keep: Any = None, entries: Any = None) -> tuple[int, int]:
    """Replace one cassette file atomically, under the writers' lock, with the last entry per
    key of `entries` (default: the file's own) whose (model, key) is in `keep` (default: all).
    Returns (entries before, entries after). An empty result removes the file."""
    with locked(path):
        if entries is None:
            data = path.read_bytes() if path.exists() else b""  # a missing file reads as empty
            entries = (e for _, e in _entries_of(path, data))
        last: dict[str, dict[str, Any]] = {}
        before = 0
        for entry in entries:
            before += 1
            last.pop(entry["key"], None)
            last[entry["key"]] = entry
        kept = [e for e in last.values() if keep is None or (e["model"], e["key"]) in keep]
        if not kept:
            path.unlink(missing_ok=True)
            return before, 0
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            for entry in kept:
                fh.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _replace(tmp, path)
        return before, len(kept)


def _replace(tmp: Path, path: Path) -> None:
    """os.replace, retried for a few seconds on PermissionError: on Windows a file that a
    reader (lock-free, see module doc) has open for a moment cannot be replaced."""
    delay = 0.01
    for _ in range(10):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if os.name != "nt":
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    os.replace(tmp, path)


def finish_rewrite(root: str | os.PathLike[str], run: str) -> list[Path]:
    """Record mode "rewrite", at the end of a run: replace each cassette file the run
    recorded into with exactly the entries it staged (`<file>.rewrite-<run>`), then drop the
    staging files. Files the run did not call into are left as they are."""
    done = []
    for staged in sorted(Path(root).rglob(f"*.jsonl{REWRITE_SUFFIX}{run}")):
        target = staged.with_name(staged.name[: -len(REWRITE_SUFFIX + run)])
        rewrite_file(target, entries=[e for _, e in read_entries(staged)])
        staged.unlink()
        lock_path(staged).unlink(missing_ok=True)  # the staging file's lock: its writers are done
        # A killed rewrite's staging files for this target: this run took over their entries
        # (`CassetteStore.staged`) where it asked for them; the rest are not this file any more.
        for orphan in target.parent.glob(target.name + REWRITE_SUFFIX + "*"):
            if not orphan.name.endswith(".lock"):
                orphan.unlink(missing_ok=True)
                lock_path(orphan).unlink(missing_ok=True)
        done.append(target)
    return done


class CassetteStore:
    """All cassettes under one directory, read lazily per model, looked up by request key."""

    def __init__(self, root: str | os.PathLike[str], name: str = "default") -> None:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"cassette_name must be a plain file stem, got {name!r}")
        self.root = Path(root)
        self.name = name
        self._models: dict[str, dict[str, dict[str, Any]]] = {}
        self._files: dict[str, Path] = {}  # key -> the file its entry was read from
        self._once: dict[str, bool] = {}  # model -> may record mode "once" write its file
        self._staged: dict[str, dict[str, dict[str, Any]]] | None = None  # model -> key -> staged entry

    def path_for(self, model: str) -> Path:
        """The file this store records `model`'s new entries into."""
        return self.root / model_slug(model) / f"{self.name}.jsonl"

    def entries(self, model: str) -> dict[str, dict[str, Any]]:
        """key -> entry for every recorded call of `model` (all files of its directory)."""
        found = self._models.get(model)
        if found is None:
            found = {}
            folder = self.root / model_slug(model)
            if folder.is_dir():
                for path in sorted(folder.glob("*.jsonl")):
                    for _, entry in read_entries(path):
                        if entry["model"] == model:
                            found[entry["key"]] = entry
                            self._files[entry["key"]] = path
            self._models[model] = found
        return found

    def get(self, model: str, key: str) -> dict[str, Any] | None:
        """The recorded entry for `key`, or None."""
        return self.entries(model).get(key)

    def fresh_get(self, model: str, key: str) -> dict[str, Any] | None:
        """`get`, after reading what other processes appended to this store's file for `model`
        since this one read it (a concurrent recorder may have just recorded `key`)."""
        found = self.entries(model)
        if key in found:
            return found[key]
        path = self.path_for(model)
        try:
            data = _read(path) if path.exists() else b""
        except OSError:
            return None
        for _, entry in _entries_of(path, data):
            if entry["model"] == model and entry["key"] not in found:
                found[entry["key"]] = entry
                self._files[entry["key"]] = path
        return found.get(key)

    def staged(self, model: str, key: str) -> dict[str, Any] | None:
        """An entry of `key` staged by any "rewrite" run into this model's directory and not yet
        swapped in: a killed rewrite's paid calls, which a rerun takes over instead of paying
        again (`finish_rewrite` then removes the killed run's staging files)."""
        if self._staged is None:
            self._staged = {}
        found = self._staged.get(model)
        if found is None:
            found = {}
            folder = self.root / model_slug(model)
            for path in sorted(folder.glob(f"*.jsonl{REWRITE_SUFFIX}*")) if folder.is_dir() else ():
                for _, entry in read_entries(path):
                    if entry["model"] == model:
                        found[entry["key"]] = entry
            self._staged[model] = found
        return found.get(key)

    def inflight_lock(self, model: str, key: str) -> Path:
        """The lock file that one recorder holds while it calls the model for `key`, so that a
        second recorder of the same cassette directory waits and replays instead of paying."""
        return self.root / model_slug(model) / ".inflight" / f"{key}.lock"

    def put(self, entry: Mapping[str, Any]) -> None:
        """Append `entry` to this store's file for its model and make it visible at once."""
        append_entry(self.path_for(entry["model"]), entry)
        self.entries(entry["model"])[entry["key"]] = dict(entry)

    def put_rewrite(self, entry: Mapping[str, Any], run: str) -> Path:
        """Record mode "rewrite": stage `entry` for the file its key was recorded in before
        (this store's file for a new key); `finish_rewrite` swaps the staged files in."""
        self.entries(entry["model"])
        target = self._files.get(entry["key"]) or self.path_for(entry["model"])
        staged = target.with_name(target.name + REWRITE_SUFFIX + run)
        append_entry(staged, entry)
        self.entries(entry["model"])[entry["key"]] = dict(entry)
        return target

    def may_record_once(self, model: str, ledger: Path) -> bool:
        """Record mode "once": whether this run may record `model`'s calls into its file,
        i.e. the file did not exist when the run first looked. `ledger` (one JSON file per
        run, shared by its xdist workers under a lock) remembers the files this run created,
        so a second worker does not take the first one's new file for an old one."""
        if model not in self._once:
            path = self.path_for(model)
            ledger.parent.mkdir(parents=True, exist_ok=True)
            with locked(ledger), ledger.open("a+", encoding="utf-8") as fh:
                fh.seek(0)
                created = set(json.loads(fh.read() or "[]"))
                ok = str(path) in created or not path.exists()
                if ok and str(path) not in created:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.touch()
                    fh.seek(0)
                    fh.truncate()
                    fh.write(json.dumps(sorted(created | {str(path)})))
            self._once[model] = ok
        return self._once[model]
