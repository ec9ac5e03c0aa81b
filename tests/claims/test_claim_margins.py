"""The paper's margins as claims state them: a relative minimum effect (`beats(min_rel_effect=)`,
"+14%") and a declared interval for a mean (`count(within=)`, "about 45%").

Why properties: a relative claim must not care about the scale of the score (Q in [0.25, 1] or
the same numbers x 100), and must reject exactly when the gain is below the margin.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorg import claims  # noqa: E402
from sorg.results import Trials  # noqa: E402
from tests.fakes.sorg_synth import make_record


def _pairs(base: np.ndarray, gain: float, noise: np.ndarray, scale: float = 1.0) -> Trials:
    recs = []
    for i, (b, e) in enumerate(zip(base, noise)):
        recs.append(make_record(task_id=f"t{i:02d}", protocol="coordinator", quality={"q": scale * b}))
        recs.append(make_record(task_id=f"t{i:02d}", protocol="sequential", quality={"q": scale * b * (1 + gain + e)}))
    return Trials(recs)


def _data(g: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.4, 0.8, g), rng.normal(0, 0.02, g)


def test_relative_margin_passes_above_and_fails_below() -> None:
    base, noise = _data()
    t = _pairs(base, 0.25, noise)
    ok = claims.beats(t, "sequential", "coordinator", metric="quality.q", min_rel_effect=0.14, alpha=0.001)
    assert ok.passed is True
    assert ok.estimate_name == "relative gain" and ok.estimate == pytest.approx(0.25, abs=0.02)
    assert ok.ci is not None and ok.ci[0] < ok.estimate < ok.ci[1] and ok.ci[0] > 0.14
    assert "by at least 14% (relative)" in ok.statement and "A - 1.14 x B <= 0" in ok.test
    # a real 8% gain is a win on the absolute test but not the paper's +14%
    t8 = _pairs(base, 0.08, noise)
    assert claims.beats(t8, "sequential", "coordinator", metric="quality.q", alpha=0.001).passed is True
    v8 = claims.beats(t8, "sequential", "coordinator", metric="quality.q", min_rel_effect=0.14, alpha=0.001)
    assert v8.passed is False and v8.p > 0.5
    assert "relative gain" in v8.message


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.01, 100.0), gain=st.sampled_from([0.05, 0.14, 0.3]), seed=st.integers(0, 50))
def test_relative_margin_does_not_depend_on_the_score_scale(scale: float, gain: float, seed: int) -> None:
    base, noise = _data(seed=seed)
    v1 = claims.beats(_pairs(base, gain, noise), "sequential", "coordinator", metric="quality.q", min_rel_effect=0.14)
    vs = claims.beats(_pairs(base, gain, noise, scale), "sequential", "coordinator", metric="quality.q",
                      min_rel_effect=0.14)
    assert vs.p == pytest.approx(v1.p, rel=1e-6, abs=1e-9)
    assert vs.estimate == pytest.approx(v1.estimate, rel=1e-6)
    assert vs.passed == v1.passed


def test_relative_and_absolute_margins_are_exclusive() -> None:
    base, noise = _data()
    with pytest.raises(ValueError, match="not both"):
        claims.beats(_pairs(base, 0.2, noise), "sequential", "coordinator", metric="quality.q",
                     min_effect=0.05, min_rel_effect=0.14)


def _abstaining(rates: list[float]) -> Trials:
    return Trials([make_record(task_id=f"t{i:02d}", abstention_rate=r) for i, r in enumerate(rates)])


def test_within_shows_a_mean_inside_the_declared_interval() -> None:
    rng = np.random.default_rng(1)
    inside = _abstaining(list(0.45 + rng.normal(0, 0.03, 12)))
    v = claims.count(inside, "abstention_rate", within=(0.35, 0.55))
    assert v.passed is True and "within [0.35, 0.55]" in v.statement
    assert "two one-sided tests" in v.test and v.details["p_lower"] < 0.05 and v.details["p_upper"] < 0.05
    low = _abstaining(list(0.2 + rng.normal(0, 0.03, 12)))
    assert claims.count(low, "abstention_rate", within=(0.35, 0.55)).passed is False
    high = _abstaining(list(0.7 + rng.normal(0, 0.03, 12)))
    assert claims.count(high, "abstention_rate", within=(0.35, 0.55)).passed is False
    # near the edge with few tasks: not shown (absence of evidence is not a pass)
    edge = _abstaining([0.36, 0.34, 0.37])
    assert claims.count(edge, "abstention_rate", within=(0.35, 0.55)).passed is not True


def test_within_rejects_bad_declarations() -> None:
    t = _abstaining([0.4, 0.5])
    with pytest.raises(ValueError, match="exactly one"):
        claims.count(t, "abstention_rate", at_least=0.1, within=(0.3, 0.5))
    with pytest.raises(ValueError, match="lo < hi"):
        claims.count(t, "abstention_rate", within=(0.5, 0.3))
    with pytest.raises(ValueError, match="agg='mean'"):
        claims.count(t, "abstention_rate", within=(0.3, 0.5), agg="sum")
