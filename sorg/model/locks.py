"""Locks shared between processes (xdist workers), portable: `filelock` on a sidecar file.

Why filelock: ``fcntl`` exists only on Unix. filelock takes ``flock`` there and
``msvcrt.locking`` on Windows; either way the system releases a dead process's lock.

Why a sidecar (``<file>.lock``) and never a lock on the data file itself: on Windows a
locked region cannot be read or written through another handle, and a file open in another
process cannot be replaced or removed; and data files are replaced (cassette compaction and
rewrites use ``os.replace``), so a lock on the old file would not exclude a process that opens
the new one. The sidecar stays where it is: whoever holds it may open, append to, replace or
remove the data file, and opens the data file only while holding it. Lock files stay behind
on Unix (so waiters share one inode); they hold no data (``*.jsonl.lock`` is git-ignored).

Timeout: a lock not taken within the `lock_timeout` setting (``--sorg-lock-timeout``, ini
``sorg_lock_timeout``, env ``SORG_LOCK_TIMEOUT``; default 600 s; negative waits forever; read at
each lock, so a value set after import counts) raises `LockTimeout` naming the data file and the
lock file. Holds last milliseconds
(starting the embedded model's server: minutes, and its lock waits longer), so such a wait
means a hung process, or a lock file left by a crash on a file system without native locks
(filelock then falls back to the lock file's existence).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from sorg import options
from sorg.errors import LockTimeout

__all__ = ["lock_timeout_s", "lock_path", "acquire", "locked"]


def lock_timeout_s() -> float:
    """Seconds a lock is waited for now (the `lock_timeout` setting, `sorg.options`)."""
    return float(options.setting("lock_timeout"))


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar lock file guarding `path`: ``<path>.lock``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def acquire(path: str | os.PathLike[str], lock_file: str | os.PathLike[str] | None = None,
            timeout: float | None = None) -> Any:
    """Take the exclusive lock guarding `path` (its sidecar, or `lock_file`); returns the held
    lock (call ``.release()``). Raises LockTimeout after `timeout` s (default `lock_timeout_s()`),
    OSError if the lock file cannot be created, SettingError if the lock_timeout setting is bad."""
    lock_file = Path(lock_file) if lock_file is not None else lock_path(path)
    wait = lock_timeout_s() if timeout is None else timeout
    lock = FileLock(str(lock_file), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise LockTimeout(
            f"{path}: could not take its lock {lock_file} within {wait:g} s: another process holds it "
            f"(a hung worker? see `ps`). If no sorg process runs, the lock file is a crash's leftover "
            f"on a file system without native locks: delete it. --sorg-lock-timeout (SORG_LOCK_TIMEOUT) sets the wait"
        ) from None
    return lock


@contextmanager
def locked(path: str | os.PathLike[str], lock_file: str | os.PathLike[str] | None = None,
           timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock guarding `path` for the body (see `acquire`)."""
    lock = acquire(path, lock_file, timeout)
    try:
        yield
    finally:
        lock.release()
