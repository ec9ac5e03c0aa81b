"""Verdicts a partial run cannot fool (the issue's cases, on the fake eval suite of
tests/pytest_plugin/projects.py: 26 sweep tests, 6 claims, 4 of them with p-values)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sorg.store import read_records

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection

FULL = "26 trials"


def _claims(root: Path, run_id: str) -> dict:
    return json.loads((root / "reports" / run_id / "claims.json").read_text())


def _rows(root: Path, run_id: str) -> dict[str, dict]:
    return {c["nodeid"]: c for c in _claims(root, run_id)["claims"]}


def _latest(root: Path) -> str:
    return (root / "reports" / "latest").resolve().name


def test_k_deselection_skips_claims_as_partial_and_keeps_latest(project):
    project.run("--sorg-run-id=full").assert_outcomes(passed=27, failed=2, skipped=2, xfailed=1)
    assert _latest(project.path) == "full"
    r = project.run("-k", "s0 or claims", "--sorg-run-id=part")
    # before: the claims were judged over the 14 selected trials
    r.assert_outcomes(passed=14, skipped=6)
    out = r.stdout.str()
    assert "partial sweep: 14 of 26 sweep tests (12 deselected)" in out  # on the terminal, without -rs
    assert "reports/latest was not moved" in out
    assert _latest(project.path) == "full"
    meta = _claims(project.path, "part")["run"]["sweep"]
    assert meta["complete"] is False and meta["done"] == 14 and meta["declared"] == 26


def test_holm_family_is_the_declared_claims_not_the_selected(project):
    project.run("--sorg-run-id=full")
    full = _rows(project.path, "full")["test_claims.py::test_sequential_beats_coordinator"]["verdict"]
    # one claim selected, over the complete stored run: same Holm family, same adjusted p
    r = project.run("--sorg-run-id=full", "-k", "test_sequential_beats_coordinator")
    r.assert_outcomes(passed=1)
    one = _rows(project.path, "full")["test_claims.py::test_sequential_beats_coordinator"]["verdict"]
    assert one["n_family"] == full["n_family"] == 4
    assert one["p_holm"] == full["p_holm"] and one["p_holm"] > one["p"]
    assert "Holm family: the 6 claims the eval files declare (1 selected here)" in r.stdout.str()


def test_lf_keeps_a_failed_claim_failed_until_it_passes(project):
    r = project.run("-p", "no:randomly", cache=True)
    assert r.ret == 1
    for _ in range(2):  # before: the second --lf had forgotten the failure ("no previously failed tests")
        r = project.run("--lf", cache=True)
        out = r.stdout.str()
        assert "partial sweep: 0 of 0 sweep tests" in out
        r.assert_outcomes(skipped=2)
        lastfailed = json.loads((project.path / ".pytest_cache" / "v" / "cache" / "lastfailed").read_text())
        assert "test_claims.py::test_coordinator_beats_sequential" in lastfailed
        assert "test_claims.py::test_xpass_strict" in lastfailed


def test_shard_and_deselect_are_partial(project):
    r = project.run("--sorg-shard=1/3")
    r.assert_outcomes(passed=9, skipped=6)
    assert "partial sweep: 9 of 26 sweep tests (shard 1/3; 17 deselected)" in r.stdout.str()
    r = project.run("--deselect", "test_evals.py::test_scaling")
    r.assert_outcomes(passed=24, skipped=6)
    assert "partial sweep: 24 of 26 sweep tests (2 deselected)" in r.stdout.str()


XFAIL_CLAIMS = '''
import pytest
from sorg import claims
# alpha=0.3: 4 tasks cannot reach p < 0.05 (tests/pytest_plugin/projects.py says why)

@pytest.mark.xfail(strict=True, reason="measured: coordinator is worse here")
@claims.claim
def test_xfail_strict_holds(trials):
    return claims.beats(trials, "coordinator", "sequential", alpha=0.3, test="t")

@pytest.mark.xfail(raises=KeyError, reason="a KeyError is known")
@claims.claim
def test_raises_other(trials):
    raise ValueError("not the expected error")

@pytest.mark.xfail(raises=KeyError, reason="a KeyError is known")
@claims.claim
def test_raises_expected(trials):
    raise KeyError("expected")
'''


def test_runxfail_and_xfail_raises_behave_as_for_tests(project):
    project.write("test_claims.py", XFAIL_CLAIMS)
    r = project.run("test_evals.py", "test_claims.py", "-rA")
    r.assert_outcomes(passed=26, failed=1, xfailed=2)  # before: raises= was dropped (3 xfailed)
    assert "ValueError: not the expected error" in r.stdout.str()
    r = project.run("test_evals.py", "test_claims.py", "--runxfail")
    r.assert_outcomes(passed=26, failed=3)  # before: --runxfail was ignored for claims


def test_resume_replaces_records_that_are_not_ok(project):
    # 8 trials cut by the budget: the sweep is partial, its claims skipped, latest not moved
    r = project.run("--sorg-run-id=r", SORG_FAKE_BUDGET="1")
    r.assert_outcomes(passed=26, skipped=6)
    assert "partial sweep: 18 of 26 sweep tests (8 trial(s) cut short (budget: 8)" in r.stdout.str()
    assert not (project.path / "reports" / "latest").exists()
    store = project.path / "reports" / "r" / "trials.jsonl"
    before = {x.trial_id: x for x in read_records(store)}
    assert sum(x.status == "budget" for x in before.values()) == 8
    r = project.run("--sorg-run-id=r", "test_evals.py")
    out = r.stdout.str()
    assert "resumed: replaced 8 record(s) that were not ok (budget: 8); ok records kept" in out
    assert "sweep complete: 26 of 26 sweep tests" in out
    after = {x.trial_id: x for x in read_records(store)}
    assert set(after) == set(before) and all(x.status == "ok" for x in after.values())
    assert all(after[k] == v for k, v in before.items() if v.status == "ok")
    assert len(store.read_text().splitlines()) == len(after)  # compacted: one line per trial


def test_unrelated_project_ignores_sorg_environment(project_dir):
    project_dir.write("test_plain.py", "def test_one():\n    assert True\n")
    r = project_dir.run(SORG_SEEDS="abc")
    r.assert_outcomes(passed=1)  # before: UsageError, exit 4
    project_dir.write("pytest.ini", "[pytest]\nsorg_agents = 4\n")  # a sorg project: fail fast
    r = project_dir.run(SORG_SEEDS="abc")
    assert r.ret == 4 and "SORG_SEEDS" in r.stderr.str()


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_typo_in_protocol_stops_before_any_trial_in_one_line(project, xdist):
    r = project.run("--sorg-protocols=sequentail", "--sorg-run-id=typo", *xdist)
    assert r.ret == 4
    err = [ln for ln in r.stderr.lines if "sequentail" in ln]
    assert len(err) == 1 and err[0].startswith("ERROR: sorg: bad value 'sequentail' for setting protocols (from --sorg-protocols): "
                                            "unknown protocol(s) ['sequentail']")
    assert "Traceback" not in r.stderr.str() + r.stdout.str()
    assert not (project.path / "reports" / "typo").exists()


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_typo_in_a_mark_stops_before_any_trial(project, xdist):
    project.write("test_more.py", '''
import pytest

@pytest.mark.sorg(protocols=["sequentail"])
def test_typo(sorg_trial, task, protocol, n_agents, model, seed):
    sorg_trial(task, protocol, model, n_agents, seed)
''')
    r = project.run("--sorg-run-id=typo", *xdist)
    assert r.ret == 2  # interrupted by a collection error: no test ran
    out = r.stdout.str()
    # the error and its summary line (xdist: once per worker), no trial run, no traceback
    assert 0 < out.count("unknown protocol(s) ['sequentail']") <= 2 * (2 if xdist else 1)
    assert "for setting protocols (from @pytest.mark.sorg(protocols=...) on test_more.py::test_typo)" in out, out
    assert "Traceback" not in out
    assert not (project.path / "reports" / "typo").exists()


def test_a_slice_of_the_sweep_does_not_judge_the_study_claims(project):
    # before: the claims were judged over the slice's complete sweep (4 trials) and failed
    r = project.run("--sorg-protocols=sequential", "--sorg-levels=1")
    r.assert_outcomes(passed=6, skipped=6)  # 2 tasks x 2 seeds + the 2 scaling tests
    assert r.ret == 0
    assert ("partial sweep: 6 of 26 sweep tests (20 outside this run's slice (the --sorg-* options narrow "
            "the project's sweep))") in r.stdout.str()
    # a different sweep (another model) is not a slice: it is complete on its own
    r = project.run("--sorg-models=fake/other", "--sorg-run-id=other")
    assert "sweep complete: 26 of 26 sweep tests" in r.stdout.str()


def test_ordinary_tests_under_xdist_say_nothing_about_claims(project_dir):
    """A run with no sweep test and no claim (a project's own unit tests) has nothing for sorg
    to judge: no warning that a collection plan went missing."""
    project_dir.write("test_plain.py", "def test_a():\n    pass\n")
    r = project_dir.run("test_plain.py", "-n", "2")
    assert r.parseoutcomes().get("passed") == 1
    assert "no collection plan" not in r.stdout.str() + r.stderr.str()
