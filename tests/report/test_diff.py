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


def _with_ci(data) -> list[str]:
    """Claims of the replay whose verdict has an estimate and a real interval (chosen by what
    they carry, not by name: which claims the replay judges follows the gate and the design)."""
    return [r["nodeid"].rsplit("::", 1)[-1] for r in data["claims"]
            if isinstance((r.get("verdict") or {}).get("estimate"), (int, float))
            and (r["verdict"].get("ci") or [None])[0] is not None and r["verdict"]["ci"][1] > r["verdict"]["ci"][0]]


def test_a_flipped_verdict_exits_non_zero_and_is_named(replays, tmp_path):
    from sorg.report.fmt import outcome_word

    a, _ = replays
    b = tmp_path / "b"
    shutil.copytree(a, b)
    base = json.loads((a / "claims.json").read_text())
    flip = next(r for r in base["claims"] if r["outcome"] in ("passed", "failed", "xfailed", "xpassed", "skipped"))
    flip_name = flip["nodeid"].rsplit("::", 1)[-1]
    far, near = [n for n in _with_ci(base) if n != flip_name][:2]
    gone = base["claims"][-1]["nodeid"]

    def claims(data):
        _claim(data, flip_name)["outcome"] = "failed" if flip["outcome"] != "failed" else "passed"
        v = _claim(data, far)["verdict"]
        v["estimate"] = v["ci"][1] + 10 * (v["ci"][1] - v["ci"][0])  # outside its CI
        v = _claim(data, near)["verdict"]
        v["estimate"] += (v["ci"][1] - v["estimate"]) / 10  # inside its CI
        data["run"]["cassettes"]["local--smollm2-135m/core-n4-s0.jsonl"] = "0000000000000000"
        data["claims"] = [r for r in data["claims"] if r["nodeid"] != gone]

    def summary(data):
        data["cells"] = [c for c in data["cells"] if not (c["protocol"] == "single" and c["n_agents"] == 4)]
        data["prompt_versions"] = ["ffffffffffff"]

    _edit(b / "claims.json", claims)
    _edit(b / "summary.json", summary)
    cp = _cli(str(a), str(b))
    assert cp.returncode == 1, cp.stdout + cp.stderr
    out = cp.stdout
    after = {"outcome": "failed" if flip["outcome"] != "failed" else "passed"}
    assert "Verdicts flipped (1)" in out
    assert f"`{flip_name}` | {outcome_word(flip)} | **{outcome_word(after)}**" in out
    assert "Estimates moved beyond their CI (1)" in out and far in out
    assert near not in out.split("Estimates moved beyond their CI", 1)[1].split("###", 1)[0]
    assert "Claims missing (1)" in out and gone.rsplit("::", 1)[-1] in out
    assert "Cells missing (1)" in out and "single / 4 agents" in out
    assert "Prompt versions changed" in out and "ffffffffffff" in out
    assert "changed `local--smollm2-135m/core-n4-s0.jsonl`" in out
    d = diff_runs(a, b)
    assert [f["claim"].rsplit("::", 1)[-1] for f in d.flipped] == [flip_name]
    assert json.loads(d.to_json())["exit_code"] == 1
    assert render_md(d) == out


def test_a_moved_estimate_without_ci_is_reported_as_such(replays, tmp_path):
    a, _ = replays
    b = tmp_path / "b"
    shutil.copytree(a, b)

    name = _with_ci(json.loads((a / "claims.json").read_text()))[0]

    def no_ci(data):  # a claim whose verdict carries no interval (a count, a descriptive claim)
        _claim(data, name)["verdict"].update(ci=None)

    a2 = tmp_path / "a"
    shutil.copytree(a, a2)
    _edit(a2 / "claims.json", no_ci)
    _edit(b / "claims.json", lambda data: (no_ci(data), _claim(data, name)["verdict"].update(estimate=9.0)))
    d = diff_runs(a2, b)
    assert d.exit_code == 0 and len(d.moved) == 1  # a count has no interval
    assert d.moved[0]["beyond"] == "no CI to judge by"
