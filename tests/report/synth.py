"""Synthetic run directories for the report tests: records of today's shape, plus raw
records carrying fields trial records are about to gain (scores, stream_id, position,
answer_chars, quality names like coverage / judge_q, a judge dict of five dimensions)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sorg import report
from sorg.store import TrialStore
from tests.pytest_plugin.fake_trials import fake_run_trial

JUDGE_DIMS = ("accuracy", "completeness", "coherence", "actionability", "mission_relevance")


def records(protocols: tuple[str, ...] = ("sequential", "coordinator"), tasks: int = 3, seeds: int = 2) -> list[Any]:
    """TrialRecords of the fake runner over tasks x protocols x seeds (teams of 4)."""
    out = []
    for i in range(1, tasks + 1):
        for p in protocols:
            for s in range(seeds):
                out.append(fake_run_trial(SimpleNamespace(id=f"t{i}", level=1 + i % 2, domain="d"), p, "fake/m", 4, s))
    return out


def with_new_fields(rec: dict[str, Any], k: int) -> dict[str, Any]:
    """A record dict with the fields of the next record version (shown generically)."""
    d = dict(rec)
    d["stream_id"] = f"st{k % 2}"
    d["position"] = k
    d["answer_chars"] = 120 + k
    d["quality"] = {**d["quality"], "coverage": 0.5, "judge_q": 0.75}
    d["scores"] = {"coverage": {"value": 0.5, "hits": 3}, "judge_q": 0.75}
    d["judge"] = {"model": "fake/judge", "scores": {dim: 1 + (k + j) % 4 for j, dim in enumerate(JUDGE_DIMS)},
                  "rationale": "</script><b>not html</b>"}
    return d


def run_dir(tmp: Path, name: str = "r", **kw: Any) -> Path:
    """A run directory with trials.jsonl and claims.json, report built."""
    st = TrialStore(tmp, name)
    for r in records(**kw):
        st.append(r)
    st.close()
    rows = [{"nodeid": "evals/test_c.py::test_seq_beats_coord", "outcome": "passed", "message": "fine",
             "verdict": {"kind": "beats", "test": "Wilcoxon", "n": 6, "estimate": 0.3, "ci": [0.2, 0.4],
                         "effect": 2.0, "effect_name": "d_z", "p": 1e-4, "p_holm": 2e-4, "power": 0.9,
                         "details": {"clusters": 3}}},
            {"nodeid": "evals/test_c.py::test_slope", "outcome": "failed", "message": "slope 1.251 (95% CI 1.251..1.251)",
             "verdict": {"kind": "growth", "test": "t", "n": 3, "estimate": 1.251, "ci": [1.251, 1.251],
                         "p": 0.5, "p_holm": 0.5, "details": {"clusters": 1}}}]
    report.write_claims(tmp / name, rows, {"sorg_version": "x", "cassettes": {"fake/default.jsonl": "abc"}})
    report.build(tmp / name, plots=False)
    return tmp / name
