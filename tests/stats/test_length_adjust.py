"""Protocol effects raw and adjusted for answer length (`sorg.stats.length_adjust`), on
synthetic trials whose truth is planted: an effect made only of length shrinks to about zero
once length is held fixed, an effect that does not go through length survives, and every
degenerate input gives a reason instead of a number or a crash."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorg.stats.length_adjust import Obs, length_effects

ORDER = ("coordinator", "sequential", "broadcast")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def world(effect: dict[str, float], chars: dict[str, float], slope: float, *, tasks: int = 16, seeds: int = 2,
          noise: float = 0.05, spread: float = 0.4, seed: int = 7) -> list[Obs]:
    """Trials with value = task difficulty + effect[p] + slope * log(1 + chars) + noise, where
    each protocol's length scatters log-normally around chars[p]."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(tasks):
        hard = rng.normal(0, 1)
        for s in range(seeds):
            for p in effect:
                c = int(chars[p] * math.exp(rng.normal(0, spread)))
                out.append(Obs(p, f"t{t}", s, 4, hard + effect[p] + slope * math.log1p(c) + rng.normal(0, noise), c))
    return out


def by_protocol(res):
    return {e.protocol: e for e in res.effects}


def covers(ci, x: float) -> bool:
    return ci is not None and ci[0] <= x <= ci[1]


def test_an_effect_made_only_of_length_shrinks_to_zero_once_length_is_fixed() -> None:
    # sequential hands in three times the text and scores higher only through the slope.
    obs = world({"coordinator": 0.0, "sequential": 0.0}, {"coordinator": 300, "sequential": 900}, slope=0.2)
    res = length_effects(obs, ORDER)
    e = by_protocol(res)["sequential"]
    assert res.reference == "coordinator"
    assert e.raw.estimate is not None and e.raw.ci is not None and e.raw.ci[0] > 0.1  # raw: clearly positive
    assert e.adjusted.estimate is not None and abs(e.adjusted.estimate) < 0.05
    assert covers(e.adjusted.ci, 0.0)
    assert covers(res.slope.ci, 0.2)
    assert e.mean_chars is not None and res.reference_chars is not None and e.mean_chars > 2 * res.reference_chars


def test_an_effect_independent_of_length_survives_the_adjustment() -> None:
    obs = world({"coordinator": 0.0, "broadcast": 0.1}, {"coordinator": 300, "broadcast": 300}, slope=0.2)
    e = by_protocol(length_effects(obs, ORDER))["broadcast"]
    for est in (e.raw, e.adjusted):
        assert est.estimate is not None and abs(est.estimate - 0.1) < 0.04
        assert est.ci is not None and est.ci[0] > 0  # excludes zero
    assert covers(e.adjusted.ci, 0.1)


def test_a_real_effect_hidden_by_shorter_answers_appears_once_length_is_fixed() -> None:
    # broadcast is better by 0.1 but writes a third as much: raw says "worse or nothing".
    obs = world({"coordinator": 0.0, "broadcast": 0.1}, {"coordinator": 900, "broadcast": 300}, slope=0.2)
    e = by_protocol(length_effects(obs, ORDER))["broadcast"]
    assert e.raw.estimate is not None and e.raw.estimate < 0
    assert covers(e.adjusted.ci, 0.1) and e.adjusted.ci is not None and e.adjusted.ci[0] > 0


def test_raw_is_the_mean_paired_difference_with_each_arm_averaged_per_block() -> None:
    obs = [Obs("coordinator", "a", 0, 4, 0.5, 100), Obs("sequential", "a", 0, 4, 0.7, 100),
           Obs("sequential", "a", 0, 4, 0.9, 100),  # two trials of one block: averaged to 0.8
           Obs("coordinator", "b", 0, 4, 0.2, 100), Obs("sequential", "b", 0, 4, 0.3, 100),
           Obs("coordinator", "b", 1, 4, 0.4, 100),  # no partner: not a pair
           Obs("sequential", "c", 0, 8, 0.9, 100)]  # no partner either
    e = by_protocol(length_effects(obs, ORDER))["sequential"]
    assert e.pairs == 2 and e.tasks == 2 and e.trials == 4
    assert e.raw.estimate == pytest.approx(((0.8 - 0.5) + (0.3 - 0.2)) / 2)
    # CR1 over 2 tasks, one pair each: se = |d1 - d2| / 2, t with 1 df.
    se = abs(0.3 - 0.1) / 2
    assert e.raw.ci == pytest.approx((0.2 - 12.7062047 * se, 0.2 + 12.7062047 * se))


def test_the_fixed_effects_fit_equals_ols_with_explicit_block_dummies_and_its_cluster_robust_se() -> None:
    rng = random.Random(3)
    obs = world({"coordinator": 0.0, "sequential": 0.05, "broadcast": -0.05},
                {"coordinator": 300, "sequential": 600, "broadcast": 200}, slope=0.1, tasks=6, noise=0.1)
    obs = [o for o in obs if rng.random() > 0.15 or o.protocol == "coordinator"]  # unbalanced blocks
    res = length_effects(obs, ORDER)
    blocks = sorted({(o.task_id, o.seed) for o in obs})
    cols = ["sequential", "broadcast"]
    x = np.array([[float(o.protocol == p) for p in cols] + [math.log1p(o.chars)] +
                  [float((o.task_id, o.seed) == b) for b in blocks] for o in obs])
    y = np.array([o.value for o in obs])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    got = by_protocol(res)
    assert [got[p].adjusted.estimate for p in cols] + [res.slope.estimate] == pytest.approx(beta[:3], abs=1e-10)
    # CR1 by task with the fixed effects nested in the clusters; small-sample factor over the 3 slopes.
    u = y - x @ beta
    tasks = sorted({o.task_id for o in obs})
    xtx_inv = np.linalg.pinv(x.T @ x)
    meat = sum(np.outer(s, s) for s in (x[[o.task_id == t for o in obs]].T @ u[[o.task_id == t for o in obs]]
                                        for t in tasks))
    g, n = len(tasks), len(obs)
    se = np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv)[:3] * g / (g - 1) * (n - 1) / (n - 3))
    from scipy.stats import t as student

    half = student.ppf(0.975, g - 1) * se
    cis = [got[p].adjusted.ci for p in cols] + [res.slope.ci]
    for ci, b, h in zip(cis, beta[:3], half):
        assert ci == pytest.approx((b - h, b + h), rel=1e-8)


def test_constant_length_gives_a_raw_effect_and_no_adjusted_one_with_the_reason() -> None:
    obs = world({"coordinator": 0.0, "sequential": 0.1}, {"coordinator": 300, "sequential": 300}, slope=0.0,
                spread=0.0)
    res = length_effects(obs, ORDER)
    e = by_protocol(res)["sequential"]
    assert e.raw.estimate is not None and e.raw.ci is not None
    assert e.adjusted.estimate is None and "length does not vary" in e.adjusted.reason
    assert res.slope.estimate is None and res.slope.reason == e.adjusted.reason


def test_length_that_only_the_protocol_explains_is_not_adjusted_for() -> None:
    # Every sequential answer is exactly 3x the coordinator's of its block: a shift per protocol.
    obs = []
    for t in range(5):
        obs += [Obs("coordinator", f"t{t}", 0, 4, 0.1 * t, 100), Obs("sequential", f"t{t}", 0, 4, 0.1 * t + 0.2, 300)]
    e = by_protocol(length_effects(obs, ORDER))["sequential"]
    assert e.raw.estimate == pytest.approx(0.2)
    assert e.adjusted.estimate is None and "length does not vary within blocks" in e.adjusted.reason


def test_degenerate_inputs_say_why_instead_of_failing() -> None:
    assert length_effects([], ORDER).reason == "no trials with a value for this metric"
    one = [Obs("coordinator", "a", 0, 4, 0.5, 10)]
    res = length_effects(one, ORDER)
    assert res.reference == "coordinator" and res.effects == () and "only the reference" in res.reason
    # The named reference never ran: every effect says so.
    obs = world({"sequential": 0.0, "broadcast": 0.0}, {"sequential": 300, "broadcast": 300}, slope=0.1, tasks=3)
    res = length_effects(obs, ORDER, reference="coordinator")
    assert res.reason == "the reference protocol 'coordinator' has no trials with a value"
    assert all(e.raw.estimate is None and e.adjusted.estimate is None for e in res.effects)
    # Without a name, the first declared protocol present is the reference.
    assert length_effects(obs, ORDER).reference == "sequential"
    assert length_effects(obs, ()).reference == "broadcast"  # none declared: alphabetical
    # A protocol that never shared a block with the reference.
    lone = world({"coordinator": 0.0, "sequential": 0.0}, {"coordinator": 300, "sequential": 300}, slope=0.1)
    lone += [Obs("broadcast", "t0", 0, 16, 0.3, 200)]
    e = by_protocol(length_effects(lone, ORDER))["broadcast"]
    assert e.pairs == 0 and e.raw.estimate is None and "never ran beside 'coordinator'" in e.raw.reason
    assert e.adjusted.estimate is None and e.trials == 1 and e.mean_chars == 200


def test_one_task_gives_estimates_without_intervals_and_too_few_blocks_no_adjustment() -> None:
    obs = world({"coordinator": 0.0, "sequential": 0.1}, {"coordinator": 300, "sequential": 600}, slope=0.1,
                tasks=1, seeds=6)
    res = length_effects(obs, ORDER)
    e = by_protocol(res)["sequential"]
    assert e.raw.estimate is not None and e.raw.ci is None and e.raw.reason == "no CI (1 task)"
    assert e.adjusted.estimate is not None and e.adjusted.ci is None and e.adjusted.reason == "no CI (1 task)"
    two = [o for o in obs if o.seed < 2]  # 2 blocks of 2 cells: 4 - 2 - 2 = 0 residual df
    e = by_protocol(length_effects(two, ORDER))["sequential"]
    assert e.raw.estimate is not None and e.adjusted.estimate is None and "too few trials" in e.adjusted.reason


def test_non_finite_values_are_left_out_and_a_negative_length_is_an_error() -> None:
    obs = world({"coordinator": 0.0, "sequential": 0.1}, {"coordinator": 300, "sequential": 300}, slope=0.1, tasks=4)
    nan = [*obs, Obs("sequential", "t0", 0, 4, math.nan, 5)]
    assert length_effects(nan, ORDER).to_dict() == length_effects(obs, ORDER).to_dict()
    with pytest.raises(ValueError, match="answer length -1 < 0"):
        length_effects([*obs, Obs("sequential", "t9", 0, 4, 0.2, -1)], ORDER)


# --------------------------------------------------------------------------- properties
@st.composite
def planted(draw):
    """A noise-free world: value = block level + effect[p] + slope * log(1 + chars) exactly,
    lengths drawn freely per trial (so the slope is identified), some cells missing."""
    tasks = draw(st.integers(3, 6))
    effects = {"coordinator": 0.0, "sequential": draw(st.integers(-8, 8)) / 16,
               "broadcast": draw(st.integers(-8, 8)) / 16}
    slope = draw(st.integers(-8, 8)) / 16
    obs = []
    for t in range(tasks):
        for s in range(2):
            level = draw(st.integers(-4, 4)) / 4
            for p, eff in effects.items():
                if p != "coordinator" and draw(st.integers(0, 5)) == 0:
                    continue
                c = draw(st.integers(0, 5000))
                obs.append(Obs(p, f"t{t}", s, 4, level + eff + slope * math.log1p(c), c))
    return obs, effects, slope


@FAST
@given(planted())
def test_a_noise_free_world_gives_back_its_planted_effects_and_slope(world_) -> None:
    obs, effects, slope = world_
    res = length_effects(obs, ORDER)
    if res.slope.estimate is None:  # lengths the protocols happen to explain: said, not guessed
        assert res.slope.reason
        return
    assert res.slope.estimate == pytest.approx(slope, abs=1e-7)
    for e in res.effects:
        if e.adjusted.estimate is not None:
            assert e.adjusted.estimate == pytest.approx(effects[e.protocol], abs=1e-7)


@FAST
@given(planted(), st.randoms(use_true_random=False), st.integers(-16, 16))
def test_order_of_trials_and_a_shift_of_every_score_change_nothing(world_, rnd, k) -> None:
    obs, _, _ = world_
    shuffled = list(obs)
    rnd.shuffle(shuffled)
    a, b = length_effects(obs, ORDER).to_dict(), length_effects(shuffled, ORDER).to_dict()
    assert a == b
    shifted = length_effects([Obs(o.protocol, o.task_id, o.seed, o.n_agents, o.value + k / 8, o.chars) for o in obs],
                             ORDER)
    for e, f in zip(length_effects(obs, ORDER).effects, shifted.effects):
        for x, y in ((e.raw, f.raw), (e.adjusted, f.adjusted)):
            assert (x.estimate is None) == (y.estimate is None)
            if x.estimate is not None:
                assert y.estimate == pytest.approx(x.estimate, abs=1e-9)
