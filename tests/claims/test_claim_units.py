"""Issue 17, item by item: claims judged over the unit they generalise to (tasks), honest with
few units and no variance, exact power, dropped trials counted, ratio matched on every factor.
Each test here fails on the pair-level claims it replaced."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from sorg import claims, inference, power
from sorg.claims.verdict import _ci
from sorg.results import Trials
from sorg.stats.location import location_test
from tests.fakes.sorg_synth import make_record


def _paired(diffs_by_task: dict[str, list[float]], base: float = 0.5, **kw) -> Trials:
    """Arms A and B; task t's seed s has A - B = diffs_by_task[t][s]."""
    recs = []
    for task, ds in diffs_by_task.items():
        for s, d in enumerate(ds):
            recs.append(make_record(task_id=task, seed=s, protocol="A", quality={"judge_q": base + d}, **kw))
            recs.append(make_record(task_id=task, seed=s, protocol="B", quality={"judge_q": base}, **kw))
    return Trials(recs)


# ------------------------------------------------------------------ 1. unit of analysis


def test_beats_tests_task_means_not_pairs() -> None:
    rng = np.random.default_rng(5)
    data = {f"t{i}": list(rng.normal(0.05 * (i - 2.5), 0.1, 7)) for i in range(6)}
    v = claims.beats(_paired(data), "A", "B")
    task_means = [np.mean(np.round(np.asarray(d) + 0.5, 15) - 0.5) for d in data.values()]
    assert v.n == 6 and v.details["n_pairs"] == 42 and v.unit.startswith("tasks (42 task x seed pairs")
    assert v.p == pytest.approx(location_test(task_means).p, abs=1e-9)
    assert v.estimate == pytest.approx(np.mean(task_means)) and v.test.startswith("exact sign-flip test of the mean")


def test_four_tasks_cannot_pass_at_alpha_001_and_say_how_many_are_needed() -> None:
    data = {f"t{i}": [0.3] * 7 for i in range(4)}  # 28 pairs, all far positive
    v = claims.beats(_paired(data), "A", "B", alpha=0.001)
    assert v.passed is None and v.outcome == "undecidable" and v.power == 0
    assert v.skip_reason.startswith("cannot be decided with this design: needs 10 non-zero tasks, has 4")
    assert "smallest attainable p 0.0625 is not below alpha 0.001" in v.skip_reason
    assert claims.plan(v).n_needed is None  # no plan built on a power the design cannot have
    assert inference.units_needed(0.001) == 10 and inference.units_needed(0.05) == 5


# ------------------------------------------------------------------ 2. one analysis decides and prints


def test_equivalence_prints_the_interval_it_decides_with() -> None:
    shifts = [0.0, 0.14, 0.01, 0.13, 0.02, 0.12]  # task-specific shifts, 10 seeds each
    rng = np.random.default_rng(2)
    recs = []
    for i, sh in enumerate(shifts):
        for s in range(10):
            q = 0.5 + rng.normal(0, 0.01)
            recs.append(make_record(task_id=f"t{i}", seed=s, n_agents=4, quality={"judge_q": q}))
            recs.append(make_record(task_id=f"t{i}", seed=s, n_agents=256, quality={"judge_q": q + sh}))
    v = claims.equivalent(Trials(recs), "n_agents", 4, 256, margin=0.1)
    lo, hi = v.details["ci_tost"]
    assert v.passed == (-0.1 < lo and hi < 0.1)
    assert v.p == pytest.approx(inference.tost_units(shifts, 0.1)["p"], rel=1e-6)
    pair_level = inference.tost_units(np.repeat(shifts, 10), 0.1)["p"]  # 60 "independent" pairs
    assert pair_level < 0.05
    assert v.passed is False and v.p > 0.05  # the old pair-level TOST passed this
    assert f"90% CI {_ci((lo, hi), True)}" in v.message


# ------------------------------------------------------------------ 3. no certainty from no variance


def test_identical_differences_give_the_sign_flip_p_not_zero() -> None:
    two = _paired({"t0": [0.5], "t1": [0.5]})
    v = claims.finalize([claims.beats(two, "A", "B", test="t", alpha=0.3)])[0]
    assert v.p == 0.25 and v.passed is True and "exact sign-flip p" in v.message
    v = claims.finalize([claims.beats(two, "A", "B", test="t", alpha=0.001)])[0]
    assert v.p == 0.25 and v.passed is None and v.outcome == "undecidable"
    eq = claims.equivalent(Trials([make_record(task_id=f"t{i}", n_agents=n) for i in range(2) for n in (4, 256)]),
                           margin=0.1)
    assert eq.p == 0.25 and eq.passed is None and eq.outcome == "undecidable"


def test_one_task_of_equal_scores_proves_nothing() -> None:
    recs = [make_record(task_id="t0", protocol=p, n_agents=n, quality={"judge_q": 0.0})
            for p in ("a", "b", "c") for n in (4, 256)]
    v = claims.equivalent(Trials(recs), margin=0.1)
    assert v.outcome == "undecidable" and v.passed is None and v.details["observed"] == "3 pairs; observed mean difference +0"
    assert v.skip_reason == ("cannot be decided with this design: needs 5 non-zero tasks, has 1 "
                             "(smallest attainable p 0.5 is not below alpha 0.05)")


def test_count_ratio_and_slope_with_no_spread_across_tasks() -> None:
    recs = [make_record(task_id=f"t{i}", seed=s, abstention_rate=0.2, cost_usd=0.01 * n, n_agents=n)
            for i in range(5) for s in range(2) for n in (4, 16)]
    t = Trials(recs)
    c = claims.count(t, "abstention_rate", at_least=0.0)
    assert c.p == 2.0**-5 and c.passed is True and "no CI (5 tasks)" in c.message  # 2^-5 > 2.5%: no 95% bound
    g = claims.growth(t, metric="cost_usd", below=1.5)  # a perfect slope of 1 in every task
    assert g.estimate == pytest.approx(1.0) and g.p == 2.0**-5 and g.ci is None
    r = inference.log_ratio_units(np.full(5, 2.0), np.full(5, 1.0), np.ones(5), 1.5)
    assert r["p"] == 2.0**-5 and r["ci"] is None


# ------------------------------------------------------------------ 4. one cluster


def test_one_task_gives_no_interval_and_no_judgement() -> None:
    assert inference.t_units([0.667]).ci is None and inference.t_units([0.667]).p == 0.5
    recs = [make_record(task_id="t0", protocol="p", n_agents=n, seed=0, cost_usd=1e-4 * n**1.25) for n in (4, 16, 64, 256)]
    g = claims.growth(Trials(recs), metric="cost_usd")
    assert g.outcome == "undecidable" and "needs 5 non-zero tasks, has 1" in g.skip_reason
    r = inference.loglog_slope_units(np.array([4.0, 16, 64, 256]), np.array([4.0, 16, 64, 256]) ** 0.5,
                                     np.zeros(4), np.zeros(4), below=1.0)
    assert r["ci"] is None and r["p"] == 0.5  # one unit: the sign-flip p, whatever the fit


# ------------------------------------------------------------------ 5. near-ties


def test_near_ties_are_ties() -> None:
    a = np.array([0.2, 0.8, 0.9, 0.3, 0.6, 0.7, 0.65, 0.5])
    b = np.array([0.6, 0.4, 0.5, 0.7, 0.2, 0.3, 0.25, 0.4])
    raw = a - b  # 0.2 - 0.6 = -0.39999999999999997 and friends no longer tie with 0.4
    assert len(set(np.abs(raw).tolist())) > len(set(np.round(np.abs(raw), 12).tolist()))
    got = inference.wilcoxon_units(raw)
    ranks = st.rankdata(np.abs(np.round(raw, 12)))
    assert got.statistic == pytest.approx(ranks[np.round(raw, 12) > 0].sum())
    assert got.p == inference.wilcoxon_units(np.round(raw, 12)).p
    # unrounded, scipy ranks the near-ties apart and reports another p
    assert st.wilcoxon(raw, alternative="greater").pvalue != pytest.approx(got.p, abs=1e-3)
    v = claims.beats(_paired({f"t{i}": [0.0] for i in range(8)}), "A", "B")  # smoke: exact zero diffs
    assert v.p == 1.0


def test_signed_rank_exact_matches_scipy_without_ties() -> None:
    rng = np.random.default_rng(0)
    for n in (5, 9, 20):
        x = rng.normal(0.3, 1, n)
        for alt in ("greater", "less", "two-sided"):
            assert inference.wilcoxon_units(x, alt).p == pytest.approx(
                st.wilcoxon(x, alternative=alt, method="exact").pvalue, rel=1e-9)


# ------------------------------------------------------------------ 6. exact power and plans


def test_power_is_zero_where_the_exact_test_cannot_reach_alpha() -> None:
    for test in ("wilcoxon", "t", "mean", "permutation"):  # no t-based power beyond the 2^-G floor either
        assert power.power_units(2.887, 3, 0.05, test) == 0.0
    assert power.power_units(2.887, 5, 0.05, "t") > 0.5
    data = {f"t{i}": [0.1 + 0.01 * i] for i in range(4)}
    v = claims.beats(_paired(data), "A", "B", alpha=0.001, expected_d=2, test="wilcoxon")
    assert v.outcome == "undecidable"
    v = claims.beats(_paired({f"t{i}": [0.1 + 0.01 * i] for i in range(12)}), "A", "B", alpha=0.001, expected_d=2,
                     test="wilcoxon")
    p = claims.plan(v, n_family=7)
    assert p.n_needed >= 13 and inference.min_p(p.n_needed) < 0.001 / 7  # 12 could never pass
    assert power.power_wilcoxon_exact(2, p.n_needed, 0.001 / 7) >= 0.8
    assert power.power_wilcoxon_exact(2, p.n_needed - 1, 0.001 / 7) < 0.8


def test_tost_plan_is_exact() -> None:
    assert power.units_for_tost(1.0, 1.0, 0.05) == 11
    assert power.units_for_tost(1.0, 1.0, 0.05 / 7) == 18
    rng = np.random.default_rng(1)
    d = rng.normal(0, 1, (1500, 11))
    sim = np.mean([inference.tost_units(row, 1.0)["p"] < 0.05 for row in d[:1500]])
    assert sim == pytest.approx(power.power_tost_exact(0.0, 1.0, 11, 1.0, 0.05), abs=0.03)


def test_verdict_power_is_labelled_post_hoc(make_study) -> None:
    v = claims.beats(make_study, "A", "B")
    assert "post-hoc power" in v.message and "alpha 0.05" in v.message


@pytest.fixture
def make_study() -> Trials:
    rng = np.random.default_rng(3)
    return _paired({f"t{i}": list(rng.normal(0.1, 0.05, 3)) for i in range(8)})


# ------------------------------------------------------------------ 7. counting what is dropped


def test_beats_counts_unmatched_trials_and_never_falls_back_to_an_unpaired_test() -> None:
    recs = [make_record(task_id=f"t{i}", seed=s, protocol=p, quality={"judge_q": 0.5 + 0.1 * (p == "A") + 0.01 * s})
            for i in range(6) for s in range(3) for p in "AB"]
    recs += [make_record(task_id=f"t{i}", seed=9, protocol="A", quality={"judge_q": 1.0}) for i in range(6)]
    v = claims.beats(Trials(recs), "A", "B")
    assert v.details["unmatched"] == 6 and "6 unmatched trials not tested" in v.message
    assert v.means["A"] == pytest.approx(0.61) and v.estimate == pytest.approx(0.1)  # pair means, not all trials
    lone = [make_record(task_id=f"t{i}", seed=i, protocol="A", quality={"judge_q": 0.9}) for i in range(40)]
    lone += [make_record(task_id=f"t{i}", seed=100 + i, protocol="B", quality={"judge_q": 0.1}) for i in range(40)]
    w = claims.beats(Trials(lone), "A", "B")
    assert w.passed is None and w.p is None and "40 and 40 trials unmatched" in w.skip_reason


def test_zero_differences_are_reported() -> None:
    v = claims.beats(_paired({f"t{i}": [0.1 * (i % 3 != 0), 0.0] for i in range(9)}), "A", "B")
    assert "with zero difference" in v.unit and v.details["zero_units"] == 3


# ------------------------------------------------------------------ 8. ratio matched on every factor


def test_ratio_matches_team_size_and_uses_t() -> None:
    recs = []
    for i in range(6):
        for n in (4, 8):
            recs.append(make_record(task_id=f"t{i}", model="open", n_agents=n, cost_usd=0.001 * n * (1 + 0.05 * i)))
            recs.append(make_record(task_id=f"t{i}", model="closed", n_agents=n, cost_usd=0.01 * n * (1 + 0.05 * i) * (1 + 0.01 * (i % 2))))
        recs.append(make_record(task_id=f"t{i}", model="closed", n_agents=256, cost_usd=0.01 * 256 * 20))
    v = claims.ratio(Trials(recs), "closed", "open", "cost_usd", at_least=24)
    assert v.estimate == pytest.approx(10, rel=0.02) and v.passed is False
    assert "n_agents" in v.details["match_on"] and v.details["dropped_unshared"] == 6
    assert v.ci[0] < v.estimate < v.ci[1] and "5 df" in v.test


# ------------------------------------------------------------------ 9. spread, min_effect, Holm families


def test_spread_declared_contrast_and_selection_adjusted_interval() -> None:
    rng = np.random.default_rng(4)
    recs = [make_record(task_id=f"t{i}", protocol=p, seed=s, quality={"judge_q": float(rng.normal(0.5, 0.1))})
            for i in range(8) for p in "abcd" for s in range(2)]
    t = Trials(recs)
    sel = claims.spread(t)
    assert "Friedman test (exact permutation distribution) blocked by task" in sel.test
    assert sel.details["ci_level"] == pytest.approx(1 - 0.05 / 6) and "Bonferroni over 6 contrasts" in sel.message
    dec = claims.spread(t, contrast=("a", "b"))
    assert dec.details["best"] == "a" and dec.details["ci_level"] == 0.95 and "declared contrast" in dec.message
    assert (dec.ci[1] - dec.ci[0]) < (sel.ci[1] - sel.ci[0]) * 1.5


def test_holm_is_one_family_over_all_claims_each_against_its_own_alpha() -> None:
    vs = [claims.Verdict(name=f"c{i}", kind="generic", p=p, alpha=a)
          for i, (p, a) in enumerate([(0.01, 0.05), (0.02, 0.05), (0.00001, 0.0001), (0.0002, 0.001)])]
    out = claims.finalize(vs)
    assert [v.n_family for v in out] == [4, 4, 4, 4]
    assert [v.p_holm for v in out] == pytest.approx([0.02, 0.02, 0.00004, 0.0006])
    assert all(v.passed for v in out)
    assert "across 4 claims at alpha 0.05" in out[0].message
    assert out[0].details["holm_family"] == ["c0", "c1", "c2", "c3"]


def test_mixed_alpha_null_family_keeps_the_familywise_error() -> None:
    """Ten null claims at alphas 0.0500..0.0491: per-alpha families gave each its own 5%
    (familywise 40%); one family keeps it at most the largest alpha."""
    rng = np.random.default_rng(3)
    alphas = [0.05 - 0.0001 * i for i in range(10)]
    reps = 4000
    any_pass = 0
    for _ in range(reps):
        vs = [claims.Verdict(name=f"c{i}", kind="generic", p=float(p), alpha=a)
              for i, (p, a) in enumerate(zip(rng.uniform(size=10), alphas))]
        any_pass += any(v.passed for v in claims.finalize(vs))
    assert any_pass / reps <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)


def test_holm_reachability_makes_a_claim_undecidable() -> None:
    """Two claims at 1e-4 whose tests cannot go below 2^-14: alone each could pass, together
    Holm needs 2 x 2^-14 < 1e-4, which no data can give: both are undecidable, with power 0."""
    vs = [claims.Verdict(name=f"c{i}", kind="generic", p=2.0**-14, alpha=1e-4,
                         details={"p_floor": 2.0**-14, "floor_kind": "sign", "nonzero_units": 14, "zero_units": 0})
          for i in range(2)]
    assert claims.finalize(vs[:1])[0].passed is True
    out = claims.finalize(vs)
    assert all(v.outcome == "undecidable" and v.passed is None and v.power == 0 for v in out)
    assert "needs 15 non-zero tasks, has 14" in out[0].skip_reason and "0.000122 after Holm across 2 claims, is not below alpha 0.0001" in out[0].skip_reason
    assert claims.finalize(out) == out


def test_permutation_test_matches_enumeration() -> None:
    d = np.array([0.3, -0.1, 0.2, 0.25, 0.05])
    flips = np.array([[(-1) ** ((k >> j) & 1) for j in range(5)] for k in range(32)])
    expect = np.mean(flips @ d >= d.sum() - 1e-12)
    assert inference.sign_flip_units(d).p == pytest.approx(expect)
    assert math.isclose(inference.sign_flip_units(np.full(5, 0.1)).p, 1 / 32)


def test_unit_is_declared_per_claim() -> None:
    """unit= names what the claim generalises over: a field (domain here), or "stream" for
    records that carry a stream_id (skipped, saying so, where they do not)."""
    recs = [make_record(task_id=f"t{i}", domain=f"d{i % 6}", seed=0, protocol=p,
                        quality={"judge_q": 0.5 + 0.1 * (p == "A") + 0.01 * i}) for i in range(12) for p in "AB"]
    t = Trials(recs)
    by_domain = claims.beats(t, "A", "B", unit="domain")
    assert by_domain.unit.startswith("domains (12 domain x task x seed pairs")
    assert by_domain.n == 6 and by_domain.p == pytest.approx(1 / 64)
    s = claims.beats(t, "A", "B", unit="stream")
    assert s.passed is None and "some trials have no stream_id" in s.skip_reason


def test_finalize_recomputes_power_at_the_holm_alpha(make_study) -> None:
    alone = claims.beats(make_study, "A", "B")
    fam = claims.finalize([alone, claims.beats(make_study, "B", "A"), claims.beats(make_study, "A", "B", test="t")])
    assert "alpha 0.05/3 (Holm)" in fam[0].message
    assert fam[0].power == pytest.approx(power.power_units(fam[0].details["power_spec"]["d"], 8, 0.05 / 3, "mean"))
    assert claims.finalize(fam) == fam  # idempotent
    # Holm compares the k-th smallest p (from 0) at alpha / (m - k): the power printed is the
    # power at that step, so the largest p of three is judged at alpha / 1
    last = max(range(3), key=lambda i: fam[i].p)
    if fam[last].power is not None and "power_spec" in fam[last].details:
        assert "(Holm)" not in fam[last].details.get("power_basis", "")


def test_plans_use_the_effects_lower_bound_and_the_observed_share_of_ties() -> None:
    rng = np.random.default_rng(8)
    diffs = list(rng.normal(0.08, 0.1, 12)) + [0.0] * 8  # 8 of 20 tasks tie
    v = claims.beats(_paired({f"t{i:02d}": [x] for i, x in enumerate(diffs)}), "A", "B")
    spec = v.details["power_spec"]
    assert spec["tie_share"] == pytest.approx(0.4) and spec["d_lcb"] < spec["d"]
    pl = claims.plan(v)
    assert pl.basis.startswith("lower 80% confidence bound") and "40% of units tied" in pl.note
    base = claims.required_n("paired", alpha=0.05, effect=spec["d_lcb"])
    assert spec["d_lcb"] > 0 and pl.n_needed == math.ceil(base / 0.6)
    declared = claims.plan(claims.beats(_paired({f"t{i:02d}": [x] for i, x in enumerate(diffs)}), "A", "B",
                                        expected_d=0.5))
    assert declared.basis == "declared expected effect"
