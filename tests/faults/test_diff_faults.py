"""`sorg diff` over a run that judged less (issue 28, item 3): before, a run with 14 claims and
31 cells missing (an `--lf` rerun) diffed with exit 0, since only a flipped verdict failed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sorg.report.diff import diff_runs, render_md
from tests.subproc import pythonpath


def _run(root: Path, name: str, claims: list[str], cells: list[tuple[str, int]]) -> Path:
    d = root / name
    d.mkdir()
    rows = [{"nodeid": f"evals/test_claims.py::{c}", "outcome": "passed", "message": "ok", "verdict": {}}
            for c in claims]
    (d / "claims.json").write_text(json.dumps({"run": {}, "claims": rows}))
    cells_json = [{"model": "m", "protocol": p, "n_agents": n, "trials": 4} for p, n in cells]
    (d / "summary.json").write_text(json.dumps({"cells": cells_json, "prompt_versions": [], "model_versions": []}))
    return d


def test_missing_claims_or_cells_fail_the_diff_unless_allowed(tmp_path):
    a = _run(tmp_path, "a", ["test_x", "test_y"], [("seq", 4), ("coord", 4)])
    b = _run(tmp_path, "b", ["test_x"], [("seq", 4)])
    d = diff_runs(a, b)
    assert d.claims_missing and d.cells_missing and not d.flipped
    assert d.exit_code == 1  # before: 0
    assert "run B lacks claims or cells of run A" in render_md(d)
    assert diff_runs(a, b, allow_missing=True).exit_code == 0
    assert diff_runs(b, a).exit_code == 0  # claims and cells added are information
    cmd = [sys.executable, "-m", "sorg.cli", "diff", str(a), str(b)]
    env = {"PYTHONPATH": pythonpath(tmp_path), "PATH": "/usr/bin:/bin"}
    assert subprocess.run(cmd, capture_output=True, env=env).returncode == 1
    assert subprocess.run(cmd + ["--allow-missing"], capture_output=True, env=env).returncode == 0
