"""Replays of the committed cassettes, shared by the report tests (each costs ~6 s on a
quiet core): `replays` runs `pytest evals/` twice into separate report directories under the
same run id, the second with the trials in reverse order, so any order-dependent sum shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.subproc import HANG_S

ROOT = Path(__file__).resolve().parents[2]
REVERSE_PLUGIN = "def pytest_collection_modifyitems(items):\n    items.reverse()\n"


def replay(out: Path, *extra: str, plugin_dir: Path | None = None) -> Path:
    """Replay evals/ from the committed cassettes into `out/r`; returns the run directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_"))}
    if plugin_dir is not None:
        env["PYTHONPATH"] = str(plugin_dir)
    cmd = [sys.executable, "-m", "pytest", "evals/", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
           f"--sorg-report-dir={out}", "--sorg-run-id=r", f"--sorg-cache-dir={out / 'cache'}", *extra]
    cp = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_S)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    return out / "r"


@pytest.fixture(scope="session")
def replays(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two replays of the committed cassettes: in collection order, and reversed."""
    base = tmp_path_factory.mktemp("replays")
    plug = base / "plug"
    plug.mkdir()
    (plug / "sorg_reverse_items.py").write_text(REVERSE_PLUGIN, encoding="utf-8")
    a = replay(base / "a")
    b = replay(base / "b", "-p", "sorg_reverse_items", plugin_dir=plug)
    return a, b
