"""The run store: `reports/<run-id>/trials.jsonl`, appended one trial at a time.

Why append-only JSON lines, written by the pytest controller alone: under xdist every worker's
report reaches the controller, so one writer means no interleaved lines (and a named run is
held by one pytest run at a time: `run_lock`); a
record is on disk (flushed to the kernel) the moment its test's report arrives, so a run killed
with `kill -9` keeps every trial it reported finished. `fsync` is batched (at most once per
`fsync_every_s`, and at close) because one fsync per trial costs milliseconds and a sweep has
tens of thousands of trials; a *power loss* may therefore lose the last second of records,
a killed process loses nothing.

Reading is strict, with one documented recovery: a final line without its newline is a write
cut short by a kill; it is dropped (with a warning) and the next append starts on a fresh
line. Anything else unreadable (bad UTF-8, bad JSON, a record of another store version, a
field that does not fit `TrialRecord`) raises `StoreCorrupt` naming the file and line.
Duplicate trial ids (the same cell requested by two tests, or a reused run directory) are
kept once: the first record whose status is "ok" wins, else the last one. Why: a rerun with
the same run id (`--sorg-run-id`) resumes the run, and a trial cut short by the budget or an
error must be completable by that rerun, while a finished trial is never replaced. The
writer compacts its file when it closes after replacing records, so a cleanly closed store
holds one line per trial (and readers that keep the first line agree with it).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from sorg.errors import StoreCorrupt, StoreWriteFailed
from sorg.record import RECORD_VERSION, TrialRecord

TRIALS_FILE = "trials.jsonl"
CLAIMS_FILE = "claims.json"
LATEST = "latest"


def new_run_id(now: _dt.datetime | None = None) -> str:
    """A sortable, filesystem-safe run id: UTC time to the second plus the pid (two runs
    started in the same second from different processes do not collide)."""
    now = now or _dt.datetime.now(_dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{os.getpid()}"


def _check_run_id(run_id: str) -> str:
    if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id or run_id == LATEST:
        raise ValueError(f"invalid run id {run_id!r}: use a plain directory name (not 'latest', no slashes)")
    return run_id


def run_lock(report_dir: str | os.PathLike[str], run_id: str) -> Any:
    """Take the run's lock (`<report_dir>/.<run_id>.lock`) for this process, without waiting;
    call `.release()` at the end of the run.

    Why: one writer per run. Two runs with the same `--sorg-run-id` at once appended to one
    trials.jsonl and one's end-of-run compaction replaced it under the other, losing trials it
    had reported PASSED. The lock sits beside the run directory, so taking it creates nothing
    inside a run that may never exist. Raises RunInUse when another process holds it."""
    from sorg.errors import LockTimeout, RunInUse
    from sorg.model.locks import acquire

    rd = Path(report_dir)
    rd.mkdir(parents=True, exist_ok=True)
    path = rd / f".{_check_run_id(run_id)}.lock"
    try:
        return acquire(rd / run_id, lock_file=path, timeout=0)
    except LockTimeout:
        raise RunInUse(f"run {run_id!r} is in use by another sorg run (lock {path}): wait for it to finish, "
                       f"or use another --sorg-run-id") from None


def point_latest(report_dir: Path, run_dir: Path) -> Path:
    """Make `report_dir/latest` point at `run_dir`: a relative symlink, or, where symlinks
    cannot be made (some Windows set-ups, some mounted filesystems), a text file holding the
    run directory's name. Replaced atomically so a reader never sees it half-written."""
    latest = report_dir / LATEST
    tmp = report_dir / f".{LATEST}.{os.getpid()}.tmp"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(run_dir.name, tmp, target_is_directory=True)
    except OSError:
        tmp.write_text(run_dir.name + "\n", encoding="utf-8")
    if latest.is_dir() and not latest.is_symlink():
        raise StoreCorrupt(f"{latest} is a real directory; sorg keeps a link or pointer file there: move it away")
    os.replace(tmp, latest)
    return latest


def resolve_run_dir(path: str | os.PathLike[str]) -> Path:
    """A run directory from a path that may be `reports/latest` (link or pointer file) or
    `reports` itself (meaning its latest run)."""
    p = Path(path)
    if p.is_file() and p.name == LATEST:
        return p.parent / p.read_text(encoding="utf-8").strip()
    if p.is_dir() and not (p / TRIALS_FILE).exists() and (p / LATEST).exists():
        return resolve_run_dir(p / LATEST)
    return p.resolve() if p.is_symlink() else p


def iter_records(path: str | os.PathLike[str], *, recover_tail: bool = True) -> Iterator[dict[str, Any]]:
    """Yield each record dict of a trials.jsonl, deduplicated by trial id: the first record
    with status "ok" wins, else the last record of that id (a resumed run's retry).

    Records are yielded in file order, except that a trial whose first record is not ok is
    held back and yielded at the end (its retry may follow). A last line with no newline is
    a write cut short: dropped with a warning when `recover_tail`, else StoreCorrupt. Every
    other bad line raises StoreCorrupt naming file and line.
    """
    for _, obj in _numbered_records(Path(path), recover_tail):
        yield obj


def _numbered_records(p: Path, recover_tail: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    """`iter_records` with each record's line number (for errors that name the line)."""
    done: set[str] = set()
    pending: dict[str, tuple[int, dict[str, Any]]] = {}  # trial id -> latest record that is not ok
    # Streamed line by line: a study-sized store is large, and the controller must not
    # hold it twice (bytes and records) at the end of a run. Only records that are not ok
    # (few: budget cuts, errors) are held until the end.
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            obj = _parse_line(p, lineno, raw, recover_tail)
            if obj is None:
                continue
            tid = obj["trial_id"]
            if tid in done:
                continue
            if obj.get("status") == "ok":
                done.add(tid)
                pending.pop(tid, None)
                yield lineno, obj
            else:
                pending[tid] = (lineno, obj)
    yield from pending.values()


def _parse_line(p: Path, lineno: int, raw: bytes, recover_tail: bool) -> dict[str, Any] | None:
    """One line of a store as a record dict; None for a blank line or a cut-short tail."""
    if not raw.endswith(b"\n"):
        # Only the last line can lack its newline: a write cut short by a kill.
        if not raw.strip():
            return None
        msg = f"{p}:{lineno}: last line has no newline (a write cut short by a kill); it is ignored"
        if not recover_tail:
            raise StoreCorrupt(msg)
        warnings.warn(msg, stacklevel=4)
        return None
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreCorrupt(f"{p}:{lineno}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise StoreCorrupt(f"{p}:{lineno}: not a JSON object: {exc}") from None
    if not isinstance(obj, dict):
        raise StoreCorrupt(f"{p}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    version = obj.get("version", RECORD_VERSION)
    if version != RECORD_VERSION:
        raise StoreCorrupt(
            f"{p}:{lineno}: trial record version {version!r}, this sorg reads version {RECORD_VERSION}; "
            f"rebuild the store with the sorg that wrote it, or rerun the trials"
        )
    tid = obj.get("trial_id")
    if not isinstance(tid, str) or not tid:
        raise StoreCorrupt(f"{p}:{lineno}: record has no trial_id")
    return obj


def encode(record: Mapping[str, Any]) -> str:
    """One record dict as its store line (no newline): compact JSON, non-ASCII kept."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=True)


def read_records(path: str | os.PathLike[str], *, recover_tail: bool = True,
                 with_replies: bool = True) -> list[TrialRecord]:
    """Every record of a trials.jsonl as TrialRecords (see `iter_records` for the rules).

    The one parser of trial stores: `Trials.from_jsonl` reads through it too, so a claim, a
    report and the plugin never disagree on which trials a store holds. A record that does
    not fit `TrialRecord` (an unknown or missing field) raises StoreCorrupt naming file and
    line, like a line that is not JSON.

    `with_replies=False` leaves each record's replies, per_agent and per_round empty: the
    report's tables use none of them, and building them was most of the time a 25,000-trial
    report spent reading (and most of the memory it held).
    """
    out = []
    p = Path(path)
    for lineno, obj in _numbered_records(p, recover_tail):
        if not with_replies:
            obj["replies"] = obj["per_agent"] = obj["per_round"] = ()
        try:
            out.append(TrialRecord.from_dict(obj))
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise StoreCorrupt(f"{p}:{lineno}: trial {obj.get('trial_id')!r}: {exc}") from None
    return out


class TrialStore:
    """Appends trial records to `<report_dir>/<run_id>/trials.jsonl`; one writer per run.

    The directory is created on the first append, so a pytest run that produces no trials
    (the framework's own tests) leaves no empty run directories. `latest` moves to this run
    only when `point_latest_on_open` (the plugin passes False and moves it itself once the
    run's claims were judged over a complete sweep). Reusing a run id continues its file: an
    ok record already there is kept and the new one dropped; a record that is not ok (budget,
    error) is replaced by the new one, listed in `replaced`.
    """

    def __init__(self, report_dir: str | os.PathLike[str], run_id: str, *, fsync_every_s: float = 1.0,
                 point_latest_on_open: bool = True):
        self.report_dir = Path(report_dir)
        self.run_id = _check_run_id(run_id)
        self.run_dir = self.report_dir / self.run_id
        self.path = self.run_dir / TRIALS_FILE
        self.fsync_every_s = fsync_every_s
        self._fh: TextIO | None = None
        self._seen: dict[str, str] | None = None  # trial id -> status of its kept record
        self._last_sync = 0.0
        self._dirty = False
        self.point_latest_on_open = point_latest_on_open
        self.appended = 0
        self.duplicates = 0
        #: (trial id, old status, new status) of each record a resumed run replaced.
        self.replaced: list[tuple[str, str, str]] = []

    @property
    def opened(self) -> bool:
        return self._fh is not None

    def open(self) -> None:
        """Create the run directory, point `latest` at it, and open the file for appending
        (repairing a last line cut short by a kill)."""
        if self._fh is not None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._seen = {}
        if self.path.exists():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for obj in iter_records(self.path):
                    self._seen[obj["trial_id"]] = str(obj.get("status", ""))
            self._repair_tail()
        self._fh = open(self.path, "a", encoding="utf-8")
        if self.point_latest_on_open:
            point_latest(self.report_dir, self.run_dir)

    def _repair_tail(self) -> None:
        """Cut a trailing partial line so the next record starts on its own line."""
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                fh.truncate(cut)

    def seen(self, trial_id: str) -> bool:
        return self._seen is not None and trial_id in self._seen

    def status(self, trial_id: str) -> str:
        """The status of the record the store keeps for `trial_id` ("" when it holds none):
        an ok record stays ok whatever a later attempt brought."""
        return (self._seen or {}).get(trial_id, "")

    def append(self, record: Mapping[str, Any] | TrialRecord) -> bool:
        """Write one record (a TrialRecord or its dict) unless its trial id already has an ok
        record in the store; returns whether it was written. The line is flushed before
        returning."""
        obj = record.to_dict() if isinstance(record, TrialRecord) else record
        return self.append_line(obj.get("trial_id"), encode(obj), status=obj.get("status"))  # type: ignore[arg-type]

    def append_line(self, trial_id: str, line: str, status: str | None = None) -> bool:
        """`append` for a record already encoded by `encode` (an xdist worker encodes its
        records, so the controller only writes them: decoding every record again would make
        the controller, one process for the whole sweep, the bottleneck). `status` is the record's
        status; None reads it from the line."""
        if not isinstance(trial_id, str) or not trial_id:
            raise ValueError(f"trial record without a trial_id: {line[:80]!r}")
        if not (isinstance(line, str) and line.startswith("{") and "\n" not in line):
            raise ValueError(f"trial {trial_id!r}: not one encoded record line: {str(line)[:80]!r}")
        self.open()
        assert self._seen is not None and self._fh is not None
        if status is None:
            status = str(json.loads(line).get("status", ""))
        old = self._seen.get(trial_id)
        if old is not None:
            if old == "ok":
                self.duplicates += 1
                return False
            self.replaced.append((trial_id, old, status))
        good = self._fh.tell()
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
        except OSError as exc:  # a full disk: leave no half line behind, say it once, clearly
            self._abandon(good)
            raise StoreWriteFailed(f"{self.path}: trial {trial_id!r} could not be stored ({exc}); the records before "
                                   f"it are whole. Free space and rerun with --sorg-run-id={self.run_id}") from None
        self._seen[trial_id] = status
        self.appended += 1
        self._dirty = True
        now = time.monotonic()
        if now - self._last_sync >= self.fsync_every_s:
            os.fsync(self._fh.fileno())
            self._last_sync = now
            self._dirty = False
        return True

    def _abandon(self, good: int) -> None:
        """After a failed write: drop the buffered rest, cut the file back to `good` bytes."""
        fh, self._fh = self._fh, None
        try:
            assert fh is not None
            fh.close()  # may flush part of the buffer once more: cut below
        except OSError:
            pass
        try:
            os.truncate(self.path, good)
        except OSError:
            pass  # the next open repairs a torn last line

    def close(self) -> None:
        """Flush, fsync and close; compact the file when this session replaced records."""
        if self._fh is not None:
            if self._dirty:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            if self.replaced:
                compact(self.path)


def compact(path: str | os.PathLike[str]) -> int:
    """Rewrite a trials.jsonl with one line per trial, chosen by `iter_records`' rule (first
    ok, else last), each at its trial's first position, lines kept byte for byte; the file
    is replaced atomically (a kill leaves the old file whole). Returns the lines dropped."""
    p = Path(path)
    chosen: dict[str, tuple[bytes, bool]] = {}  # trial id -> (line, is ok); insertion = first position
    n_in = 0
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = _parse_line(p, lineno, raw, True)
            if obj is None:
                continue
            n_in += 1
            tid = obj["trial_id"]
            prev = chosen.get(tid)
            if prev is None or not prev[1]:
                chosen[tid] = (raw, obj.get("status") == "ok")
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        for raw, _ in chosen.values():
            fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)
    return n_in - len(chosen)
