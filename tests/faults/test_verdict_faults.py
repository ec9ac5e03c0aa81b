"""Wrong verdicts with green exits (issue 28, items 1-4; issue 24 section 3): a run must never
judge claims over less than its declared sweep, and a claim that cannot be judged is an error.

Each test drives the fake eval project of tests/pytest_plugin/projects.py (26 sweep tests, 6
claims) in a subprocess. Before the fixes: a budget-cut sweep counted as complete and moved
`latest`; `--sorg-claims-only` over a missing or half-merged run skipped every claim and
exited 0; `--lf` after a failure judged the claims over the 4 rerun tests and moved `latest`;
`-k` into a finished run left its claims.json with 0 claims; a misspelt protocol or metric,
or a model the run never had, was a skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def _latest(root: Path) -> str:
    p = root / "reports" / "latest"
    return p.resolve().name if p.exists() else ""


def _rows(root: Path, run_id: str) -> dict[str, dict]:
    data = json.loads((root / "reports" / run_id / "claims.json").read_text())
    return {c["nodeid"]: c for c in data["claims"]}


def test_a_sweep_cut_by_the_budget_is_partial_and_fails_in_ci(project):
    r = project.run("--sorg-run-id=cut", SORG_FAKE_BUDGET="1", CI="")
    r.assert_outcomes(passed=26, skipped=6)  # before: the claims were judged (27 passed, 2 failed)
    out = r.stdout.str()
    assert "partial sweep: 18 of 26 sweep tests (8 trial(s) cut short (budget: 8)" in out
    assert "sweep complete" not in out and _latest(project.path) == ""
    assert r.ret == 0
    r = project.run("--sorg-run-id=cut2", SORG_FAKE_BUDGET="1", CI="true")
    assert r.ret == 1  # in CI, a cut sweep is not green


@pytest.mark.parametrize("case", ["missing", "half-merged", "partial"])
def test_claims_only_over_a_run_it_cannot_judge_is_an_error(project, case):
    root = project.path
    if case != "missing":
        project.run("--sorg-run-id=stored", *(["-k", "s0 or claims"] if case == "partial" else []))
    if case == "half-merged":
        (root / "reports" / "stored" / ".merging").write_text("sorg merge in progress\n")
    r = project.run("--sorg-claims-only", "--sorg-run-id=" + ("typo" if case == "missing" else "stored"))
    out = r.stdout.str()
    assert r.ret == 1  # before: exit 0, every claim skipped
    # the declared skip ("not today" is raised by the claim itself, so it is never called) is an error too
    r.assert_outcomes(failed=6)
    word = {"missing": "'typo' does not exist under", "half-merged": "is half-merged",
            "partial": "is not complete: partial sweep: 14 of 26"}[case]
    assert word in out
    if case == "missing":
        assert not (root / "reports" / "typo").exists()  # a mistyped id creates nothing


def test_a_killed_merge_leaves_a_run_claims_only_refuses_and_a_rerun_completes(project):
    from sorg.merge import MERGING_FILE, merge_runs

    root = project.path
    project.run("--sorg-run-id=a", "--sorg-shard=1/2")
    project.run("--sorg-run-id=b", "--sorg-shard=2/2")
    out = root / "reports" / "m"
    out.mkdir(parents=True)
    (out / MERGING_FILE).write_text("killed\n")
    (out / "trials.jsonl").write_text("")  # the merge died after its first write
    assert "half-merged" in project.run("--sorg-claims-only", "--sorg-run-id=m").stdout.str()
    merge_runs(root / "reports", "m", ["a", "b"])  # merging again is allowed and completes it
    assert not (out / MERGING_FILE).exists()
    r = project.run("--sorg-claims-only", "--sorg-run-id=m")
    assert "half-merged" not in r.stdout.str() and "sweep complete: 26 of 26 sweep tests" in r.stdout.str()


LF_EVALS = '''
import os

def test_protocol(sorg_trial, task, protocol, n_agents, model, seed):
    sorg_trial(task, protocol, model, n_agents, seed)
    assert not (os.environ.get("FAIL_SOME") and protocol == "coordinator" and seed == 0)

def test_scaling(sorg_trial, task, protocol, n_agents, model, seed):
    sorg_trial(task, protocol, model, n_agents, seed)
'''


def test_lf_never_shrinks_a_run_or_moves_latest(project):
    project.write("test_evals.py", LF_EVALS)
    root = project.path
    r = project.run("--sorg-run-id=first", "-p", "no:randomly", cache=True, FAIL_SOME="1")
    assert r.ret == 1 and _latest(root) == "first"
    rows = len(_rows(root, "first"))
    r = project.run("--lf", "--sorg-run-id=first", cache=True, FAIL_SOME="1")  # into the complete run
    assert "declared claim(s) not collected, so the Holm family is incomplete" in r.stdout.str()
    sweep = json.loads((root / "reports" / "first" / "sweep.json").read_text())
    assert len(sweep["declared"]) == 48 and len(sweep["claims"]) == 6  # not shrunk to the --lf collection
    assert len(_rows(root, "first")) == rows == 6  # before: claims.json held only what --lf collected
    r = project.run("--lf", cache=True, FAIL_SOME="1")  # a fresh run id: only the 4 failed sweep tests collected
    out = r.stdout.str()
    assert "--lf collected only the tests that failed last time" in out
    assert "sweep complete" not in out and _latest(root) == "first"  # before: latest -> the 4-test run


def test_k_into_a_finished_run_keeps_every_claim_row(project):
    assert "sweep complete" in project.run("--sorg-run-id=rec").stdout.str()
    before = _rows(project.path, "rec")
    r = project.run("--sorg-run-id=rec", "-k", "s0 and sequential and test_protocol")
    r.assert_outcomes(passed=4)
    after = _rows(project.path, "rec")
    assert set(after) == set(before) and len(after) == 6  # before: 0 claims
    nid = "test_claims.py::test_sequential_beats_coordinator"
    assert after[nid]["verdict"]["p_holm"] == before[nid]["verdict"]["p_holm"]


UNJUDGEABLE = '''
import pytest
from sorg import claims

@claims.claim
def test_misspelt_protocol(trials):
    return claims.beats(trials, "sequentail", "coordinator", alpha=0.05, test="t")

@pytest.mark.xfail(strict=True, reason="an xfail must not hide an error")
@claims.claim
def test_misspelt_protocol_under_xfail(trials):
    return claims.beats(trials, "sequentail", "coordinator", alpha=0.05, test="t")

@claims.claim
def test_metric_no_trial_has(trials):
    return claims.beats(trials, "sequential", "coordinator", metric="quality.rubrik", alpha=0.05, test="t")

@claims.claim
def test_unknown_metric_name(trials):
    return claims.beats(trials, "sequential", "coordinator", metric="qualty.rubric", alpha=0.05, test="t")

@claims.claim
def test_model_the_run_never_had(trials):
    return claims.beats(trials, "sequential", "coordinator", alpha=0.05, test="t", model="fake/typo")

@claims.claim
def test_declared_skip_stays_a_skip(trials):
    return claims.skip("needs a closed model")

@claims.claim
def test_a_missing_team_size_stays_a_skip(trials):
    return claims.beats(trials, "sequential", "coordinator", alpha=0.05, test="t", n_agents=64)
'''


def test_a_claim_that_cannot_be_judged_is_an_error(project):
    project.write("test_claims.py", UNJUDGEABLE)
    r = project.run("--sorg-run-id=u", "-rA")
    r.assert_outcomes(passed=26, failed=5, skipped=2)  # before: 4 skipped, 1 failed, 1 xfailed... green-ish
    out = r.stdout.str()
    assert "unknown protocol(s) ['sequentail']" in out
    assert "every trial in scope lacks the metric 'quality.rubrik'" in out
    assert "unknown metric 'qualty.rubric'" in out
    assert "model(s) ['fake/typo'] not in this run" in out
    rows = _rows(project.path, "u")
    v = rows["test_claims.py::test_misspelt_protocol_under_xfail"]
    assert v["outcome"] == "failed" and v["verdict"]["outcome"] == "error"  # reported FAILED, never xfailed
    assert rows["test_claims.py::test_declared_skip_stays_a_skip"]["outcome"] == "skipped"
