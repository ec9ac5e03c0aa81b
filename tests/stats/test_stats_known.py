"""sorg.stats against scipy's own functions and textbook examples with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from sorg import stats


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ----------------------------------------------------------------- tests vs scipy


def test_wilcoxon_matches_scipy(rng) -> None:
    d = rng.normal(0.3, 1.0, 40)
    got = stats.wilcoxon_paired(d)
    ref = st.wilcoxon(d, alternative="greater")
    assert got.p == pytest.approx(ref.pvalue, rel=1e-12)
    assert got.statistic == pytest.approx(ref.statistic)
    assert got.name == "Wilcoxon signed-rank"


def test_wilcoxon_textbook_exact() -> None:
    # five positive differences: the only rank sum as large as 15 is all-positive, 1/2^5
    assert stats.wilcoxon_paired([1, 2, 3, 4, 5]).p == pytest.approx(1 / 32)
    # the same, the other way round: every sign pattern has T+ >= 0
    assert stats.wilcoxon_paired([-1, -2, -3, -4, -5]).p == pytest.approx(1.0)


def test_wilcoxon_all_zero_differences_is_no_evidence() -> None:
    r = stats.wilcoxon_paired([0.0, 0.0, 0.0])
    assert r.p == 1.0 and r.n == 3


def test_paired_t_matches_scipy_ttest_rel(rng) -> None:
    a, b = rng.normal(1, 1, 25), rng.normal(0.8, 1, 25)
    got = stats.paired_t(a - b)
    ref = st.ttest_rel(a, b, alternative="greater")
    assert got.p == pytest.approx(ref.pvalue, rel=1e-12)
    assert got.statistic == pytest.approx(ref.statistic)


def test_paired_t_constant_difference_gives_the_sign_flip_floor() -> None:
    assert stats.paired_t([0.1, 0.1, 0.1]).p == 0.125  # the sign-flip floor 2**-3, not 0
    assert stats.paired_t([-0.1, -0.1, -0.1]).p == 1.0


def test_mann_whitney_matches_scipy_and_textbook(rng) -> None:
    a, b = rng.normal(0.5, 1, 30), rng.normal(0, 1, 35)
    assert stats.mann_whitney(a, b).p == pytest.approx(st.mannwhitneyu(a, b, alternative="greater").pvalue, rel=1e-12)
    # complete separation of 3 vs 3: exact one-sided p = 1 / C(6, 3) = 0.05
    assert stats.mann_whitney([4, 5, 6], [1, 2, 3]).p == pytest.approx(0.05)


def test_welch_matches_scipy(rng) -> None:
    a, b = rng.normal(0.5, 1, 30), rng.normal(0, 2, 12)
    assert stats.welch_t(a, b).p == pytest.approx(st.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)


def test_kruskal_textbook_and_scipy(rng) -> None:
    # ranks 1..9 in three blocks: mean ranks 2, 5, 8 -> H = 12/(9*10) * 3*(9 + 0 + 9) = 7.2
    r = stats.kruskal([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert r.statistic == pytest.approx(7.2)
    assert r.p == pytest.approx(st.chi2.sf(7.2, 2))
    gs = [rng.normal(m, 1, 20) for m in (0, 0.3, 0.6, 0.1)]
    assert stats.kruskal(gs).p == pytest.approx(st.kruskal(*gs).pvalue)
    assert stats.kruskal([[1, 1], [1, 1]]).p == 1.0


# ----------------------------------------------------------------- effect sizes


def test_cohen_d_textbook() -> None:
    # means 4 vs 3, both SD 2 -> d = 0.5; paired diffs 1,2,3 -> mean 2, SD 1 -> d_z = 2
    assert stats.cohen_d([2, 4, 6], [1, 3, 5]) == pytest.approx(0.5)
    assert stats.cohen_dz([1, 2, 3]) == pytest.approx(2.0)
    assert stats.cohen_dz([0, 0, 0]) == 0.0


def test_d_ci_normal_approximation() -> None:
    lo, hi = stats.d_ci(0.5, 50, 50)
    se = math.sqrt(100 / 2500 + 0.25 / 200)
    assert (lo, hi) == pytest.approx((0.5 - 1.959964 * se, 0.5 + 1.959964 * se), rel=1e-5)
    lo, hi = stats.dz_ci(0.5, 30)
    assert lo < 0.5 < hi


# ----------------------------------------------------------------- TOST


def test_tost_paired_formula_and_ci_duality(rng) -> None:
    d = rng.normal(0.02, 0.1, 30)
    r = stats.tost_paired(d, margin=0.1, alpha=0.05)
    m, se = d.mean(), d.std(ddof=1) / math.sqrt(30)
    p_lo = st.t.sf((m + 0.1) / se, 29)
    p_hi = st.t.cdf((m - 0.1) / se, 29)
    assert r["p"] == pytest.approx(max(p_lo, p_hi))
    # TOST at alpha rejects exactly when the (1 - 2 alpha) CI lies inside the margin
    for margin in (0.01, 0.03, 0.05, 0.08, 0.2):
        r = stats.tost_paired(d, margin=margin, alpha=0.05)
        inside = -margin < r["ci"][0] and r["ci"][1] < margin
        assert (r["p"] < 0.05) == inside


def test_tost_rejects_bad_margin() -> None:
    with pytest.raises(ValueError, match="margin"):
        stats.tost_paired([0.1, 0.2], margin=0)


def test_tost_welch_matches_ttest_ind_shifted(rng) -> None:
    a, b = rng.normal(0.0, 1, 40), rng.normal(0.1, 1.5, 30)
    r = stats.tost_welch(a, b, margin=0.5)
    lo = st.ttest_ind(a + 0.5, b, equal_var=False, alternative="greater").pvalue
    hi = st.ttest_ind(a - 0.5, b, equal_var=False, alternative="less").pvalue
    assert r["p"] == pytest.approx(max(lo, hi))


# ----------------------------------------------------------------- Holm


def test_holm_hand_computed() -> None:
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert stats.holm([]) == []
    assert stats.holm([0.2]) == [0.2]


# ----------------------------------------------------------------- clustered bootstrap


def test_clustered_ci_wider_than_naive_when_tasks_are_correlated(rng) -> None:
    task_effect = rng.normal(0, 1.0, 10)
    clusters = np.repeat(np.arange(10), 20)
    v = task_effect[clusters] + rng.normal(0, 0.1, clusters.size)
    lo_c, hi_c = stats.boot_mean_ci(v, clusters)
    lo_n, hi_n = stats.naive_mean_ci(v)
    assert (hi_c - lo_c) > 3 * (hi_n - lo_n)
    assert lo_c < v.mean() < hi_c


def test_clustered_ci_equals_naive_for_singleton_clusters(rng) -> None:
    v = rng.normal(0, 1, 50)
    assert stats.boot_mean_ci(v, np.arange(50)) == stats.naive_mean_ci(v)


def test_bootstrap_is_seeded_and_weights_sum_to_k() -> None:
    w = stats.boot_weights(7, 100, seed=1)
    assert w.shape == (100, 7) and np.all(w.sum(axis=1) == 7)
    assert np.array_equal(w, stats.boot_weights(7, 100, seed=1))
    assert not np.array_equal(w, stats.boot_weights(7, 100, seed=2))


def test_boot_ratio_and_diff_ci_contain_estimate(rng) -> None:
    cl = np.repeat(np.arange(12), 5)
    a, b = rng.normal(2, 0.2, 60), rng.normal(1, 0.2, 60)
    lo, hi = stats.boot_ratio_ci(a, cl, b, cl)
    assert lo < a.mean() / b.mean() < hi
    lo, hi = stats.boot_diff_ci(a, cl, b, cl)
    assert lo < a.mean() - b.mean() < hi


# ----------------------------------------------------------------- slope and ratio


def test_loglog_slope_matches_polyfit(rng) -> None:
    x = np.tile([4, 8, 16, 32, 64, 256], 10).astype(float)
    cl = np.repeat(np.arange(10), 6)
    y = 0.01 * x**0.3 * np.exp(rng.normal(0, 0.1, x.size))
    r = stats.loglog_slope(x, y, cl, below=1.0)
    assert r["slope"] == pytest.approx(np.polyfit(np.log(x), np.log(y), 1)[0])
    assert r["ci"][0] < 0.3 < r["ci"][1]
    assert r["p"] < 1e-6
    assert stats.loglog_slope(x, y, cl, below=0.2)["p"] > 0.5


def test_loglog_slope_fixed_effects_remove_level_differences(rng) -> None:
    # two protocols with 10x different cost level, both growing as n^0.5; the protocol
    # with more large teams would bias a pooled fit, fixed effects do not
    x = np.array([4, 8, 16, 4, 256, 256, 256] * 6, dtype=float)
    proto = np.array([0, 0, 0, 1, 1, 1, 1] * 6)
    y = np.where(proto == 0, 1.0, 10.0) * x**0.5
    cl = np.repeat(np.arange(6), 7)
    assert stats.loglog_slope(x, y, cl, within=proto)["slope"] == pytest.approx(0.5)
    assert stats.loglog_slope(x, y, cl)["slope"] > 0.6


def test_log_ratio_test_direction(rng) -> None:
    cl = np.repeat(np.arange(20), 3)
    a, b = rng.normal(24, 1, 60), rng.normal(1, 0.05, 60)
    assert stats.log_ratio_test(a, cl, b, cl, 20)["p"] < 1e-6
    assert stats.log_ratio_test(a, cl, b, cl, 30)["p"] > 0.99
    assert stats.log_ratio_test(a, cl, b, cl, 30, alternative="less")["p"] < 1e-6


# ----------------------------------------------------------------- power


def test_power_paired_t_known_value() -> None:
    # G*Power: one-tailed paired t, d=0.5, alpha=0.05, n=20 -> power 0.6951
    assert stats.power_paired(0.5, 20, 0.05, test="t") == pytest.approx(0.6951, abs=5e-4)


def test_required_n_known_values() -> None:
    # G*Power: one-tailed, d=0.5, alpha=0.05, power 0.8 -> paired n=27; two groups 51 each
    assert stats.n_paired_for_power(0.5, 0.05, 0.8, test="t") == 27
    assert stats.n_two_sample_for_power(0.5, 0.05, 0.8, test="t") == 51
    # the rank tests need about 1/0.955 times as many
    nw = stats.n_paired_for_power(0.5, 0.05, 0.8, test="wilcoxon")
    assert 27 < nw <= math.ceil(27 / stats.RANK_ARE) + 1
    assert stats.n_paired_for_power(0.0, 0.05) is None
    assert stats.n_paired_for_power(-0.3, 0.05) is None


def test_power_grows_with_n_and_effect() -> None:
    ps = [stats.power_paired(0.3, n, 0.01) for n in (10, 20, 40, 80)]
    assert ps == sorted(ps) and 0 < ps[0] < ps[-1] < 1
    assert stats.power_paired(0.6, 20, 0.01) > stats.power_paired(0.3, 20, 0.01)


def test_power_tost_at_zero_difference() -> None:
    # margin of 2 SE of the mean on each side: approx 2*Phi(2 - 1.645) - 1
    p = stats.power_tost(0.0, 1.0, 100, 0.2, 0.05)
    assert p == pytest.approx(2 * st.norm.cdf(2 - st.norm.ppf(0.95)) - 1)


def test_friedman_matches_scipy_and_textbook(rng) -> None:
    m = rng.normal(0, 1, (15, 4)) + np.array([0, 0.2, 0.4, 0.6])
    r = stats.friedman(m)
    ref = st.friedmanchisquare(*m.T)
    assert r.p == pytest.approx(ref.pvalue) and r.statistic == pytest.approx(ref.statistic)
    # every block ranks the groups 1,2,3: chi2 = 12/(n k (k+1)) * sum R_j^2 - 3 n (k+1) = n (k-1) = 2n
    perfect = np.tile([0.1, 0.2, 0.3], (6, 1))
    assert stats.friedman(perfect).statistic == pytest.approx(12.0)
    with pytest.raises(ValueError, match=">= 3 groups"):
        stats.friedman(np.ones((5, 2)))


def test_clustered_ci_does_not_depend_on_row_order(rng) -> None:
    # the report calls boot_mean_ci on trials in store order, which xdist shuffles
    clusters = np.array([f"t{i}" for i in rng.integers(0, 15, 120)], dtype=object)
    v = rng.normal(0, 1, 120)
    perm = rng.permutation(120)
    assert stats.boot_mean_ci(v[perm], clusters[perm]) == pytest.approx(stats.boot_mean_ci(v, clusters), rel=1e-12)


@pytest.mark.parametrize("d,n", [(0.5, 30), (0.3, 60), (0.8, 12)])
def test_power_matches_simulation(d, n) -> None:
    # 4,000 simulated normal studies: the noncentral-t power and the ARE approximation for
    # Wilcoxon agree with the rejection rates of the real tests within a few points
    rng = np.random.default_rng(11)
    x = rng.normal(d, 1, (4000, n))
    sim_w = (st.wilcoxon(x, axis=1, alternative="greater").pvalue < 0.05).mean()
    sim_t = (st.ttest_1samp(x, 0, axis=1, alternative="greater").pvalue < 0.05).mean()
    assert stats.power_paired(d, n, 0.05, "wilcoxon") == pytest.approx(sim_w, abs=0.04)
    assert stats.power_paired(d, n, 0.05, "t") == pytest.approx(sim_t, abs=0.03)


def test_bootstrap_weights_in_chunks_are_the_whole_draw() -> None:
    """The chunked multiplicities (bounded memory at 25,000 tasks) are the same resamples as
    drawing the whole matrix at once, so intervals did not move."""
    from sorg.stats.bootstrap import _weight_chunks

    k, b, seed = 7, 50, 11
    idx = np.random.default_rng(seed).integers(0, k, size=(b, k))
    whole = np.stack([np.bincount(row, minlength=k) for row in idx]).astype(float)
    assert np.array_equal(stats.boot_weights(k, b, seed), whole)
    assert np.array_equal(np.vstack(list(_weight_chunks(k, b, seed, rows=8))), whole)
