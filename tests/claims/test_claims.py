"""sorg.claims: each claim kind passes and fails where it should, skips on missing data,
Holm across the session decides, and the messages read as sentences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sorg import claims, stats  # noqa: E402
from sorg.claims.verdict import _fp  # noqa: E402
from sorg.results import Trials
from sorg.stats.blocked import friedman_perm  # noqa: E402
from tests.fakes.sorg_synth import make_record, synth

N_BOOT = 400


@pytest.fixture(scope="module")
def study() -> Trials:
    """Three protocols x two models x three team sizes, 16 tasks x 3 seeds; sequential is
    +0.08 over coordinator, shared -0.1; quality flat in team size; cost ~ n**0.5;
    model b is 24x cheaper and 5% worse."""
    return Trials(synth(n_tasks=16, protocols={"sequential": 0.08, "coordinator": 0.0, "shared": -0.1},
                        models={"fake/a": 0.0, "fake/b": -0.025}, sizes=(4, 8, 256), seeds=3,
                        model_cost={"fake/a": 0.024, "fake/b": 0.001}, rng_seed=3))


# ----------------------------------------------------------------- decorator


def test_claim_decorator_marks_function() -> None:
    @claims.claim
    def test_x(trials):
        return claims.skip("n/a")

    assert test_x.__sorg_claim__ is True
    assert any(m.name == "sorg_claim" for m in test_x.pytestmark)
    assert test_x(None).passed is None


# ----------------------------------------------------------------- beats


def test_beats_paired_passes_with_message(study: Trials) -> None:
    v = claims.beats(study, "sequential", "coordinator", alpha=0.001, n_boot=N_BOOT)
    assert v.passed is True and v.kind == "beats"
    assert v.test.startswith("exact sign-flip test of the mean (one-sided, H0: difference <= 0)")
    # matched like for like (task x seed x model x team size), judged over the 16 tasks
    assert v.n == 16 and v.details["n_pairs"] == 16 * 3 * 2 * 3
    assert v.details["pair_by"] == ["task_id", "seed", "model", "n_agents"]
    assert v.estimate == pytest.approx(0.08, abs=0.01)
    assert v.ci[0] < v.estimate < v.ci[1]
    assert v.means["sequential"] > v.means["coordinator"]
    assert v.means["sequential"] - v.means["coordinator"] == pytest.approx(v.estimate)
    m = v.message
    for part in ("sequential beats coordinator on quality.judge_q", "95% CI",
                 "sign-flip interval (inverted test) over 16 tasks", "exact sign-flip test of the mean", "16 tasks (288 task x seed x model x team size pairs",
                 "not yet Holm-adjusted", "alpha 0.001? yes", "PASSED", "d_z=", "post-hoc power"):
        assert part in m, (part, m)


def test_beats_fails_in_the_wrong_direction_and_below_min_effect(study: Trials) -> None:
    v = claims.beats(study, "coordinator", "sequential", n_boot=N_BOOT)
    assert v.passed is False and v.estimate < 0 and v.p > 0.5
    assert "FAILED" in v.message
    # min_effect is the null tested (difference <= 0.2), not a side criterion
    w = claims.beats(study, "sequential", "coordinator", min_effect=0.2, n_boot=N_BOOT)
    assert w.p > 0.5 and w.passed is False
    assert "by more than 0.2" in w.message and "H0: difference <= 0.2" in w.message
    assert claims.beats(study, "sequential", "coordinator", min_effect=0.05).passed is True


def test_beats_paired_t_and_task_unit(study: Trials) -> None:
    t = claims.beats(study, "sequential", "coordinator", test="t", n_boot=N_BOOT)
    assert t.test.startswith("t test of the mean (15 df) (one-sided") and t.passed and t.n == 16
    u = claims.beats(study, "sequential", "coordinator", unit="pair", n_boot=N_BOOT)
    assert u.n == 288 and "pairs treated as independent" in u.unit
    # pairs as independent units: many more units, a far smaller p (what unit="task" corrects)
    assert u.p < claims.beats(study, "sequential", "coordinator", n_boot=N_BOOT).p


def test_beats_scoped_by_model(study: Trials) -> None:
    v = claims.beats(study, "sequential", "coordinator", model="fake/b", n_boot=N_BOOT)
    assert v.n == 16 and v.details["n_pairs"] == 16 * 3 * 3 and "model='fake/b'" in v.statement


def test_beats_without_shared_cells_skips_and_paired_false_matches_tasks() -> None:
    """No task x seed cell shared: no unpaired test over trials (it would ignore clustering);
    paired=False matches at the task level (seeds averaged) instead."""
    recs = [make_record(task_id=f"t{i % 5}", seed=i, protocol="A", quality={"judge_q": 0.7 + 0.01 * (i % 3)}) for i in range(15)]
    recs += [make_record(task_id=f"t{i % 5}", seed=100 + i, protocol="B", quality={"judge_q": 0.5 + 0.01 * (i % 4)}) for i in range(15)]
    v = claims.beats(Trials(recs), "A", "B", n_boot=N_BOOT)
    assert v.passed is None and "no task x seed cell shared" in v.skip_reason and "15 and 15 trials unmatched" in v.skip_reason
    w = claims.beats(Trials(recs), "A", "B", paired=False)
    assert w.n == 5 and w.details["pair_by"] == ["task_id"] and w.p == pytest.approx(1 / 32) and w.passed


def test_beats_missing_arm_is_skipped_naming_it(study: Trials) -> None:
    v = claims.beats(study, "sequential", "coordinator", model="openai/gpt-4o")
    assert v.passed is None
    assert v.skip_reason == "no trials for protocol='sequential' model='openai/gpt-4o' in this run"
    v = claims.beats(study, "sequential", "dynamic")
    assert v.skip_reason == "no trials for protocol='dynamic' in this run"
    assert v.message.startswith("SKIPPED")


def test_beats_missing_judge_scores_is_skipped(study: Trials) -> None:
    v = claims.beats(study, "sequential", "coordinator", metric="quality.judge")
    assert v.passed is None and "no 'quality.judge' values" in v.skip_reason and "judge model" in v.skip_reason


def test_incomplete_trials_are_excluded_and_counted() -> None:
    recs = synth(n_tasks=6, seeds=2)
    recs += [make_record(task_id="t000", protocol="sequential", seed=9, status="budget", quality={"judge_q": 0.0})]
    v = claims.beats(Trials(recs), "sequential", "coordinator", n_boot=N_BOOT)
    assert v.details["incomplete"] == 1 and "1 incomplete trial (error/budget) excluded" in v.message
    assert v.n == 6 and v.details["n_pairs"] == 12


# ----------------------------------------------------------------- spread


def test_spread(study: Trials) -> None:
    # pooled d between extremes includes between-task variance (task SD 0.15 here)
    v = claims.spread(study, min_d=0.5, min_rel_gap=0.2, n_boot=N_BOOT)
    assert v.passed is True
    assert v.details["best"] == "sequential" and v.details["worst"] == "shared"
    assert v.estimate == pytest.approx(v.means["sequential"] - v.means["shared"])
    # blocked by task: Friedman on the 16 x 3 matrix of task means
    cols = [[np.mean(study.where(protocol=p, task_id=t).values("quality.judge_q")) for t in study.distinct("task_id")]
            for p in ("sequential", "coordinator", "shared")]
    assert v.p == pytest.approx(friedman_perm(np.column_stack(cols)).p)
    assert "Friedman test (exact permutation distribution) blocked by task across 3 groups" in v.message and "d >= 0.5? yes" in v.message
    assert "simultaneous CI (Bonferroni over 3 contrasts)" in v.message
    big = claims.spread(study, min_d=10.0, n_boot=N_BOOT)
    assert big.passed is False and "d >= 10? no" in big.message


def test_spread_needs_two_groups(study: Trials) -> None:
    v = claims.spread(study, protocol="sequential")
    assert v.passed is None and "need at least 2 protocol groups" in v.skip_reason


# ----------------------------------------------------------------- equivalent


def test_equivalent_within_margin(study: Trials) -> None:
    v = claims.equivalent(study, "n_agents", 4, 256, margin=0.05, n_boot=N_BOOT)
    assert v.passed is True and v.test.startswith("TOST")
    lo, hi = v.details["ci_tost"]
    assert -0.05 < lo and hi < 0.05
    assert "difference_test" in v.details
    assert "margin +-0.05" in v.message


def test_equivalent_fails_when_margin_too_tight_or_real_drop() -> None:
    t = Trials(synth(n_tasks=12, sizes=(4, 256), size_effect=-0.02, seeds=2))  # -0.12 at 256
    v = claims.equivalent(t, "n_agents", 4, 256, margin=0.05, n_boot=N_BOOT)
    assert v.passed is False and v.estimate == pytest.approx(-0.12, abs=0.02)
    with pytest.raises(ValueError, match="margin"):
        claims.equivalent(t, "n_agents", 4, 256, margin=0)
    with pytest.raises(TypeError):
        claims.equivalent(t, "n_agents", 4, 256)  # type: ignore[call-arg]


def test_equivalent_missing_level(study: Trials) -> None:
    v = claims.equivalent(study, "n_agents", 4, 64, margin=0.05)
    assert v.skip_reason == "no trials for n_agents=64 in this run"


# ----------------------------------------------------------------- growth


def test_growth_sublinear_and_superlinear() -> None:
    sub = Trials(synth(n_tasks=10, sizes=(4, 8, 16, 64, 256), cost_exp=0.4, seeds=2))
    v = claims.growth(sub, "n_agents", "cost_usd", below=1.0, n_boot=N_BOOT)
    assert v.passed is True and v.estimate == pytest.approx(0.4, abs=0.02)
    assert v.ci[0] < 0.4 < v.ci[1]
    assert v.details["growth"] == pytest.approx(100 * (256 / 4) ** 0.4 - 100, rel=0.1)
    sup = Trials(synth(n_tasks=10, sizes=(4, 8, 16, 64, 256), cost_exp=1.2, seeds=2))
    w = claims.growth(sup, below=1.0, n_boot=N_BOOT)
    assert w.passed is False and w.p > 0.5
    assert "slope of log cost_usd on log n_agents" in w.message


def test_growth_needs_two_levels(study: Trials) -> None:
    v = claims.growth(study, n_agents=4)
    assert v.passed is None and "2 or more values of n_agents" in v.skip_reason


# ----------------------------------------------------------------- ratio


def test_ratio_quality_and_cost(study: Trials) -> None:
    q = claims.ratio(study, "fake/b", "fake/a", "quality.judge_q", at_least=0.9, n_boot=N_BOOT)
    assert q.passed is True and 0.9 < q.estimate < 1.0
    c = claims.ratio(study, "fake/a", "fake/b", "cost_usd", at_least=20, n_boot=N_BOOT)
    assert c.passed is True and c.estimate == pytest.approx(24, rel=0.05)
    c30 = claims.ratio(study, "fake/a", "fake/b", "cost_usd", at_least=30, n_boot=N_BOOT)
    assert c30.passed is False
    both = claims.ratio(study, "fake/a", "fake/b", "cost_usd", at_least=20, at_most=22, n_boot=N_BOOT)
    assert both.passed is False
    with pytest.raises(ValueError):
        claims.ratio(study, "fake/a", "fake/b", "cost_usd")


def test_ratio_lists_of_models_and_missing(study: Trials) -> None:
    v = claims.ratio(study, ["fake/b"], ["fake/a", "fake/x"], "cost_usd", at_most=0.1, n_boot=N_BOOT)
    assert v.passed is True
    one = claims.ratio(study, "fake/b", "fake/a", at_least=0.5, task_id="t000")
    assert one.outcome == "undecidable" and "needs 5 non-zero tasks, has 1" in one.skip_reason
    m = claims.ratio(study, "open/llama", "fake/a", at_least=0.95)
    assert m.skip_reason == "no trials for model='open/llama' in this run"


# ----------------------------------------------------------------- count


def test_count_distinct_roles_and_abstention(make) -> None:
    recs = [make(task_id=f"t{i % 6}", seed=i, roles=(f"r{i}", "planner"), abstention_rate=0.1 * (i % 3 != 0)) for i in range(12)]
    t = Trials(recs)
    v = claims.count(t, "unique_roles", at_least=13)
    assert v.estimate == 13 and v.passed is True and v.p is None
    assert claims.count(t, "unique_roles", at_least=14).passed is False
    a = claims.count(t, "abstention_rate", at_least=0.0, n_boot=N_BOOT)
    # two of the six tasks sit exactly at the null: 4 non-zero tasks cannot reach 2^-4 < 0.05
    assert a.passed is None and a.outcome == "undecidable" and "needs 5 non-zero tasks, has 4" in a.skip_reason
    t8 = Trials(recs + [make(task_id=f"t{6 + i}", seed=0, abstention_rate=0.1) for i in range(3)])
    a8 = claims.count(t8, "abstention_rate", at_least=0.0)
    assert a8.passed is True and a8.estimate == pytest.approx((0.8 / 12 * 6 + 0.3) / 9)
    none = Trials([make(seed=i, task_id=f"t{i}") for i in range(6)])
    assert claims.count(none, "abstention_rate", at_least=0.0).outcome == "undecidable"
    anyv = claims.count(t, "abstention_rate", at_least=8, agg="any")
    assert anyv.estimate == 8 and anyv.passed


# ----------------------------------------------------------------- session


def test_finalize_applies_holm_and_can_flip_a_pass(study: Trials) -> None:
    borderline = [make_record(task_id=f"t{i}", seed=0, protocol="A", quality={"judge_q": 0.5 + (0.02 if i < 8 else -0.01)})
                  for i in range(12)]
    borderline += [make_record(task_id=f"t{i}", seed=0, protocol="B", quality={"judge_q": 0.5}) for i in range(12)]
    weak = claims.beats(Trials(borderline), "A", "B", alpha=0.05, n_boot=N_BOOT)
    assert 0.01 < weak.p < 0.05 and weak.passed is True
    strong = claims.beats(study, "sequential", "coordinator", n_boot=N_BOOT)
    roles = claims.count(study, at_least=1)
    skipped = claims.skip("needs API keys")
    flat = claims.beats(study, "coordinator", "sequential", n_boot=N_BOOT)
    out = claims.finalize([weak, strong, roles, skipped, flat])
    expect = stats.holm([weak.p, strong.p, flat.p])
    assert [out[0].p_holm, out[1].p_holm, out[4].p_holm] == pytest.approx(expect)
    assert out[0].passed is False  # adjusted across 3 p-values it no longer clears 0.05
    assert out[1].passed is True and out[2].passed is True and out[3].passed is None and out[4].passed is False
    assert out[2].p_holm is None and out[3].p_holm is None
    assert all(v.n_family == 3 for v in (out[0], out[1], out[4]))
    assert "Holm-adjusted" in out[0].message and "across 3 claims" in out[0].message
    assert claims.finalize(out) == out  # idempotent


def test_finalize_rejects_non_verdicts() -> None:
    with pytest.raises(TypeError, match="item 0"):
        claims.finalize([None])  # type: ignore[list-item]


def test_to_dict_is_json(study: Trials) -> None:
    vs = claims.finalize([claims.beats(study, "sequential", "coordinator", n_boot=N_BOOT),
                          claims.equivalent(study, margin=0.05, n_boot=N_BOOT), claims.skip("why")])
    for v in vs:
        d = json.loads(json.dumps(v.to_dict(), allow_nan=False))
        assert d["message"] == v.message and d["passed"] == v.passed and d["name"] == v.name
    assert vs[0].named("evals/test_claims.py::test_x").name == "evals/test_claims.py::test_x"


def test_plan_needs_more_for_smaller_effects(study: Trials) -> None:
    v = claims.finalize([claims.beats(study, "sequential", "coordinator", alpha=0.001, n_boot=N_BOOT)])[0]
    p = claims.plan(v)
    assert p.design == "paired" and p.n_needed is not None and p.n_needed >= 2
    small = claims.plan(v, effect=0.2)
    assert small.n_needed == claims.required_n("paired", alpha=0.001, effect=0.2) and small.unit == "tasks"
    assert claims.plan(v, effect=0.1).n_needed > small.n_needed
    assert claims.plan(claims.skip("x")).n_needed is None
    eq = claims.plan(claims.equivalent(study, margin=0.02, n_boot=N_BOOT))
    assert eq.design == "tost" and eq.n_needed is not None


@pytest.fixture
def make():
    return make_record


def test_bootstrap_is_reproducible(study: Trials) -> None:
    a = claims.beats(study, "sequential", "coordinator", n_boot=N_BOOT)
    b = claims.beats(study, "sequential", "coordinator", n_boot=N_BOOT)
    assert a.ci == b.ci and a.effect_ci == b.effect_ci
    assert np.isfinite(a.ci).all()


def test_verdicts_do_not_depend_on_the_order_trials_arrived(study: Trials) -> None:
    """Under xdist trials reach the controller in any order; verdicts must be identical."""
    import random

    recs = list(study)
    random.Random(1).shuffle(recs)
    shuffled = Trials(recs)

    def judge(t):
        return claims.finalize([claims.beats(t, "sequential", "coordinator", n_boot=N_BOOT),
                                claims.spread(t, n_boot=N_BOOT), claims.equivalent(t, margin=0.05, n_boot=N_BOOT),
                                claims.growth(t, n_boot=N_BOOT),
                                claims.ratio(t, "fake/b", "fake/a", at_least=0.9, n_boot=N_BOOT)])

    assert [v.to_dict() for v in judge(study)] == [v.to_dict() for v in judge(shuffled)]


def test_cluster_codes_are_sorted_labels() -> None:
    codes, k = stats.cluster_codes(["t2", "t1", "t2", "t0"])
    assert k == 3 and codes.tolist() == [2, 1, 2, 0]


def test_plan_before_any_data_uses_declared_effect() -> None:
    empty = Trials([])
    v = claims.beats(empty, "sequential", "coordinator", alpha=0.001, expected_d=0.5)
    assert v.passed is None and v.skip_reason == "no trials for protocol='sequential' in this run"
    p = claims.plan(v, n_family=7)
    assert p.basis == "declared expected effect" and p.n_now == 0 and p.enough is False
    assert p.n_needed == claims.required_n("paired", alpha=0.001, effect=0.5, n_family=7)
    assert p.trials_needed is None  # no pilot: trials per task unknown
    assert claims.plan(claims.beats(empty, "a", "b")).n_needed is None
    eq = claims.plan(claims.equivalent(empty, margin=0.05, expected_sd=0.1))
    assert eq.design == "tost" and eq.n_needed == claims.required_n("tost", alpha=0.05, sd=0.1, margin=0.05)
    assert claims.spread(empty).skip_reason == "no trials in this run"


def test_required_n_known_values() -> None:
    # G*Power, one-tailed t: d=0.5, alpha=0.05, power 0.8 -> 27 pairs, 51 per group
    assert claims.required_n("paired", alpha=0.05, effect=0.5, test="t") == 27
    assert claims.required_n("two_sample", alpha=0.05, effect=0.5, test="t") == 51
    assert claims.required_n("paired", alpha=0.05, effect=0.5, test="t", n_family=5) == \
        stats.n_paired_for_power(0.5, 0.01, 0.8, "t")
    assert claims.required_n("tost", alpha=0.05, sd=1.0, margin=1.0) == 11  # exact TOST power
    with pytest.raises(ValueError, match="unknown design"):
        claims.required_n("anova", alpha=0.05, effect=0.5)


def test_tiny_p_values_are_written_as_bounds(study: Trials) -> None:
    v = claims.finalize([claims.beats(study, "sequential", "shared", test="t", n_boot=N_BOOT)])[0]
    assert v.p == 2.0**-16 and "raised to the sign-flip floor 2^-16" in v.message  # no t p below the floor
    assert "p=0 " not in v.message and "p=0.0000" not in v.message
    assert _fp(0.0) == "<1e-300" and _fp(3.2e-7) == "3.2e-07" and _fp(0.0004) == "0.0004"


def test_spread_friedman_blocks_by_task(study: Trials) -> None:
    v = claims.spread(study, test="friedman", n_boot=N_BOOT)
    assert v.test == "Friedman test (exact permutation distribution) blocked by task" and v.passed is True
    assert v.n == 16 and v.unit == "tasks shared by all 3 groups (blocks)"
    assert 0 < v.details["kendall_w"] <= 1
    two = claims.spread(study, test="friedman", protocol=["sequential", "shared"])
    assert two.passed is None and "at least 3" in two.skip_reason


def test_spread_with_equal_means_names_two_groups(make) -> None:
    t = Trials([make(protocol=p, seed=s, task_id=f"t{s}") for p in ("a", "b") for s in range(4)])
    v = claims.spread(t, n_boot=N_BOOT)
    assert {v.details["best"], v.details["worst"]} == {"a", "b"} and v.outcome == "undecidable"
