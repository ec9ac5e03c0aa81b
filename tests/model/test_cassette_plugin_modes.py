"""Record mode "rewrite" through the plugin under xdist: the controller swaps in, at the end of
the run, exactly what the workers called; and every run logs the entries it used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sorg.model.cassette import read_entries
from sorg.model.cassette_care import read_used
from tests.pytest_plugin.test_plugin_model_door import CONFTEST, EVALS, INI
from tests.subproc import HANG_S, pythonpath

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_"))}
    env.update(PYTHONPATH=pythonpath(root), SORG_PLOTS="no", SORG_FAKE_LOG=str(root / "live.log"))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=HANG_S)


def test_rewrite_under_xdist_keeps_exactly_the_runs_calls(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "pytest.ini").write_text(INI)  # 2 tasks x 2 protocols x 2 seeds, 2 calls a trial
    (tmp_path / "test_evals.py").write_text(EVALS)
    first = _run(tmp_path, "--sorg-record=new", "--sorg-run-id=rec", "--sorg-cache-dir=none")
    assert first.returncode == 0, first.stdout[-3000:]
    cassette = next((tmp_path / "cassettes").rglob("*.jsonl"))
    assert len(list(read_entries(cassette))) == 16
    assert len(read_used(tmp_path / "reports" / "rec")) == 16
    again = _run(tmp_path, "--sorg-record=rewrite", "--sorg-run-id=rw", "--sorg-seeds=1", "--sorg-cache-dir=none")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "cassette rewritten with this run's calls" in again.stdout
    samples = sorted(e["sample"] for _, e in read_entries(cassette))
    assert len(samples) == 8 and all("|s0|" in s for s in samples)  # seed 1's entries are gone
    assert not list((tmp_path / "cassettes").rglob("*.rewrite-*"))
    assert len((tmp_path / "live.log").read_text().splitlines()) == 24  # 16 recorded, then 8 re-called
    replay = _run(tmp_path, "--sorg-run-id=replay", "--sorg-seeds=1", "--sorg-cache-dir=none")
    assert replay.returncode == 0, replay.stdout[-3000:]
