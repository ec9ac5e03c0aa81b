"""The committed study replays to the same records and the same claims whatever the number of
xdist workers: no workers, 2 (the README's command) and 32 (more workers than the sweep has
streams in one chunk, so most hold one test or none)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sorg.store import read_records

pytestmark = pytest.mark.slow  # three replays of the whole study in subprocesses

ROOT = Path(__file__).resolve().parents[2]


def _replay(tmp: Path, run_id: str, *workers: str) -> tuple[dict, list]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_XDIST"))}
    cmd = [sys.executable, "-m", "pytest", "evals/", "-q", "-p", "no:cacheprovider", *workers,
           f"--sorg-report-dir={tmp}", f"--sorg-run-id={run_id}", "--sorg-record=none",
           "--sorg-cache-dir=none"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    records = {r.trial_id: (r.answer, json.dumps(dict(r.quality), sort_keys=True), r.calls, sorted(r.sources))
               for r in read_records(tmp / run_id / "trials.jsonl")}
    claims = json.loads((tmp / run_id / "claims.json").read_text())["claims"]
    table = [(c["nodeid"], c["outcome"], c["verdict"] and json.dumps(
        {k: c["verdict"].get(k) for k in ("p", "p_holm", "n", "estimate", "ci", "effect", "means", "passed")}, sort_keys=True))
        for c in claims]
    return records, sorted(table, key=str)


def test_no_workers_2_and_32_give_the_same_records_and_claims(tmp_path: Path) -> None:
    base_records, base_claims = _replay(tmp_path, "n0")
    assert base_records and all(src == ["cassette"] for *_, src in base_records.values())
    judged = sum(outcome in ("passed", "failed", "xfailed", "xpassed") for _, outcome, _ in base_claims)
    assert judged >= len(base_claims) // 2, base_claims  # compare verdicts, not tables of skips
    for workers in ("2", "32"):
        records, claims = _replay(tmp_path, f"n{workers}", "-n", workers)
        assert records == base_records, f"-n {workers}: records differ from a run without workers"
        assert claims == base_claims, f"-n {workers}: claims differ from a run without workers"
