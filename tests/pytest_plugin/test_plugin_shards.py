"""Shards and a merge: three shards of the fake sweep, merged, judge the same claims over the
same records as one unsharded run (records less latency)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sorg.store import read_records

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def _records(root: Path, run_id: str) -> dict[str, dict]:
    out = {}
    for r in read_records(root / "reports" / run_id / "trials.jsonl"):
        d = r.to_dict()
        d.pop("latency_s")
        out[r.trial_id] = d
    return out


def _claims(root: Path, run_id: str) -> list[dict]:
    return json.loads((root / "reports" / run_id / "claims.json").read_text())["claims"]


def _merge(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sorg.cli", "merge", *args], cwd=project.path,
                          capture_output=True, text=True, env=project.env())


def test_three_shards_merged_match_one_unsharded_run(project):
    project.run("--sorg-run-id=full").assert_outcomes(passed=27, failed=2, skipped=2, xfailed=1)
    seen: set[str] = set()
    for i in (1, 2, 3):
        r = project.run(f"--sorg-shard={i}/3", f"--sorg-run-id=s{i}", "-p", "no:randomly")
        assert f"(shard {i}/3;" in r.stdout.str()  # each shard alone is a partial sweep
        nodes = {json.loads(ln)["nodeid"] for ln in (project.path / "reports" / f"s{i}" / "nodes.jsonl").read_text().splitlines()}
        assert not nodes & seen  # every test in exactly one shard
        seen |= nodes
    assert len(seen) == 26
    assert (project.path / "reports" / "latest").resolve().name == "full"
    m = _merge(project, "merged", "s1", "s2", "s3")
    assert m.returncode == 0, m.stderr
    assert "26 of 26 declared tests finished" in m.stdout
    assert _records(project.path, "merged") == _records(project.path, "full")
    r = project.run("--sorg-run-id=merged", "--sorg-claims-only")
    r.assert_outcomes(passed=1, failed=2, skipped=2, xfailed=1)  # claims only: no trial ran
    assert "sweep complete: 26 of 26 sweep tests" in r.stdout.str()
    assert _claims(project.path, "merged") == _claims(project.path, "full")


def test_merge_refuses_runs_that_disagree(project):
    project.run("--sorg-shard=1/2", "--sorg-run-id=a")
    project.run("--sorg-shard=2/2", "--sorg-run-id=b")
    store = project.path / "reports" / "b" / "trials.jsonl"
    store.write_text(store.read_text().replace('"prompt_version":"p1"', '"prompt_version":"p2"'))
    m = _merge(project, "merged", "a", "b")
    assert m.returncode == 2
    assert "refusing to merge a, b" in m.stderr and "prompt version differ" in m.stderr
    assert 'a: ["p1"]' in m.stderr and 'b: ["p2"]' in m.stderr
    assert not (project.path / "reports" / "merged").exists()


def test_claims_only_over_an_incomplete_run_is_an_error(project):
    project.run("--sorg-shard=1/2", "--sorg-run-id=half")
    r = project.run("--sorg-run-id=half", "--sorg-claims-only")
    r.assert_outcomes(failed=6)  # before: skipped, exit 0
    assert "is not complete: partial sweep: 13 of 26 sweep tests" in r.stdout.str()
