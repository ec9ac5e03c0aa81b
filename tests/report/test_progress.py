"""Live progress: per-process meters summed on the controller; a line while models are
called (here the fake provider, under xdist), nothing in pure replay or with the option off."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sorg.progress import Meter, render, totals
from tests.pytest_plugin.test_plugin_model_door import CONFTEST, EVALS, INI
from tests.subproc import HANG_S, pythonpath

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def test_meters_of_several_processes_are_summed(tmp_path):
    a, b = Meter(tmp_path), Meter(tmp_path)
    b.path = tmp_path / "other.meter.json"  # a second process's file
    a.start("fake/m")
    a.end("fake/m", tokens=100, cost_usd=0.25)
    a.start("fake/m")  # still in flight
    b.start("fake/other")
    b.end("fake/other", ok=False)
    t = totals(tmp_path)
    assert t["fake/m"]["done"] == 1 and t["fake/m"]["in_flight"] == 1 and t["fake/m"]["tokens"] == 100
    assert t["fake/other"]["failed"] == 1 and t["fake/other"]["done"] == 0
    now = t["fake/m"]["first_t"] + 60
    line = render(t, now, tests_done=1, tests_total=4, budget_usd=1.0)
    assert line.startswith("sorg live | tests 1/4 | fake/m: 1 calls done, 1 in flight, 100 tok, $0.2500")
    assert "fake/other: 0 calls done, 0 in flight, 1 failed" in line
    assert "$0.2500 spent of $1.00 budget (25%)" in line and "ETA 3m00s" in line and "calls/min" in line


def test_no_live_call_no_line(tmp_path):
    assert render(totals(tmp_path), 0.0, 3, 10, None) == ""
    (tmp_path / "x.meter.json").write_text(json.dumps({"models": {"m": {"done": 0, "in_flight": 0}}}))
    assert render(totals(tmp_path), 0.0, 3, 10, None) == ""


def _run(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_"))}
    e.update(PYTHONPATH=pythonpath(root), SORG_PLOTS="no", SORG_FAKE_LOG=str(root / "live.log"), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=root, env=e,
                          capture_output=True, text=True, timeout=HANG_S)


def test_progress_line_on_a_live_sweep_under_xdist_and_silence_in_replay(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_evals.py").write_text(EVALS)
    live = _run(tmp_path, "-n", "2", "--sorg-record=new", "--sorg-run-id=rec", "--sorg-budget-usd=1",
                SORG_FAKE_SLEEP="0.05", SORG_PROGRESS_INTERVAL="0.2")
    assert live.returncode == 0, live.stdout[-3000:] + live.stderr[-3000:]
    lines = [ln for ln in live.stdout.splitlines() if ln.startswith("sorg live |")]
    assert lines, live.stdout[-3000:]
    last = lines[-1]
    # 8 trials x 2 calls, summed over both workers; the fake provider charges $0.001 a call
    assert re.search(r"\| tests 8/8 \| fake/m: 16 calls done, 0 in flight, 288 tok, \$0\.0160, [\d.]+ calls/min", last), last
    assert "$0.0160 spent of $1.00 budget (2%)" in last
    print("\n".join(lines))  # shown with -s: what a researcher sees
    replay = _run(tmp_path, "-n", "2", "--sorg-run-id=replay", "--sorg-cache-dir=none", SORG_PROGRESS_INTERVAL="0.2")
    assert replay.returncode == 0 and "sorg live" not in replay.stdout
    off = _run(tmp_path, "--sorg-record=all", "--sorg-run-id=off", "--sorg-progress=off", SORG_PROGRESS_INTERVAL="0.2")
    assert off.returncode == 0 and "sorg live" not in off.stdout
    assert len((tmp_path / "live.log").read_text().splitlines()) == 32  # the "off" run did call live
