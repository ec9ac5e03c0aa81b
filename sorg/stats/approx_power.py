"""Closed-form power approximations (noncentral t; rank tests via their ARE 3/pi).

Claims and plans use `sorg.power`, the power of the test actually run (exact signed-rank,
exact TOST, zero where the exact test cannot reach alpha); these stay for two-sample designs
and as the large-sample limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: Asymptotic relative efficiency of Wilcoxon signed-rank / Mann-Whitney U vs the t test
#: under normal data; used to turn t-test power into rank-test power.
RANK_ARE = 3.0 / math.pi  # 0.9549...


# --------------------------------------------------------------------------- power


def _t_power(nc: float, df: float, alpha: float) -> float:
    from scipy import stats as st

    if df <= 0 or not math.isfinite(nc):
        return float("nan") if not math.isfinite(nc) else 0.0
    crit = float(st.t.ppf(1 - alpha, df))
    return float(st.nct.sf(crit, df, nc))


def power_paired(d: float, n: int, alpha: float, test: str = "wilcoxon") -> float:
    """Power of a one-sided paired test for standardised effect d_z with n pairs.

    Paired t via the noncentral t; Wilcoxon as the t test on RANK_ARE * n pairs.
    """
    if n < 2 or not math.isfinite(d):
        return float("nan")
    n_eff = n * (RANK_ARE if test == "wilcoxon" else 1.0)
    if n_eff <= 1:
        return 0.0
    return _t_power(d * math.sqrt(n_eff), n_eff - 1, alpha)


def power_two_sample(d: float, n1: int, n2: int, alpha: float, test: str = "mannwhitney") -> float:
    """Power of a one-sided two-sample test for pooled d (rank test via RANK_ARE)."""
    if n1 < 2 or n2 < 2 or not math.isfinite(d):
        return float("nan")
    f = RANK_ARE if test in ("mannwhitney", "wilcoxon") else 1.0
    n1e, n2e = n1 * f, n2 * f
    return _t_power(d * math.sqrt(n1e * n2e / (n1e + n2e)), n1e + n2e - 2, alpha)


def power_z(delta: float, se: float, alpha: float) -> float:
    """Power of a one-sided z test where the true shift is `delta` standard errors * se."""
    from scipy import stats as st

    if not (math.isfinite(delta) and math.isfinite(se)) or se <= 0:
        return float("nan")
    return float(st.norm.cdf(delta / se - st.norm.ppf(1 - alpha)))


def power_tost(true_diff: float, sd: float, n: int, margin: float, alpha: float) -> float:
    """Approximate power of paired TOST (normal approximation) at a true difference."""
    from scipy import stats as st

    if n < 2 or sd <= 0 or not math.isfinite(sd):
        return float("nan")
    se = sd / math.sqrt(n)
    za = float(st.norm.ppf(1 - alpha))
    p = st.norm.cdf((margin - true_diff) / se - za) + st.norm.cdf((margin + true_diff) / se - za) - 1
    return float(max(0.0, min(1.0, p)))


def n_for_power(power_fn: Callable[[int], float], target: float = 0.8, n_min: int = 2,
                n_max: int = 10**7) -> int | None:
    """Smallest n with power_fn(n) >= target (power increasing in n); None if unreachable."""
    if not 0 < target < 1:
        raise ValueError(f"target power must be in (0, 1), got {target!r}")
    p = power_fn(n_max)
    if not (math.isfinite(p) and p >= target):
        return None
    lo, hi = n_min, n_min
    while True:
        ph = power_fn(hi)
        if math.isfinite(ph) and ph >= target:
            break
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        pm = power_fn(mid)
        if math.isfinite(pm) and pm >= target:
            hi = mid
        else:
            lo = mid + 1
    return int(hi)


def n_paired_for_power(d: float, alpha: float, power: float = 0.8, test: str = "wilcoxon") -> int | None:
    """Pairs needed for a one-sided paired test to reach `power` at effect d_z."""
    if not (math.isfinite(d) and d > 0):
        return None
    return n_for_power(lambda n: power_paired(d, n, alpha, test), power)


def n_two_sample_for_power(d: float, alpha: float, power: float = 0.8, test: str = "mannwhitney") -> int | None:
    """Trials per group needed for a one-sided two-sample test at pooled effect d."""
    if not (math.isfinite(d) and d > 0):
        return None
    return n_for_power(lambda n: power_two_sample(d, n, n, alpha, test), power)
