"""The bounded-metric test (issue 27, the skewed shape): valid for every distribution within
the declared bounds, deciding by the interval it prints, and costly in power, as measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sorg import claims
from sorg.results import Trials
from sorg.stats.bounded import p_bounded, power_bounded, power_ceiling
from sorg.stats.location import location_test
from tests.fakes.sorg_synth import make_record


def _rate(x: np.ndarray, alpha: float = 0.05) -> float:
    return float(np.mean(p_bounded(x, 0.0, -1.0, 1.0) < alpha))


@pytest.mark.parametrize("g", [8, 16, 48])
def test_level_holds_on_the_shapes_that_break_the_mean_test(g: int) -> None:
    """90% of tasks at +0.05 and 10% at -0.45 (mean 0) passes the sign-flip/t test 43%, 19%
    and 13% of the time at 8, 16, 48 tasks; the least favourable two-point nulls {-1, c}
    (mean 0) are the worst case of any test of a bounded mean. The betting test stays below
    alpha on all of them."""
    rng = np.random.default_rng(g)
    reps = 2000
    tol = 2 * math.sqrt(0.05 * 0.95 / reps)
    skew = np.where(rng.random((reps, g)) < 0.9, 0.05, -0.45)
    assert _rate(skew) <= 0.05 + tol
    for c in (0.05, 0.2, 1 / g, 3 / g):
        two = np.where(rng.random((reps, g)) < 1 / (1 + c), c, -1.0)
        assert _rate(two) <= 0.05 + tol, c


def test_no_valid_test_beats_the_ceiling_and_this_one_stays_under_it() -> None:
    for mu, g in ((0.15, 16), (0.3, 16), (0.06, 48), (0.3, 8)):
        assert power_bounded(mu, 0.1, g, 0.0, 0.05, -1.0, 1.0) <= power_ceiling(mu, g, 0.05) + 0.02


def test_p_is_the_inverted_interval_and_the_vectorised_form() -> None:
    x = np.random.default_rng(2).normal(0.2, 0.1, (5, 24))
    for row, p in zip(x, p_bounded(x, 0.0, -1.0, 1.0)):
        r = location_test(row, 0.0, 0.05, "bounded", bounds=(-1, 1))
        assert r.p == pytest.approx(p) and (r.p < 0.05) == (r.bound[0] > 0) and r.ci[0] < r.estimate < r.ci[1]
    with pytest.raises(ValueError, match="outside the declared bounds"):
        location_test([0.5, 1.5], 0.0, 0.05, "bounded", bounds=(-1, 1))
    with pytest.raises(ValueError, match="needs bounds"):
        location_test([0.5], 0.0, 0.05, "bounded")


def _skewed(g: int, collapse: bool) -> Trials:
    recs = []
    for i in range(g):
        d = -0.45 if collapse and i == 0 else 0.05
        for proto, q in (("A", 0.5 + d), ("B", 0.5)):
            recs.append(make_record(task_id=f"t{i}", seed=0, protocol=proto, quality={"judge_q": q},
                                    abstention_rate=0.3 + d / 2))
    return Trials(recs)


def test_beats_bounded_is_opt_in_and_prints_its_own_interval_and_power() -> None:
    """16 tasks all at +0.05 (the sample the skewed null gives 19% of the time): the mean
    test passes at p 2^-16, the betting test (differences in [-1, 1]) cannot tell it from a
    rare collapse and does not pass; its interval, method and power say so."""
    t = _skewed(16, collapse=False)
    assert claims.beats(t, "A", "B").passed is True
    v = claims.beats(t, "A", "B", test="bounded")
    assert v.passed is False and v.test.startswith("betting test of the mean (values in [-1, 1]")
    assert v.details["decision_ci"][0] <= 0 and v.ci_method.startswith("betting interval")
    spec = v.details["power_spec"]
    assert spec["design"] == "bounded" and v.power == power_bounded(0.05, spec["sd"], 16, 0.0, 0.05, -1, 1)
    with pytest.raises(ValueError, match=r"bounds=\(lo, hi\) for 'cost_usd'"):
        claims.beats(t, "A", "B", metric="cost_usd", test="bounded")
    big = claims.beats(t, "A", "B", test="bounded", bounds=(0.45, 0.55))  # declared narrower: [-0.1, 0.1]
    assert big.details["decision_ci"][0] > 0 and big.passed is True


def test_count_bounded_uses_the_known_range_of_a_rate() -> None:
    t = _skewed(16, collapse=True)
    v = claims.count(t, "abstention_rate", at_least=0.3, test="bounded")
    assert v.test.startswith("one-sided betting test of the mean (values in [0, 1]") and v.passed is False
    assert v.details["power_spec"]["design"] == "bounded"
    with pytest.raises(ValueError, match="count\\(test=...\\)"):
        claims.count(t, "abstention_rate", at_least=0.3, test="t")


def test_plan_sizes_the_betting_test_from_the_lower_bound_of_the_mean() -> None:
    rng = np.random.default_rng(9)
    recs = []
    for i, d in enumerate(rng.normal(0.3, 0.15, 20)):
        recs += [make_record(task_id=f"t{i}", seed=0, protocol="A", quality={"judge_q": 0.3 + d}),
                 make_record(task_id=f"t{i}", seed=0, protocol="B", quality={"judge_q": 0.3})]
    v = claims.beats(Trials(recs), "A", "B", test="bounded")
    spec = v.details["power_spec"]
    pl = claims.plan(v)
    assert pl.design == "bounded" and pl.basis == "lower 80% confidence bound of the observed mean"
    assert 0 < spec["mean_lcb"] < spec["mean"]
    at = [power_bounded(spec["mean_lcb"], spec["sd"], n, 0.0, 0.05, -1, 1) for n in (pl.n_needed - 1, pl.n_needed)]
    assert at[0] < 0.8 <= at[1]
