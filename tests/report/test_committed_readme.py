"""The committed report a visitor reads (reports/README.md) is a replay's summary.md, and the
figures the top README quotes from it (how many trials the cassettes hold) are its figures.
After a change to the report, `pytest evals/ && python scripts/refresh_reports_readme.py`."""

from __future__ import annotations

import re
import sys

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from refresh_reports_readme import body  # noqa: E402

COMMITTED = ROOT / "reports" / "README.md"


def _trials(text: str) -> int:
    m = re.search(r"^- trials: (\d+) ", text, re.M)
    assert m, "no '- trials: N' line"
    return int(m.group(1))


def test_the_readmes_trial_counts_are_the_committed_reports():
    n = _trials(COMMITTED.read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = [int(x) for x in re.findall(r"(\d[\d,]*) committed trials", readme.replace(",", ""))]
    preamble = COMMITTED.read_text(encoding="utf-8").split("\n- trials:", 1)[0]
    quoted += [int(x) for x in re.findall(r"the same (\d+) records", preamble)]
    assert quoted and all(q == n for q in quoted), (quoted, n)


@pytest.mark.slow  # a replay of the study in a subprocess
def test_the_committed_report_is_a_replays_summary(replays):
    run, _ = replays
    got = body((run / "summary.md").read_text(encoding="utf-8"))
    assert body(COMMITTED.read_text(encoding="utf-8")) == got, (
        "reports/README.md is not this replay's report: pytest evals/ && python scripts/refresh_reports_readme.py")
