"""Two replays of the same cassettes give byte-identical report data, whatever order the
trials reached the store in (xdist finishes them in any order)."""

from __future__ import annotations

import json

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection


def test_two_replays_give_identical_summary_and_claims(replays):
    a, b = replays
    first_a = json.loads((a / "trials.jsonl").read_text().splitlines()[0])["trial_id"]
    first_b = json.loads((b / "trials.jsonl").read_text().splitlines()[0])["trial_id"]
    assert first_a != first_b  # the stores really are in different orders
    for name in ("summary.json", "claims.json", "summary.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_replay_report_prints_no_zero_width_interval(replays):
    """Every interval the report prints has width (one that cannot be estimated reads "no CI
    (k tasks)"), and every cell from fewer than two tasks carries no interval."""
    import re

    a, _ = replays
    md = (a / "summary.md").read_text()
    for lo, hi in re.findall(r"\[(-?[\d.]+), (-?[\d.]+)\]", md) + re.findall(r"(-?\+?[\d.]+)\.\.(-?\+?[\d.]+)", md):
        assert float(lo) != float(hi), (lo, hi)
    cells = json.loads((a / "summary.json").read_text())["cells"]
    assert cells and all(c["quality"] is None or c["quality"]["ci"] is None for c in cells if c["tasks"] < 2)


def test_a_replay_logs_every_cassette_entry_it_used(replays):
    from sorg.model.cassette_care import read_used, unused

    a, _ = replays
    used = read_used(a)
    committed = sum(1 for p in (ROOT / "cassettes").rglob("*.jsonl") for ln in p.read_text().splitlines() if ln.strip())
    assert len(used) == committed  # every committed entry: nothing to prune
    assert unused(ROOT / "cassettes", a).total == 0
