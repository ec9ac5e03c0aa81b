"""Two replays of the same cassettes give byte-identical report data, whatever order the
trials reached the store in (xdist finishes them in any order)."""

from __future__ import annotations

import json

from .conftest import ROOT


def test_two_replays_give_identical_summary_and_claims(replays):
    a, b = replays
    first_a = json.loads((a / "trials.jsonl").read_text().splitlines()[0])["trial_id"]
    first_b = json.loads((b / "trials.jsonl").read_text().splitlines()[0])["trial_id"]
    assert first_a != first_b  # the stores really are in different orders
    for name in ("summary.json", "claims.json", "summary.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_replay_report_says_no_ci_for_one_task(replays):
    a, _ = replays
    md = (a / "summary.md").read_text()
    row = [ln for ln in md.splitlines() if ln.startswith("| test_cost_grows_sublinearly")][0]
    assert "no CI (1 task)" in row and "1.251, 1.251" not in row
    msgs = [ln for ln in md.splitlines() if ln.startswith("- **evals/test_claims.py::test_no_degradation_4_to_256")]
    assert "no CI (1 task)" in msgs[0] and "+0.667..+0.667" not in msgs[0]
    cells = json.loads((a / "summary.json").read_text())["cells"]
    one = [c for c in cells if c["n_agents"] == 256 and c["protocol"] == "shared"][0]
    assert one["tasks"] == 1 and one["quality"]["ci"] is None


def test_a_replay_logs_every_cassette_entry_it_used(replays):
    from sorg.model.cassette_care import read_used, unused

    a, _ = replays
    used = read_used(a)
    assert len(used) == 3084  # every committed entry: nothing to prune
    assert unused(ROOT / "cassettes", a).total == 0
