"""What every test that runs Python in a subprocess shares: which sorg it runs, and how long
it may hang.

Why: a subprocess imports `sorg` from its PYTHONPATH first and the venv's editable install
second. In a git worktree the editable install points at another checkout, so a subprocess
given only the test project's directory tested that checkout's sorg, not this one. And a
timeout on `subprocess.run` is a guard against a hang, not a speed check: a fixed 120 s made
these tests fail on a machine busy with a live recording, so one generous limit, which a slow
machine can raise, serves them all.
"""

from __future__ import annotations

import os
from pathlib import Path

import sorg

#: The source tree of the sorg under test, when it is one (a git worktree's, which the venv's
#: editable install does not point at): the subprocess must run this sorg, not the installed one.
_SORG_SRC = Path(sorg.__file__).resolve().parents[1]
SORG_PATH = [str(_SORG_SRC)] if (_SORG_SRC / "pyproject.toml").exists() else []

#: Seconds a subprocess may run before the test calls it hung (SORG_TEST_HANG_S raises it).
HANG_S = float(os.environ.get("SORG_TEST_HANG_S", "900"))


def pythonpath(*first: Path | str) -> str:
    """A PYTHONPATH of `first` (the test project's directories), then the sorg under test."""
    return os.pathsep.join([*(str(p) for p in first), *SORG_PATH])
