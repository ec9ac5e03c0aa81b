"""The disk cache: live replies kept on this machine so a rerun does not pay twice.

Why guarded: diskcache opens a SQLite database and, on first open, creates its tables and
sets pragmas; when many processes (32 xdist workers) open the same directory at the same
moment SQLite can answer "database is locked". We serialise the *opening* with a lock
(`sorg.model.locks`: filelock) on a sibling file and retry on that error; reads and writes
after that rely on SQLite's own locking with a generous busy timeout, and are retried a few
times as well. A cache failure (a lock not taken in time included) never fails a model call:
the reply is still returned (and recorded in the cassette).

What is stored: the same entry dict a cassette line holds (reply whole, cost), keyed by the
request hash; never a secret, never an error.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sorg.errors import LockTimeout
from sorg.model.locks import locked

__all__ = ["DiskCache", "open_cache"]

T = TypeVar("T")
_ATTEMPTS = 8


def _retry(what: str, fn: Callable[[], T]) -> T:
    delay = 0.02
    for attempt in range(_ATTEMPTS):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")  # pragma: no cover


def open_cache(directory: str | os.PathLike[str]) -> Any:
    """Open (creating if needed) a diskcache.Cache, safe when many processes do it at once."""
    import diskcache  # noqa: PLC0415 - only when a cache is actually used

    path = Path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / f".{path.name}.open.lock"
    with locked(path, lock_file=lock_path):
        return _retry(f"opening {path}", lambda: diskcache.Cache(str(path), timeout=60))


class DiskCache:
    """Request key -> entry, on disk, shared by every process of the machine."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._cache: Any = None

    def _open(self) -> Any:
        if self._cache is None:
            self._cache = open_cache(self.directory)
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry for `key`, or None (also None if the cache cannot be read)."""
        try:
            cache = self._open()
            value = _retry("reading the cache", lambda: cache.get(key))
        except (sqlite3.Error, LockTimeout) as exc:
            warnings.warn(f"disk cache {self.directory} unreadable, ignored: {exc}", RuntimeWarning, stacklevel=2)
            return None
        return value if isinstance(value, dict) else None

    def set(self, key: str, entry: Mapping[str, Any]) -> None:
        """Store `entry`; a failure is a warning, never an error (the call itself succeeded)."""
        try:
            cache = self._open()
            _retry("writing the cache", lambda: cache.set(key, dict(entry)))
        except (sqlite3.Error, LockTimeout) as exc:
            warnings.warn(f"disk cache {self.directory} not written: {exc}", RuntimeWarning, stacklevel=2)

    def close(self) -> None:
        """Close the SQLite connection (reopened on next use)."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None
