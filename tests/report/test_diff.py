"""`sorg diff`: no change between two replays; a flipped verdict fails the gate and is named."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from sorg.report.diff import diff_runs, render_md

from .conftest import ROOT

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sorg.cli", "diff", *args], cwd=ROOT, capture_output=True, text=True)


def test_two_replays_diff_to_nothing(replays, tmp_path):
    a, b = replays
    cp = _cli(str(a), str(b), "--json-out", str(tmp_path / "d.json"))
    assert cp.returncode == 0, cp.stderr
    assert "No change" in cp.stdout
    d = json.loads((tmp_path / "d.json").read_text())
    assert d["changed"] is False and d["exit_code"] == 0 and d["flipped"] == []


def _edit(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def _claim(data, name):
    return [r for r in data["claims"] if r["nodeid"].endswith("::" + name)][0]


def test_a_flipped_verdict_exits_non_zero_and_is_named(replays, tmp_path):
    a, _ = replays
    b = tmp_path / "b"
    shutil.copytree(a, b)

    def claims(data):
        _claim(data, "test_agents_abstain")["outcome"] = "failed"
        _claim(data, "test_coverage_sequential_vs_coordinator")["verdict"]["estimate"] = 0.2  # outside its CI
        _claim(data, "test_weak_model_prefers_fixed_roles")["verdict"]["estimate"] += 0.01  # inside its CI
        data["run"]["cassettes"]["local--smollm2-135m/core-n4-s0.jsonl"] = "0000000000000000"
        data["claims"] = [r for r in data["claims"] if not r["nodeid"].endswith("::test_open_price_factor")]

    def summary(data):
        data["cells"] = [c for c in data["cells"] if not (c["protocol"] == "single" and c["n_agents"] == 8)]
        data["prompt_versions"] = ["ffffffffffff"]

    _edit(b / "claims.json", claims)
    _edit(b / "summary.json", summary)
    cp = _cli(str(a), str(b))
    assert cp.returncode == 1, cp.stdout + cp.stderr
    out = cp.stdout
    assert "Verdicts flipped (1)" in out and "`test_agents_abstain` | passed | **failed**" in out
    assert "Estimates moved beyond their CI (1)" in out and "test_coverage_sequential_vs_coordinator" in out
    assert "test_weak_model_prefers_fixed_roles" not in out
    assert "Claims missing (1)" in out and "test_open_price_factor" in out
    assert "Cells missing (1)" in out and "single / 8 agents" in out
    assert "Prompt versions changed" in out and "ffffffffffff" in out
    assert "changed `local--smollm2-135m/core-n4-s0.jsonl`" in out
    d = diff_runs(a, b)
    assert [f["claim"].rsplit("::", 1)[-1] for f in d.flipped] == ["test_agents_abstain"]
    assert json.loads(d.to_json())["exit_code"] == 1
    assert render_md(d) == out


def test_a_moved_estimate_without_ci_is_reported_as_such(replays, tmp_path):
    a, _ = replays
    b = tmp_path / "b"
    shutil.copytree(a, b)

    def no_ci(data):  # a claim whose verdict carries no interval (a count, a descriptive claim)
        _claim(data, "test_agents_abstain")["verdict"].update(ci=None)

    a2 = tmp_path / "a"
    shutil.copytree(a, a2)
    _edit(a2 / "claims.json", no_ci)
    _edit(b / "claims.json", lambda data: (no_ci(data), _claim(data, "test_agents_abstain")["verdict"].update(estimate=9.0)))
    d = diff_runs(a2, b)
    assert d.exit_code == 0 and len(d.moved) == 1  # a count has no interval
    assert d.moved[0]["beyond"] == "no CI to judge by"
