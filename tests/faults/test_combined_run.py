"""benchmarks/faults_combined.py keeps working: three of its attacks that need no root (kill -9
inside a trials.jsonl append, a cassette append and the budget ledger), each followed by the
rerun, lose no trial and no paid reply. The whole run (20 attacks, tmpfs mounts) is the
benchmark's; its figures are in docs/PLUGIN.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.subproc import HANG_S, pythonpath

pytestmark = pytest.mark.slow  # pytest runs in subprocesses: left out of the quick selection

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "faults_combined.py"


def test_three_kill_attacks_hold(tmp_path: Path) -> None:
    attacks = ["kill9_trials_append", "kill9_cassette_append", "kill9_budget_ledger"]
    cmd = [sys.executable, str(SCRIPT), "--keep", str(tmp_path)] + [a for x in attacks for a in ("--only", x)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_"))}
    env["PYTHONPATH"] = pythonpath()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=HANG_S, env=env)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [x["attack"] for x in lines[:-1]] == attacks, r.stdout + r.stderr
    for x in lines[:-1]:
        assert x["ok"] and x["killed"] and x["lost_trials"] == 0 and x["lost_paid"] == 0, x
    assert lines[-1]["held"] == 3 and r.returncode == 0
