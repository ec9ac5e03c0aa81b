"""Friedman by its permutation distribution (issue 27 item 6): the exact p is the share of
within-task permutations at least as spread as observed, ties included; Monte Carlo agrees."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from sorg.stats import blocked
from sorg.stats.blocked import friedman_perm

cell = st.integers(0, 4).map(lambda k: k / 4)  # coarse values: ties within and across tasks


def _enumerate(m: np.ndarray) -> float:
    r = rankdata(m, axis=1)
    s_obs = (r.sum(axis=0) ** 2).sum()
    s = [(np.array(p).sum(axis=0) ** 2).sum() for p in itertools.product(*[list(itertools.permutations(x)) for x in r])]
    return float(np.mean(np.array(s) >= s_obs - 1e-9))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=2, max_size=5))
def test_exact_p_is_the_enumeration_with_ties(rows) -> None:
    m = np.array(rows)
    r = friedman_perm(m)
    keep = np.ptp(m, axis=1) > 0
    expect = _enumerate(m[keep]) if keep.sum() >= 2 else 1.0
    assert r.p == pytest.approx(expect) and r.floor <= r.p


def test_small_designs_hold_their_level_where_chi_square_does_not() -> None:
    rng = np.random.default_rng(1)
    ps = np.array([friedman_perm(rng.normal(size=(4, 3))).p for _ in range(3000)])
    assert np.mean(ps < 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 3000)
    assert friedman_perm(np.tile([3.0, 2.0, 1.0], (9, 1))).p == pytest.approx(6.0**-8)  # reaches 1e-4 below 10 tasks


def test_monte_carlo_agrees_with_the_exact_distribution(monkeypatch) -> None:
    m = np.random.default_rng(2).normal(size=(7, 4)) + np.array([0.6, 0.2, 0, 0])
    exact = friedman_perm(m)
    monkeypatch.setattr(blocked, "MAX_STATES", 10)
    mc = friedman_perm(m)
    assert "exact" in exact.name and "permutations" in mc.name
    assert mc.p == pytest.approx(exact.p, abs=0.01)
