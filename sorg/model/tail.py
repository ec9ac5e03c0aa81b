"""A cassette's last line, made whole before the next append.

Why its own module: a crash mid-write leaves a final line without its newline, of any length
(a reply of megabytes cut short). Before appending, under the writers' lock, the torn line is
cut off (or, if it is a whole entry that only lacks its newline, finished), so the next entry
never glues onto it: a glued line makes every replay of that model fail.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path


def repair_tail(fd: int, path: Path) -> None:
    """Under the lock: make sure the file ends at a line boundary before appending.

    The torn line may be of any length (a reply of megabytes cut short): the scan goes back a
    chunk at a time until it finds the previous line's newline, so the next entry never glues
    onto a torn one (which would make that model's every replay fail)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    os.lseek(fd, size - 1, os.SEEK_SET)
    if os.read(fd, 1) == b"\n":
        return
    start = _last_line_start(fd, size)
    os.lseek(fd, start, os.SEEK_SET)
    partial = _read_exactly(fd, size - start)
    try:
        json.loads(partial)
    except (json.JSONDecodeError, UnicodeDecodeError):
        warnings.warn(f"{path}: cutting a truncated final line ({len(partial)} bytes) before appending",
                      RuntimeWarning, stacklevel=3)
        os.ftruncate(fd, start)
        return
    os.write(fd, b"\n")  # a whole entry that only lacks its newline: keep it


def _last_line_start(fd: int, size: int, chunk: int = 1 << 20) -> int:
    """The offset just after the last newline before `size` (0 when there is none)."""
    end = size
    while end > 0:
        begin = max(0, end - chunk)
        os.lseek(fd, begin, os.SEEK_SET)
        cut = _read_exactly(fd, end - begin).rfind(b"\n")
        if cut >= 0:
            return begin + cut + 1
        end = begin
    return 0


def _read_exactly(fd: int, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        b = os.read(fd, n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)
