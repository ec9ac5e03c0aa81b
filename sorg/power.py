"""Power of the tests claims actually run, over units (tasks), at the alpha that applies.

Why not the asymptotic shortcut: with few units the exact signed-rank test cannot reach small
p at all (2**-G is its floor), so "power 0.89 at d_z 2.9, 3 tasks" from a t approximation
was a promise the test could not keep. Here:

- exact Wilcoxon: Monte Carlo over normal unit differences with the test's exact critical
  value (common random numbers, so power is a deterministic, smooth function of n);
- t over units: the noncentral t with G - 1 df (exact under normal unit means);
- TOST: exact under normality, integrating the two one-sided t tests over the sample SD;
- exact tests (signed-rank, sign flips): power 0 when the design's smallest attainable p
  (2**-G) is not below alpha.

Plans pass the Holm-adjusted alpha (alpha / family size, the first Holm step) and count
units (tasks); trials follow as units x trials per unit, which is how clustering enters.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from sorg.inference import min_p, signed_rank_null, units_needed

#: Monte Carlo draws for the exact signed-rank power.
N_SIM = 4000
#: Above this many units the signed-rank power uses the t power on 3/pi of the units (ARE).
SIM_MAX = 200
_RANK_ARE = 3.0 / math.pi


def _t_power(nc: float, df: float, alpha: float) -> float:
    from scipy import stats as st

    if df <= 0:
        return 0.0
    return float(st.nct.sf(float(st.t.ppf(1 - alpha, df)), df, nc))


@lru_cache(maxsize=512)
def rank_tail(n: int) -> np.ndarray:
    """P(2 T+ >= k) for k = 0..n(n+1), ranks 1..n (no ties: continuous differences)."""
    dist = signed_rank_null(2 * np.arange(1, n + 1))
    return np.cumsum(dist[::-1])[::-1]


def power_wilcoxon_exact(d: float, n: int, alpha: float, *, n_sim: int = N_SIM, seed: int = 7) -> float:
    """Power of the exact one-sided signed-rank test (p < alpha) at normal shift d_z, n units."""
    if n < 1 or not math.isfinite(d) or min_p(n) >= alpha:
        return 0.0
    if n > SIM_MAX:
        ne = n * _RANK_ARE
        return _t_power(d * math.sqrt(ne), ne - 1, alpha)
    tail = rank_tail(n)
    x = np.random.default_rng(seed + n).standard_normal((n_sim, n)) + d
    ranks = np.argsort(np.argsort(np.abs(x), axis=1), axis=1) + 1
    t2 = 2 * np.where(x > 0, ranks, 0).sum(axis=1)
    return float(np.mean(tail[t2] < alpha))


def attainable_alpha(n: int, alpha: float) -> float:
    """The largest rejection level below `alpha` an exact sign-flip test on n units attains
    (its p-values are multiples of 2**-n), 0 when none."""
    grid = 2.0**n
    return max(0.0, (math.ceil(alpha * grid - 1e-9) - 1) / grid)


def power_units(d: float, n: int, alpha: float, test: str = "wilcoxon") -> float:
    """Power of the one-sided unit-level test `test` at d_z: "wilcoxon" (exact signed rank,
    simulated), "mean" / "permutation" (exact sign flips up to EXACT_FLIP units: t power at
    the level the flips attain; t above), "t" (noncentral t)."""
    from sorg.stats.location import EXACT_FLIP

    if n < 2 or not math.isfinite(d):
        return 0.0
    if test == "wilcoxon":
        return power_wilcoxon_exact(d, n, alpha)
    if min_p(n) >= alpha:
        return 0.0
    if test in ("mean", "permutation") and n <= EXACT_FLIP:
        a = attainable_alpha(n, alpha)
        return _t_power(d * math.sqrt(n), n - 1, a) if a > 0 else 0.0
    return _t_power(d * math.sqrt(n), n - 1, alpha)


def power_tost_exact(true_diff: float, sd: float, n: int, margin: float, alpha: float, *, nodes: int = 400) -> float:
    """Exact power of TOST with t(n - 1) on n units of SD `sd` (normal), true difference given."""
    from scipy import stats as st

    if n < 2 or not (math.isfinite(sd) and sd > 0):
        return 0.0
    df = n - 1
    q = float(st.t.ppf(1 - alpha, df))
    se_true = sd / math.sqrt(n)
    # quadrature over the sample SD s: (n - 1) s^2 / sd^2 ~ chi2(df)
    u = (np.arange(nodes) + 0.5) / nodes
    s = sd * np.sqrt(st.chi2.ppf(u, df) / df)
    half = margin - q * s / math.sqrt(n)
    ok = half > 0
    lo = st.norm.cdf((half - true_diff) / se_true)
    hi = st.norm.cdf((-half - true_diff) / se_true)
    return float(np.mean(np.where(ok, lo - hi, 0.0)))


def n_for_power(power_fn, target: float = 0.8, n_min: int = 2, n_max: int = 100_000) -> int | None:
    """Smallest n >= n_min with power_fn(n) >= target (power non-decreasing in n), or None."""
    if not 0 < target < 1:
        raise ValueError(f"target power must be in (0, 1), got {target!r}")
    if power_fn(n_max) < target:
        return None
    lo, hi = n_min, n_min
    while power_fn(hi) < target:
        lo, hi = hi + 1, min(hi * 2, n_max)
    while lo < hi:
        mid = (lo + hi) // 2
        if power_fn(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return int(hi)


def units_for_power(d: float | None, alpha: float, power: float = 0.8, test: str = "wilcoxon") -> int | None:
    """Units (tasks) a one-sided unit-level test needs for `power` at d_z, never fewer than the
    design minimum units_needed(alpha)."""
    if d is None or not (math.isfinite(d) and d > 0):
        return None
    n_min = units_needed(alpha)
    return n_for_power(lambda k: power_units(d, k, alpha, test), power, n_min=n_min)


def units_for_tost(sd: float, margin: float, alpha: float, power: float = 0.8, true_diff: float = 0.0) -> int | None:
    """Units TOST needs for `power` (exact, normal unit differences of SD sd)."""
    if not (sd > 0 and margin > 0) or abs(true_diff) >= margin:
        return None
    return n_for_power(lambda k: power_tost_exact(true_diff, sd, k, margin, alpha), power)
