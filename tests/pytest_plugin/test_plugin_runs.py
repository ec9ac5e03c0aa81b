"""The plugin end to end: small eval suites run by pytest in a subprocess, with a fake trial
runner (tests/pytest_plugin/fake_trials.py), with and without xdist."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sorg.store import read_records
from tests.subproc import pythonpath

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def _records(root: Path, run_id: str) -> dict[str, dict]:
    recs = read_records(root / "reports" / run_id / "trials.jsonl")
    return {r.trial_id: r.to_dict() for r in recs}


def _verdicts(root: Path, run_id: str) -> dict[str, tuple]:
    data = json.loads((root / "reports" / run_id / "claims.json").read_text())
    return {c["nodeid"]: (c["outcome"], (c.get("verdict") or {}).get("p_holm"), c["message"]) for c in data["claims"]}


EXPECTED_OUTCOMES = {
    "test_claims.py::test_sequential_beats_coordinator": "passed",
    "test_claims.py::test_coordinator_beats_sequential": "failed",
    "test_claims.py::test_needs_a_model_we_lack": "skipped",
    "test_claims.py::test_xfail_strict_holds": "xfailed",
    "test_claims.py::test_xpass_strict": "failed",
    "test_claims.py::test_skips_itself": "skipped",
}


def test_sweep_and_claims_without_and_with_xdist(project):
    r0 = project.run("--sorg-run-id=plain", "-rA", "--junitxml=j0.xml")
    # 4 tasks x 3 protocols x 2 seeds + 2 scaling tests = 26 trial tests; 6 claims
    r0.assert_outcomes(passed=27, failed=2, skipped=2, xfailed=1)
    assert r0.ret == 1
    out = r0.stdout.str()
    assert "XPASS(strict)" in out and "expected to fail but holds" in out
    assert "no trials for" in out and "openai/gpt-4o" in out  # the missing-data skip names what is missing
    assert "sorg claims" in out and "test_sequential_beats_coordinator" in out
    failed_msg = [ln for ln in out.splitlines() if ln.startswith("FAILED test_claims.py::test_coordinator_beats_sequential")]
    assert failed_msg and "coordinator" in failed_msg[0]
    # ids are readable: task, protocol, team size, seed, model
    assert "test_evals.py::test_protocol[" in out and "-sequential-n4-s1-m]" in out

    r2 = project.run("-n", "2", "--sorg-run-id=xdist", "--junitxml=j2.xml", "--sorg-plots=auto")
    r2.assert_outcomes(passed=27, failed=2, skipped=2, xfailed=1)
    assert r2.ret == 1  # a failed claim fails the run under xdist too
    root = project.path
    plain, xd = _records(root, "plain"), _records(root, "xdist")
    assert len(plain) == 25 and plain == xd  # one scaling cell is also a test_protocol cell: stored once
    v0, v2 = _verdicts(root, "plain"), _verdicts(root, "xdist")
    assert v0 == v2
    assert {k: v[0] for k, v in v0.items()} == EXPECTED_OUTCOMES
    rows = {c["nodeid"]: c for c in json.loads((root / "reports" / "plain" / "claims.json").read_text())["claims"]}
    assert rows["test_claims.py::test_xfail_strict_holds"]["xfail_reason"] == "measured: coordinator is worse here"
    assert rows["test_claims.py::test_xpass_strict"]["xfail_reason"] == "expected to fail but holds"
    assert "xfail_reason" not in rows["test_claims.py::test_sequential_beats_coordinator"]
    # claims appear in junit XML like tests, in both modes
    for name in ("j0.xml", "j2.xml"):
        cases = {f"{c.get('classname')}.{c.get('name')}": c for c in ET.parse(root / name).getroot().iter("testcase")}
        fail = cases["test_claims.test_coordinator_beats_sequential"]
        assert fail.find("failure") is not None
        assert cases["test_claims.test_needs_a_model_we_lack"].find("skipped") is not None
        assert cases["test_claims.test_sequential_beats_coordinator"].find("failure") is None
    # the report: latest points at the last run
    latest = root / "reports" / "latest"
    assert (latest / "summary.md").exists()
    md = (latest / "summary.md").read_text()
    assert "test_sequential_beats_coordinator" in md
    # `sorg report` rebuilds the same files from the run directory alone
    before = (root / "reports" / "xdist" / "summary.json").read_text()
    (root / "reports" / "xdist" / "summary.json").unlink()
    cli = subprocess.run([sys.executable, "-m", "sorg.cli", "report", str(root / "reports" / "xdist")],
                         capture_output=True, text=True, check=True)
    assert "summary.md" in cli.stdout
    assert (root / "reports" / "xdist" / "summary.json").read_text() == before
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass
    else:
        for png in ("quality_by_protocol.png", "scaling.png", "quality_vs_cost.png"):
            assert (root / "reports" / "xdist" / png).read_bytes()[:4] == b"\x89PNG"
        assert not (root / "reports" / "plain" / "scaling.png").exists()  # SORG_PLOTS=no
    # `sorg plan` sizes each claim from the pilot's effects and per-trial usage
    plan = subprocess.run([sys.executable, "-m", "sorg.cli", "plan", "test_claims.py", "--pilot", "reports/plain"],
                          capture_output=True, text=True, cwd=root, env=project.env())
    assert plan.returncode == 0, plan.stderr
    row = [ln for ln in plan.stdout.splitlines() if ln.startswith("test_sequential_beats_coordinator ")][0]
    assert "paired" in row and "tasks" in row  # claims judge task means: plans count tasks
    assert "25 ok trials" in plan.stdout


def test_passing_claims_only_exit_zero_and_no_claim_runs_on_workers(project):
    project.write("test_claims.py", '''
from sorg import claims
# alpha=0.3: 4 tasks cannot reach p < 0.05 (tests/pytest_plugin/projects.py says why)

@claims.claim
def test_sequential_beats_coordinator(trials):
    assert not hasattr(trials, "node"), "claims get Trials"
    return claims.beats(trials, "sequential", "coordinator", alpha=0.3, test="t")
''')
    r = project.run("-n", "2", "-v")
    r.assert_outcomes(passed=27)
    assert r.ret == 0
    r.stdout.fnmatch_lines(["*test_claims.py::test_sequential_beats_coordinator PASSED*"])


def test_claims_with_no_trials_are_skipped_not_passed(project):
    r = project.run("test_claims.py")
    r.assert_outcomes(skipped=6)  # a claim without data is skipped, also under xfail(strict)
    # no sweep test was collected with the claims: the reason says so, on the terminal without -rs
    assert "partial sweep: 0 of 0 sweep tests" in r.stdout.str()


def test_bad_option_value_is_a_usage_error(project):
    r = project.run("--sorg-agents=four")
    assert r.ret == 4
    assert "--sorg-agents" in r.stderr.str()


def test_killed_controller_keeps_finished_trials_and_rerun_completes(project):
    root = project.path
    env = dict(os.environ, SORG_FAKE_SLEEP="0.15", PYTHONPATH=pythonpath(root))
    cmd = [sys.executable, "-m", "pytest", "-n", "2", "--sorg-run-id=k", "test_evals.py", "-q"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    store = root / "reports" / "k" / "trials.jsonl"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if store.exists() and store.read_bytes().count(b"\n") >= 5:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the sweep wrote no records in 60 s")
        os.kill(proc.pid, signal.SIGKILL)  # the controller only
        proc.wait(10)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # workers this test started, if they linger
        except ProcessLookupError:
            pass
    kept = _records(root, "k")
    assert 5 <= len(kept) < 25
    prefix = store.read_bytes()
    r = project.run("--sorg-run-id=k", "test_evals.py")
    r.assert_outcomes(passed=26)
    final = _records(root, "k")
    assert len(final) == 25  # 26 tests, one cell shared by two tests
    assert all(final[k] == v for k, v in kept.items())
    lines = [ln for ln in store.read_bytes().split(b"\n") if ln]
    assert len(lines) == 25  # nothing duplicated
    assert store.read_bytes().startswith(prefix.rsplit(b"\n", 1)[0])


MORE_CLAIMS = '''
import pytest
from sorg import claims
# alpha=0.3: 4 tasks cannot reach p < 0.05 (tests/pytest_plugin/projects.py says why)

@pytest.mark.parametrize("b", ["coordinator", "broadcast"])
@claims.claim
def test_param(trials, b):
    return claims.beats(trials, "sequential", b, alpha=0.3, test="t")

class TestGroup:
    @claims.claim
    def test_in_class(self, trials):
        return claims.beats(trials, "sequential", "coordinator", alpha=0.3, test="t")

@claims.claim
def test_raises(trials):
    raise RuntimeError("boom in the claim")

@claims.claim
def test_returns_a_number(trials):
    return 0.5
'''


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_parametrized_class_and_broken_claims(project, xdist):
    project.write("test_claims.py", MORE_CLAIMS)
    r = project.run(*xdist, "-rA", "--sorg-run-id=more")
    r.assert_outcomes(passed=26 + 3, failed=2)
    out = r.stdout.str()
    assert "RuntimeError: boom in the claim" in out
    assert "returned float, not a Verdict" in out
    assert "test_claims.py::test_param[coordinator]" in out and "test_claims.py::TestGroup::test_in_class" in out


def test_claims_can_be_judged_over_a_stored_run(project):
    project.run("test_evals.py", "--sorg-run-id=stored").assert_outcomes(passed=26)
    r = project.run("test_claims.py", "--sorg-run-id=stored")
    r.assert_outcomes(passed=1, failed=2, skipped=2, xfailed=1)


def test_user_fixtures_and_explicit_parametrize_win(project):
    project.write("test_evals.py", '''
import pytest

@pytest.fixture
def task():
    return "my own task"

def test_own_fixture(task, seed):
    assert task == "my own task"

@pytest.mark.parametrize("protocol", ["mine"])
def test_explicit(protocol, n_agents):
    assert protocol == "mine"
''')
    r = project.run("test_evals.py", "-v", "--sorg-seeds=3", "--sorg-agents=4,8,16")
    r.assert_outcomes(passed=3 + 3)
    r.stdout.fnmatch_lines(["*test_own_fixture[[]s2[]] PASSED*", "*test_explicit[[]*mine*[]] PASSED*"])


def test_marker_and_option_errors_are_clear(project):
    project.write("test_evals.py", '''
import pytest

@pytest.mark.sorg(agent=[4])
def test_typo(n_agents):
    pass
''')
    r = project.run("test_evals.py")
    assert r.ret != 0
    assert "unknown @pytest.mark.sorg keyword(s) ['agent']" in (r.stdout.str() + r.stderr.str())
    project.write("test_evals.py", "def test_p(protocol):\n    pass\n")
    r = project.run("test_evals.py", "--sorg-protocols=sequential,nosuch")
    assert r.ret != 0 and "nosuch" in (r.stdout.str() + r.stderr.str())


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_a_run_stopped_early_reports_its_claims_skipped(project, xdist):
    # the failing test runs first, so -x cuts the sweep; claims are reported (also under
    # xdist, where -x used to drop them), skipped with the reason on the terminal
    project.write("test_aa_first.py", "def test_aa_fails():\n    assert False\n")
    r = project.run("-p", "no:randomly", "-x", *xdist)
    assert r.ret == (2 if xdist else 1)  # xdist reports -x as an interruption
    out = r.stdout.str()
    assert "partial sweep:" in out and "of 26 sweep tests" in out
    r.stdout.fnmatch_lines(["SKIPPED 6 claims: partial sweep: * of 26 sweep tests*", "  test_claims.py::test_xpass_strict"])
    assert r.parseoutcomes().get("skipped") == 6


def test_a_cells_filter_keeps_part_of_the_grid(project):
    """`@pytest.mark.sorg(cells=keep)` drops the cells `keep` refuses (ids of the rest unchanged);
    with none kept the test is pytest's empty parameter set; anything but a function is an error."""
    project.write("test_evals.py", '''
import pytest

def keep(cell):
    assert set(cell) == {"task", "protocol", "n_agents", "seed", "model"}
    return cell["n_agents"] == 4 or (cell["seed"] == 0 and cell["task"].level == 1)

@pytest.mark.sorg(protocols=["sequential"], agents=[4, 8], seeds=2, cells=keep)
def test_kept(sorg_trial, task, protocol, n_agents, model, seed):
    assert n_agents == 4 or (seed == 0 and task.level == 1)
    sorg_trial(task, protocol, model, n_agents, seed)

@pytest.mark.sorg(cells=lambda cell: False)
def test_none(sorg_trial, task, protocol, n_agents, model, seed):
    raise AssertionError("no cell is kept")
''')
    r = project.run("test_evals.py", "-v", "-p", "no:randomly")
    r.assert_outcomes(passed=8 + 2, skipped=1)  # 4 tasks x 2 seeds at n4; 2 level-1 tasks at n8 s0
    out = r.stdout.str()
    assert "-sequential-n8-s0-m] PASSED" in out and "-n8-s1-" not in out
    # the empty test's placeholder is no sweep test: the claims do not wait for it
    out = project.run("test_evals.py", "test_claims.py").stdout.str()
    assert "sweep complete: 10 of 10 sweep tests" in out and "partial sweep" not in out
    project.write("test_evals.py", '''
import pytest

@pytest.mark.sorg(cells=[("sequential", 4, 0)])
def test_list(protocol, n_agents, seed):
    pass
''')
    r = project.run("test_evals.py")
    assert r.ret != 0 and "@pytest.mark.sorg(cells=...) must be a function of a cell" in r.stdout.str() + r.stderr.str()


def test_an_undecidable_design_reads_undecidable_in_pytest_s_own_summary(project):
    """The fake project's claims at alpha=0.05: 4 tasks cannot give p < 0.05 (the floor is
    2**-4), so each claim with a p is UNDECIDABLE, under that word in pytest's summary line and
    claims.json, neither passed nor failed, and never an xfail or XPASS(strict)."""
    from tests.pytest_plugin.projects import CLAIMS

    project.write("test_claims.py", CLAIMS.replace("alpha=0.3", "alpha=0.05"))
    r = project.run("--sorg-run-id=u", "-rA")
    assert r.parseoutcomes() == {"passed": 26, "skipped": 2, "undecidable": 4}
    assert r.ret == 0  # no claim failed: an undecidable claim is not a finding either way
    out = r.stdout.str()
    assert "UNDECIDABLE test_claims.py::test_sequential_beats_coordinator: cannot be decided" in out
    assert "XPASS" not in out and "XFAIL" not in out
    rows = {c["nodeid"]: c for c in json.loads((project.path / "reports" / "u" / "claims.json").read_text())["claims"]}
    undecided = {k for k, c in rows.items() if c["outcome"] == "undecidable"}
    assert undecided == {k for k, v in EXPECTED_OUTCOMES.items() if v != "skipped"}
    assert all(rows[k]["verdict"]["passed"] is None for k in undecided)
