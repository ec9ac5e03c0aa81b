"""Issue 27 item 5: `spread` prints the power of the test that decides it: Friedman's (by its
exact permutation distribution) without a contrast, the contrast's mean test with one, the
two-sided signed rank for two groups; plans size the same test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sorg import claims, power
from sorg.results import Trials
from sorg.stats.blocked import contrast_effects, friedman_critical, friedman_perm, group_effects, power_friedman
from tests.fakes.sorg_synth import make_record


def _trials(g: int, eff: list[float], seed: int = 0, sd: float = 0.1) -> Trials:
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(g):
        base = rng.normal(0.5, 0.1)
        for j, e in enumerate(eff):
            recs.append(make_record(task_id=f"t{i}", seed=0, protocol=f"p{j}",
                                    quality={"judge_q": base + e + rng.normal(0, sd)}))
    return Trials(recs)


def test_friedman_power_is_the_rate_of_the_test_that_decides() -> None:
    """At 12 tasks and d_z 0.8 of best vs worst, Friedman's power is about 0.49 where the paired
    t on that contrast would promise about 0.92: the simulated power matches friedman_perm's own
    pass rate on data drawn from that model."""
    eff, g, reps = contrast_effects(0.8, 3), 12, 600
    printed = power_friedman(eff, g, 0.05)
    rng = np.random.default_rng(4)
    hits = sum(friedman_perm(rng.standard_normal((g, 3)) + eff + rng.normal(0, 2, (g, 1))).p < 0.05
               for _ in range(reps))
    assert abs(hits / reps - printed) < 3 * math.sqrt(printed * (1 - printed) / reps) + 0.01
    assert printed < power.power_units(0.8, g, 0.05, "t") - 0.3


@pytest.mark.parametrize("g,k", [(5, 3), (8, 3), (12, 3), (6, 4)])
def test_the_critical_value_power_uses_is_friedman_perm_s_decision(g: int, k: int) -> None:
    """Exactly: friedman_perm's p < alpha iff the sum of squared rank sums reaches the critical
    value the power simulation counts (distinct rank-sum vectors share sums of squares, so the
    tail must be read per distinct sum)."""
    rng = np.random.default_rng(g * k)
    for alpha in (0.05, 0.01):
        crit = friedman_critical(g, k, alpha)
        for _ in range(80):
            m = rng.standard_normal((g, k)) + np.linspace(0, 1, k)
            r2 = 2 * (np.argsort(np.argsort(m, axis=1), axis=1) + 1)
            if k == 3 or g <= 9:  # exact distribution (k = 4 above 9 tasks is simulated)
                assert (friedman_perm(m).p < alpha) == (((r2.sum(axis=0)) ** 2).sum() >= crit)


def test_spread_prints_friedman_power_and_holm_recomputes_it() -> None:
    t = _trials(12, [0.06, -0.06, 0.0])
    v = claims.spread(t)
    spec = v.details["power_spec"]
    assert v.test.startswith("Friedman test (exact permutation distribution)") and spec["design"] == "friedman"
    eff = group_effects(np.column_stack([t.where(protocol=f"p{j}").values("quality.judge_q") for j in range(3)]))
    assert np.allclose(spec["effects"], eff) and v.power == power_friedman(eff, 12, 0.05)
    assert "observed group effects" in v.details["power_basis"]
    d = claims.spread(t, expected_d=0.8)
    assert d.power == power_friedman(contrast_effects(0.8, 3), 12, 0.05)
    out = claims.finalize([v, d])
    assert {round(x.power, 6) for x in out} <= {round(power_friedman(eff, 12, 0.025), 6), round(d.power, 6),
                                                 round(power_friedman(contrast_effects(0.8, 3), 12, 0.025), 6),
                                                 round(v.power, 6)}
    assert any("alpha 0.05/2 (Holm)" in x.details["power_basis"] for x in out)


def test_spread_plan_sizes_friedman_from_the_lower_bound() -> None:
    v = claims.spread(_trials(12, [0.06, -0.06, 0.0]))
    pl = claims.plan(v)
    lcb = np.asarray(v.details["power_spec"]["effects_lcb"])
    assert pl.design == "friedman" and pl.basis.startswith("lower 80% confidence bound")
    assert np.all(np.abs(lcb) < np.abs(v.details["power_spec"]["effects"]))
    assert power_friedman(lcb, pl.n_needed, 0.05) >= 0.8 > power_friedman(lcb, pl.n_needed - 1, 0.05)
    declared = claims.plan(claims.spread(_trials(12, [0.06, -0.06, 0.0]), expected_d=0.8))
    assert declared.n_needed == power.n_for_power(lambda n: power_friedman(contrast_effects(0.8, 3), n, 0.05))


def test_two_groups_print_two_sided_signed_rank_power() -> None:
    v = claims.spread(_trials(10, [0.08, 0.0]))
    spec = v.details["power_spec"]
    assert spec["sides"] == 2 and spec["test"] == "wilcoxon"
    assert v.power == pytest.approx(power.power_units(spec["d"], 10, 0.025, "wilcoxon"))


def test_skipped_spread_plans_friedman_when_the_groups_are_listed() -> None:
    v = claims.spread(Trials([]), expected_d=0.8, protocol=["a", "b", "c"])
    assert v.skip_reason and v.details["power_spec"]["design"] == "friedman"
    assert claims.plan(v).n_needed == power.n_for_power(lambda n: power_friedman(contrast_effects(0.8, 3), n, 0.05))
