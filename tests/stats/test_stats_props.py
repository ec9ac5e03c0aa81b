"""Hypothesis properties of the statistics and of the claims built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sorg import claims, inference, stats
from sorg.results import Trials
from tests.fakes.sorg_synth import make_record

# Dyadic scores and shifts (k/64, k/8) add exactly in binary floating point, so "adding a
# constant changes nothing" tests the statistics, not rounding that breaks ties.
scores = st.integers(0, 64).map(lambda k: k / 64)
shifts = st.integers(-24, 24).map(lambda k: k / 8)
samples = st.lists(scores, min_size=3, max_size=30)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(samples, samples)
def test_p_values_are_probabilities(a, b) -> None:
    n = min(len(a), len(b))
    d = np.asarray(a[:n]) - np.asarray(b[:n])
    for r in (stats.wilcoxon_paired(d), stats.paired_t(d), stats.mann_whitney(a, b), stats.welch_t(a, b),
              stats.kruskal([a, b])):
        assert 0.0 <= r.p <= 1.0, r
    t = stats.tost_paired(d, 0.1)
    assert 0.0 <= t["p"] <= 1.0


@FAST
@given(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=12))
def test_holm_is_monotone_bounded_and_at_least_raw(ps) -> None:
    adj = stats.holm(ps)
    assert all(0 <= q <= 1 for q in adj)
    assert all(q >= p - 1e-15 for p, q in zip(ps, adj))
    order = np.argsort(ps, kind="stable")
    srt = [adj[i] for i in order]
    assert srt == sorted(srt)


@FAST
@given(samples, shifts)
def test_shift_both_groups_changes_nothing_in_two_sample_stats(a, c) -> None:
    b = [x * 0.75 + 0.125 for x in a][::-1]
    a2, b2 = [x + c for x in a], [x + c for x in b]
    assert stats.mann_whitney(a2, b2).p == pytest.approx(stats.mann_whitney(a, b).p, abs=1e-9)
    assert stats.cohen_d(a2, b2) == pytest.approx(stats.cohen_d(a, b), rel=1e-6, abs=1e-6)
    assert stats.kruskal([a2, b2]).p == pytest.approx(stats.kruskal([a, b]).p, abs=1e-9)


def _paired_trials(qa, qb, shift=0.0):
    recs = []
    for i, (x, y) in enumerate(zip(qa, qb)):
        task = f"t{i % 8}"  # >= 5 tasks: the design can reach alpha 0.05 (2**-5 < 0.05)
        recs.append(make_record(task_id=task, seed=i, protocol="A", quality={"judge_q": x + shift}))
        recs.append(make_record(task_id=task, seed=i, protocol="B", quality={"judge_q": y + shift}))
    return Trials(recs)


paired_scores = st.lists(st.tuples(scores, scores), min_size=5, max_size=16)


def _neg(ci):
    return None if ci is None else (-ci[1], -ci[0])


# claims run on task means: at most 8 tasks here, so the exact signed-rank test is cheap
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paired_scores)
def test_swapping_a_and_b_flips_the_sign(pairs) -> None:
    qa, qb = zip(*pairs)
    t = _paired_trials(qa, qb)
    ab = claims.beats(t, "A", "B", n_boot=200)
    ba = claims.beats(t, "B", "A", n_boot=200)
    assert ab.estimate == pytest.approx(-ba.estimate, abs=1e-12)
    assert (ab.ci is None) == (ba.ci is None)
    if ab.ci is not None:
        assert ab.ci == pytest.approx(_neg(ba.ci), abs=1e-9)
    if math.isfinite(ab.effect):
        assert ab.effect == pytest.approx(-ba.effect, abs=1e-9)
    assert 0 <= ab.p <= 1 and 0 <= ba.p <= 1
    # one-sided p-values of opposite directions cannot both be small
    assert ab.p + ba.p >= 1 - 1e-9


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paired_scores, shifts)
def test_adding_a_constant_to_both_arms_changes_nothing(pairs, c) -> None:
    qa, qb = zip(*pairs)
    base = claims.beats(_paired_trials(qa, qb), "A", "B", n_boot=200)
    moved = claims.beats(_paired_trials(qa, qb, shift=c), "A", "B", n_boot=200)
    assert moved.p == pytest.approx(base.p, abs=1e-9)
    assert moved.estimate == pytest.approx(base.estimate, abs=1e-9)
    assert (moved.ci is None) == (base.ci is None)
    if base.ci is not None:
        assert moved.ci == pytest.approx(base.ci, abs=1e-6)
    assume(math.isfinite(base.effect))
    assert moved.effect == pytest.approx(base.effect, rel=1e-5, abs=1e-6)


@FAST
@given(st.lists(st.floats(min_value=-1, max_value=1, allow_nan=False), min_size=3, max_size=25),
       st.floats(min_value=0.01, max_value=1.0))
def test_tost_rejects_iff_ci_inside_margin(d, margin) -> None:
    r = stats.tost_paired(d, margin, alpha=0.05)
    assume(r["ci"][0] != r["ci"][1])
    inside = -margin < r["ci"][0] and r["ci"][1] < margin
    # ties at the boundary are measure-zero; allow rounding right at it
    if abs(abs(r["ci"][0]) - margin) > 1e-9 and abs(abs(r["ci"][1]) - margin) > 1e-9:
        assert (r["p"] < 0.05) == inside


@FAST
@given(st.lists(st.floats(min_value=-1, max_value=1, allow_nan=False), min_size=5, max_size=25),
       st.floats(min_value=0.01, max_value=1.0))
def test_unit_tost_decides_as_its_printed_interval(d, margin) -> None:
    """equivalent() prints tost_units' 1 - 2 alpha interval: inside the margin iff p < alpha."""
    r = inference.tost_units(d, margin, alpha=0.05)
    assume(r["ci"] is not None)
    lo, hi = r["ci"]
    if abs(abs(lo) - margin) > 1e-9 and abs(abs(hi) - margin) > 1e-9:
        assert (r["p"] < 0.05) == (-margin < lo and hi < margin)


@FAST
@given(st.lists(st.integers(-6, 6).map(lambda k: k / 8), min_size=1, max_size=14))
def test_unit_tests_never_go_below_the_sign_flip_floor(d) -> None:
    """With G units no one-sided p of the exact tests is below 2**-G, and the t test gives
    the floor (not 0) when every unit shows the same difference."""
    g = len(d)
    for test in ("wilcoxon", "permutation", "t"):
        r = inference.paired_units(d, test)
        assert 0 <= r.p <= 1
        if test != "t" or len(set(d)) == 1:
            assert r.p >= inference.min_p(g) - 1e-15, (test, d, r)
