"""The committed study replays to the same records and the same claims whatever the number of
xdist workers: no workers, 2 (the README's command) and 32 (many more workers than cores, so
each holds a few streams of the sweep, scheduled in no order we chose); and each xfail reason
quotes the figures that replay gives (`tests.evals.xfail_figures`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sorg.store import read_records
from tests.evals.xfail_figures import stale_figures

pytestmark = pytest.mark.slow  # three replays of the whole study in subprocesses

ROOT = Path(__file__).resolve().parents[2]


def _replay(tmp: Path, run_id: str, *workers: str) -> tuple[dict, list, list]:
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
    return records, sorted(table, key=str), claims


@pytest.fixture(scope="module")
def no_workers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[dict, list, list]]:
    """The replay without workers, which both tests compare against (one replay per module)."""
    tmp = tmp_path_factory.mktemp("replay")
    return tmp, _replay(tmp, "n0")


def test_no_workers_2_and_32_give_the_same_records_and_claims(no_workers: tuple[Path, tuple[dict, list, list]]) -> None:
    tmp, (base_records, base_claims, _) = no_workers
    assert base_records and all(src == ["cassette"] for *_, src in base_records.values())
    judged = sum(outcome in ("passed", "failed", "xfailed", "xpassed", "not_measured", "undecidable")
                 for _, outcome, _ in base_claims)
    assert judged >= len(base_claims) // 2, base_claims  # compare verdicts, not tables of skips
    for workers in ("2", "32"):
        records, claims, _ = _replay(tmp, f"n{workers}", "-n", workers)
        assert records == base_records, f"-n {workers}: records differ from a run without workers"
        assert claims == base_claims, f"-n {workers}: claims differ from a run without workers"


def test_each_xfail_reason_quotes_the_figures_the_replay_gives(no_workers: tuple[Path, tuple[dict, list, list]]) -> None:
    rows = no_workers[1][2]
    xfailed = [c for c in rows if c["outcome"] == "xfailed" and c["verdict"]]
    assert xfailed, "no xfailed claim with a verdict: nothing to check"
    stale = {c["nodeid"]: stale_figures(c["xfail_reason"], c["verdict"], c.get("power_plan")) for c in xfailed}
    assert not any(stale.values()), f"xfail reasons quote figures the replay does not give: {stale}"


FILLERS = ("Lorem ipsum dolor sit amet.", "Thanks, everyone.", "We will also make sure the team agrees on this.")


def test_on_the_replays_real_answers_order_duplication_and_padding_buy_no_coverage(
        no_workers: tuple[Path, tuple[dict, list, list]]) -> None:
    """The view's properties (tests/scoring/test_view.py) on the answers SmolLM2's teams really
    gave: each stored coverage is the score of the answer's view; reversing the answer's
    sections or repeating them leaves it; filler never raises it while the view holds the
    answer whole."""
    import random

    from sorg.scoring import SCORERS
    from sorg.scoring.view import scored_view
    from sorg.tasks import load_bank

    bank, cov = load_bank(), SCORERS["coverage"]
    records = [r for r in read_records(no_workers[0] / "n0" / "trials.jsonl") if r.status == "ok"]
    rnd = random.Random(0)
    checked = 0
    for r in rnd.sample(records, min(200, len(records))):
        task = bank.get(r.task_id)

        def score(answer: str, task=task) -> float:
            return float(cov.compute(task, scored_view(answer).text).value or 0.0)

        parts = [p for p in r.answer.split("\n\n") if p.strip()]
        base = score(r.answer)
        assert base == r.quality["coverage"], r.trial_id
        assert score("\n\n".join(reversed(parts))) == base, r.trial_id
        assert score("\n\n".join(parts + parts[:3])) == base, r.trial_id
        # filler that passes no rubric item of this task (a sentence can be an item elsewhere)
        filler = next(f for f in FILLERS if not cov.compute(task, f).value)
        padded = "\n\n".join(parts + [filler])
        if not scored_view(padded).cut:
            assert score(padded) <= base, r.trial_id
        checked += 1
    assert checked >= 100
