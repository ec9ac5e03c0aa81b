"""The study's claims on simulated worlds, through the whole plugin: `pytest evals/
--sorg-models=sim/paper` passes every claim (the paper's effects are planted) and
`--sorg-models=sim/null` passes no effect claim (none is). This is the evidence that sorg's
verdicts come out right where the answer is known (docs/SIM.md); the claim kinds on small
designs are tests/sim/test_sim_claims.py, the rates benchmarks/bench_claims_oc.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evals.study_files import load
from tests.subproc import HANG_S

pytestmark = pytest.mark.slow  # two runs of the simulated study (about a minute of CPU each)

ROOT = Path(__file__).resolve().parents[2]
EFFECT_CLAIMS = set(load("test_claims").EFFECT_CLAIMS)


def _run(tmp: Path, world: str) -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_XDIST"))}
    cmd = [sys.executable, "-m", "pytest", "evals/", "-q", "-p", "no:cacheprovider", f"--sorg-models=sim/{world}",
           f"--sorg-report-dir={tmp}", f"--sorg-run-id={world}", "--sorg-cache-dir=none", "--sorg-progress=off"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_S)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert "SIMULATED: sim/" in done.stdout  # labelled simulated where the verdicts are shown
    claims = json.loads((tmp / world / "claims.json").read_text())["claims"]
    return {c["nodeid"].rsplit("::", 1)[-1]: c for c in claims}


def test_every_claim_passes_where_the_papers_effects_are_planted(tmp_path: Path) -> None:
    claims = _run(tmp_path, "paper")
    assert len(claims) >= 16
    failed = {n: (c["outcome"], c["message"][:300]) for n, c in claims.items() if c["outcome"] != "passed"}
    assert not failed, failed
    assert "replicated: significant, compatible with +14%" in claims["test_sequential_beats_coordinator"]["message"]


def test_no_effect_claim_passes_where_no_effect_is_planted(tmp_path: Path) -> None:
    claims = _run(tmp_path, "null")
    assert EFFECT_CLAIMS <= set(claims)
    passed = [n for n in EFFECT_CLAIMS if claims[n]["outcome"] == "passed"]
    assert not passed, passed
    judged = [n for n in EFFECT_CLAIMS if claims[n]["outcome"] == "failed"]
    assert len(judged) >= 5, {n: claims[n]["outcome"] for n in EFFECT_CLAIMS}  # judged, not skipped away
