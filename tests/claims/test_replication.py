"""Replication claims (issue 24 section 3): the paper's null at the paper's alpha, and a second
statement of whether the estimate is compatible with the paper's figure; the capability
threshold as an interaction; and every claim kind deciding by the interval it prints
(issue 27 item 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sorg
from sorg import claims
from sorg.results import Trials
from tests.fakes.sorg_synth import make_record


def _pairs(gain: float, g: int = 16, noise: float = 0.02, seed: int = 0) -> Trials:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.5, 0.8, g)
    recs = []
    for i, b in enumerate(base):
        recs.append(make_record(task_id=f"t{i:02d}", protocol="coordinator", quality={"q": float(b)}))
        recs.append(make_record(task_id=f"t{i:02d}", protocol="sequential",
                                quality={"q": float(b * (1 + gain + rng.normal(0, noise)))}))
    return Trials(recs)


def _beats(t: Trials, **kw) -> claims.Verdict:
    return claims.beats(t, "sequential", "coordinator", metric="quality.q", **kw)


def test_the_papers_own_gain_replicates_and_a_smaller_one_is_significant_but_not_compatible() -> None:
    v = claims.finalize([_beats(_pairs(0.14), alpha=0.001, paper_rel_effect=0.14)])[0]
    assert v.passed is True and v.details["compatible"] is True
    assert "H0: difference <= 0" in v.test  # the paper's null, not its point estimate
    assert "replicated: significant, compatible with +14%" in v.message
    small = claims.finalize([_beats(_pairs(0.04, noise=0.01), alpha=0.001, paper_rel_effect=0.14)])[0]
    assert small.passed is True and small.details["compatible"] is False
    assert "significant, not compatible with +14% (95% CI +" in small.message
    null = claims.finalize([_beats(_pairs(0.0), alpha=0.001, paper_rel_effect=0.14)])[0]
    assert null.passed is False and null.message.rstrip().find("not significant") > 0
    plain = _beats(_pairs(0.14), alpha=0.001)
    assert "compatible" not in plain.details and "replicated" not in plain.message


def test_min_rel_effect_still_tests_the_margin_as_the_null() -> None:
    v = _beats(_pairs(0.14), alpha=0.001, min_rel_effect=0.14)
    assert v.passed is False and "A - 1.14 x B <= 0" in v.test


def test_spread_ratio_and_count_state_compatibility() -> None:
    rng = np.random.default_rng(1)
    recs = []
    for i in range(16):
        base = rng.uniform(0.4, 0.6)
        for p, eff in (("sequential", 0.44), ("coordinator", 0.2), ("shared", 0.0)):
            recs.append(make_record(task_id=f"t{i:02d}", protocol=p, model="open", abstention_rate=0.45 + rng.normal(0, .02),
                                    quality={"judge_q": float(base * (1 + eff) + rng.normal(0, 0.01))}))
            recs.append(make_record(task_id=f"t{i:02d}", protocol=p, model="closed",
                                    quality={"judge_q": float(base * (1 + eff) / 0.95 + rng.normal(0, 0.01))}))
    t = Trials(recs)
    s = claims.spread(t.where(model="open"), contrast=("sequential", "shared"), alpha=0.0001, paper_rel_gap=0.44)
    assert s.passed is True and s.details["compatible"] is True and "exact sign-flip" in s.test
    assert s.power is not None and "contrast sequential vs shared" in s.details["power_basis"]
    far = claims.spread(t.where(model="open"), contrast=("sequential", "shared"), alpha=0.0001, paper_rel_gap=0.9)
    assert far.details["compatible"] is False
    r = claims.ratio(t, "open", "closed", at_least=0.9, paper_ratio=0.95)
    assert r.passed is True and r.details["compatible"] is True
    c = claims.count(t.where(model="open"), "abstention_rate", within=(0.35, 0.55), paper_value=0.45)
    assert c.passed is True and c.details["compatible"] is True and "compatible with 0.45" in c.message


def _capability(weak_gap: float, strong_gap: float, g: int = 14, seed: int = 2) -> Trials:
    """Q of fixed_roles minus sequential is `weak_gap` on the weak model, `strong_gap` on the strong."""
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(g):
        base = rng.uniform(0.4, 0.7)
        for model, gap in (("weak", weak_gap), ("strong", strong_gap)):
            for s in range(2):
                q = base + rng.normal(0, 0.01)
                recs.append(make_record(task_id=f"t{i:02d}", seed=s, model=model, protocol="sequential",
                                        quality={"judge_q": q}))
                recs.append(make_record(task_id=f"t{i:02d}", seed=s, model=model, protocol="fixed_roles",
                                        quality={"judge_q": q + gap + rng.normal(0, 0.01)}))
    return Trials(recs)


def test_interaction_passes_on_a_crossover_and_fails_without_one() -> None:
    assert sorg.interaction is claims.interaction
    v = claims.interaction(_capability(0.055, -0.02), factor="model", levels=("weak", "strong"), by="protocol",
                           a="fixed_roles", b="sequential")
    assert v.passed is True and v.kind == "interaction" and v.n == 14
    assert v.estimate == pytest.approx(0.075, abs=0.01) and v.ci[0] < v.estimate < v.ci[1]
    assert v.details["diff_at"]["weak"] > 0 > v.details["diff_at"]["strong"]
    assert "difference of differences" in v.message
    same = claims.interaction(_capability(0.03, 0.03), factor="model", levels=("weak", "strong"))
    assert same.passed is False
    missing = claims.interaction(_capability(0.03, 0.03), factor="model", levels=("weak", "huge"))
    assert missing.passed is None and "model='huge'" in missing.skip_reason


def test_bad_alpha_and_infinite_values_are_errors_in_every_kind() -> None:
    t = _pairs(0.1)
    for call in (lambda a: _beats(t, alpha=a), lambda a: claims.spread(t, metric="quality.q", alpha=a),
                 lambda a: claims.count(t, "abstention_rate", at_least=0, alpha=a),
                 lambda a: claims.interaction(_capability(0.05, 0.0), alpha=a)):
        with pytest.raises(ValueError, match="alpha"):
            call(1.5)
    bad = Trials([make_record(task_id="t0", protocol="A", quality={"q": math.inf}),
                  make_record(task_id="t0", protocol="B", quality={"q": 0.5})])
    with pytest.raises(ValueError, match="infinite"):
        claims.beats(bad, "A", "B", metric="quality.q")


unit_diffs = st.lists(st.integers(-6, 6).map(lambda k: k / 16), min_size=5, max_size=20)


@settings(max_examples=40, deadline=None)
@given(d=unit_diffs, test=st.sampled_from(["mean", "t", "permutation", "wilcoxon"]),
       alpha=st.sampled_from([0.05, 0.01]))
def test_every_kind_passes_iff_its_decision_interval_excludes_the_null(d, test, alpha) -> None:
    recs = []
    for i, x in enumerate(d):
        recs += [make_record(task_id=f"t{i:02d}", protocol="A", abstention_rate=0.5 + x / 2, quality={"q": 0.5 + x}),
                 make_record(task_id=f"t{i:02d}", protocol="B", quality={"q": 0.5})]
    t = Trials(recs)
    verdicts = [claims.beats(t, "A", "B", metric="quality.q", alpha=alpha, test=test),
                claims.count(t.where(protocol="A"), "abstention_rate", at_least=0.5, alpha=alpha),
                claims.spread(t, metric="quality.q", contrast=("A", "B"), alpha=alpha)]
    for v in verdicts:
        if v.outcome == "undecidable":
            assert v.passed is None and v.power == 0 and v.details["p_floor"] >= alpha
            continue
        lo = v.details["decision_ci"][0]
        assert v.passed == (lo > v.details.get("null", 0.0 if v.kind != "count" else 0.5)), v.message
