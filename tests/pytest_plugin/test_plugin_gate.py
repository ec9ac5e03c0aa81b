"""The instrument gate end to end: with the gate on, a claim over a scorer that never passed it
reads NOT MEASURED in the terminal, claims.json and the report; off, the run says so loudly."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def test_gate_on_makes_unvalidated_claims_not_measured(project):
    # The fake runner writes quality.judge_q itself; its judge model ("fake/m", no backend in the
    # project) cannot be asked the ladder, so judge_q never passes the gate.
    r = project.run("--sorg-run-id=on", "--sorg-gate=on", "--sorg-scorers=coverage,judge_q", "-rA")
    out = r.stdout.str()
    assert "instrument judge_q was not run through the gate" in out
    assert "NOT MEASURED" in out and "test_claims.py::test_sequential_beats_coordinator" in out
    assert "not measured" in out.splitlines()[-1]  # pytest's own count, under its own word
    run = project.path / "reports" / "on"
    rows = {c["nodeid"]: c for c in json.loads((run / "claims.json").read_text())["claims"]}
    row = rows["test_claims.py::test_sequential_beats_coordinator"]
    assert row["outcome"] == "not_measured" and row["verdict"]["outcome"] == "not_measured"
    assert row["verdict"]["p"] is None and "judge_q was not run through the gate" in row["message"]
    assert rows["test_claims.py::test_xfail_strict_holds"]["outcome"] == "not_measured"  # never an xfail
    gate = json.loads((run / "instrument.json").read_text())
    assert gate["gate"] == "on" and gate["instruments"]["coverage"]["status"] == "passed"
    md = (run / "summary.md").read_text()
    assert "| NOT MEASURED |" in md.replace("  ", " ").replace("  ", " ") or "NOT MEASURED" in md
    assert "## Instrument validation (the gate)" in md


def test_gate_off_is_said_loudly(project):
    r = project.run("--sorg-run-id=off", "--sorg-gate=off")
    out = r.stdout.str()
    assert "INSTRUMENT GATE OFF (--sorg-gate=off)" in out
    rows = json.loads((project.path / "reports" / "off" / "claims.json").read_text())["claims"]
    assert not any(c["outcome"] == "not_measured" for c in rows)
    assert "The gate was OFF" in (project.path / "reports" / "off" / "summary.md").read_text()
