"""The check that an xfail reason's figures match its verdict: what it reads and what it flags."""

from __future__ import annotations

import pytest

from tests.evals.xfail_figures import stale_figures

VERDICT = {"p": 0.125, "p_holm": 0.75, "power": 0.1995, "effect": 0.5839, "effect_name": "d_z"}
PLAN = {"n_needed": 37}


def test_figures_that_match_at_their_shown_precision_pass() -> None:
    reason = "d_z 0.58, exact Wilcoxon p=0.125 (Holm 0.75), power 0.20; 37 tasks would give 80%"
    assert stale_figures(reason, VERDICT, PLAN) == []


@pytest.mark.parametrize(("reason", "flag"), [
    ("exact Wilcoxon p=0.125 (Holm 0.5)", "p_holm 0.5"),  # the family grew from 5 to 7 claims
    ("power 0.24", "power 0.24"),
    ("35 tasks would give 80%", "n_needed 35"),
    ("about 12 protocols, or tasks, would give 80%", "n_needed 12"),
    ("p=0.13", "p 0.13"),
    ("d_z 0.61", "d_z 0.61"),
])
def test_a_stale_figure_is_named(reason: str, flag: str) -> None:
    found = stale_figures(reason, VERDICT, PLAN)
    assert len(found) == 1 and found[0].startswith(flag), found


def test_a_figure_the_verdict_lacks_is_flagged_and_paper_thresholds_are_not_read() -> None:
    verdict = {**VERDICT, "effect_name": "d", "power": None}
    assert {s.split(":")[0] for s in stale_figures("d_z 0.58, power 0.2", verdict, None)} == {"d_z 0.58", "power 0.2"}
    assert stale_figures("far from 44%, d 1.86, p < 0.0001", VERDICT, PLAN) == []


def test_exponent_figures_compare_at_two_significant_digits() -> None:
    assert stale_figures("p=2.4e-13", {**VERDICT, "p": 2.39e-13}, None) == []
    assert stale_figures("p=2.4e-13", {**VERDICT, "p": 2.6e-13}, None) != []

