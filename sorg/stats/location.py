"""One-sided location tests over unit values, each with the interval it decides by.

Why this module: a claim must decide the hypothesis it prints. Each test here states its
estimand and returns, beside the p, the confidence bound obtained by inverting the same test,
so "p < alpha" and "the (1 - 2 alpha) interval's lower bound lies above the null" are one
statement, not two analyses that may disagree (issue 27):

- `test="mean"` (the default of `beats`): the mean, by the exact sign-flip test up to
  `EXACT_FLIP` units (all 2**G sign patterns) and t with G - 1 df above, its p never below the
  sign-flip floor 2**-(non-zero units);
- `"permutation"`: the mean by sign flips, exact up to EXACT_FLIP, Monte Carlo above (drawn in
  chunks of int8 flip indicators, so memory does not grow with the number of permutations);
- `"t"`: the mean by t with G - 1 df (same floor);
- `"wilcoxon"`: the Hodges-Lehmann shift (median of the Walsh averages) by the signed-rank
  test in its Walsh form, with the exact distribution-free interval (Hollander & Wolfe).

Sign-flip inversion: flipping the signs of a subset F of the centred values d - delta leaves
the sum at least as large as observed iff mean_F(d) <= delta, so the p of H0 "mean <= delta" is
(1 + #{F: mean_F <= delta}) / N: monotone in delta, and its lower bound is an order statistic
of the subset means. The test and the bound are computed from the same array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Largest number of units for which sign flips are enumerated (2**16 patterns).
EXACT_FLIP = 16
#: Monte Carlo sign-flip draws (test="permutation" above EXACT_FLIP units).
N_PERM = 20_000
#: Bytes of float work per chunk of flip indicators.
CHUNK_BYTES = 16 * 2**20
#: Units above which the Walsh averages are not all formed (the bound is found by bisection).
WALSH_MAX = 2_000
DECIMALS = 12
TESTS = ("mean", "t", "permutation", "wilcoxon", "bounded")


@dataclass(frozen=True)
class LocationResult:
    """p of H0 "estimand <= null" (one-sided), the estimate and the intervals of the same test.

    `ci`: the 95% two-sided interval; `bound`: the (1 - 2 alpha) two-sided interval whose lower
    end decides (p < alpha iff bound[0] > null); `floor`: the smallest p this test can give with
    these units and ties; `nonzero`: units whose value differs from the null.
    """

    name: str
    estimand: str
    estimate: float
    p: float
    n: int
    nonzero: int
    floor: float
    ci: tuple[float, float] | None
    bound: tuple[float, float] | None
    floor_kind: str
    note: str = ""
    floor_ratio: float = 1.0

    @property
    def n_zero(self) -> int:
        return self.n - self.nonzero


def check_alpha(alpha: Any, where: str = "alpha") -> float:
    """alpha must be a number in (0, 1): one clear error for every claim kind."""
    ok = isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and math.isfinite(alpha) and 0 < alpha < 1
    if not ok:
        raise ValueError(f"{where} must be a number in (0, 1), got {alpha!r}")
    return float(alpha)


def check_finite(values: np.ndarray, what: str) -> None:
    """NaN marks a missing value (dropped, counted elsewhere); +-inf is a broken value: an error."""
    if np.isinf(values).any():
        raise ValueError(f"{what} has {int(np.isinf(values).sum())} infinite value(s); "
                         "a metric must be finite or missing (NaN)")


def sign_floor(nonzero: int) -> float:
    """Smallest one-sided p of an exact sign-flip / signed-rank test on `nonzero` units."""
    return 1.0 if nonzero <= 0 else 2.0 ** -nonzero


def floor_p(kind: str, nonzero: int, zeros: int = 0, groups: int = 2, n_perm: int = N_PERM,
            ratio: float = 1.0) -> float:
    """The floor of a test family as a function of its non-zero units (for reachability and
    for "needs N" sentences): sign flips 2**-n ("sign2": two-sided, 2 * 2**-n), Monte Carlo
    also 1 / (1 + n_perm), the Walsh signed rank with `zeros` tied units, Friedman
    (k!)**-(n - 1), the bounded betting test (`ratio`: (hi - null) / (null - lo))."""
    if kind == "bounded":
        from sorg.stats.bounded import floor_bounded

        return floor_bounded(nonzero, ratio)
    if kind == "sign2":
        return min(1.0, 2 * sign_floor(nonzero))
    if kind == "walsh":
        return _walsh_floor(nonzero + zeros, zeros)
    if kind == "friedman":
        return 1.0 if nonzero < 2 else float(math.factorial(groups)) ** -(nonzero - 1)
    if kind == "mc":
        return max(sign_floor(nonzero), 1.0 / (1 + n_perm))
    return sign_floor(nonzero)


def _order_bound(m: np.ndarray, n_total: int, level: float) -> float:
    """Lower bound at one-sided `level` from the non-identity arrangements' subset means `m`
    (N = len(m) + 1): the K-th smallest, K = ceil((1 - level) N - 1); -inf when K < 1."""
    k = math.ceil((1 - level) * n_total - 1 - 1e-9)
    if k < 1:
        return -math.inf
    return float(np.partition(m, k - 1)[k - 1])


def _subset_means(d: np.ndarray) -> np.ndarray:
    """Means of d over every non-empty subset (2**G - 1 values), built by doubling."""
    sums, sizes = np.zeros(1), np.zeros(1, dtype=np.int64)
    for x in d:
        sums = np.concatenate([sums, sums + x])
        sizes = np.concatenate([sizes, sizes + 1])
    return np.round(sums[1:] / sizes[1:], DECIMALS)


def _random_subset_means(d: np.ndarray, n_perm: int, seed: int) -> np.ndarray:
    """Means of d over n_perm random subsets (empty ones as -inf: they always count)."""
    g = d.size
    rows = max(1, min(n_perm, CHUNK_BYTES // (8 * g)))
    rng = np.random.default_rng(seed)
    out = np.empty(n_perm)
    for start in range(0, n_perm, rows):
        b = min(rows, n_perm - start)
        packed = rng.integers(0, 256, size=(b, (g + 7) // 8), dtype=np.uint8)
        flips = np.unpackbits(packed, axis=1, count=g).view(np.int8)
        sizes = flips.sum(axis=1, dtype=np.int64)
        sums = flips @ d
        with np.errstate(divide="ignore", invalid="ignore"):
            out[start:start + b] = np.where(sizes > 0, np.round(sums / np.maximum(sizes, 1), DECIMALS), -np.inf)
    return out


def _flip(d: np.ndarray, null: float, alpha: float, mc: bool, n_perm: int, seed: int) -> tuple:
    m = _random_subset_means(d, n_perm, seed) if mc else _subset_means(d)
    big_n = m.size + 1
    p = (1 + int(np.sum(m <= null))) / big_n
    neg = -m  # the upper bounds come from the same arrangements of -d
    def interval(level: float) -> tuple[float, float] | None:
        lo, hi = _order_bound(m, big_n, level), -_order_bound(neg, big_n, level)
        return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
    lo_dec = _order_bound(m, big_n, 1 - alpha)
    bound = (lo_dec, -_order_bound(neg, big_n, 1 - alpha))
    return p, interval(0.975), bound


def _t(d: np.ndarray, null: float, alpha: float) -> tuple:
    from scipy import stats as st

    g = d.size
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if g > 1 else 0.0
    if g < 2 or sd <= 1e-12 * max(1.0, abs(mean)):
        sign = np.sign(round(mean - null, DECIMALS))
        p = 2.0 ** -g if sign > 0 else 1.0
        return p, None, (mean, mean), "no spread across units: exact sign-flip p"
    se = sd / math.sqrt(g)
    p = float(st.t.sf((mean - null) / se, g - 1))
    q95, qa = float(st.t.ppf(0.975, g - 1)), float(st.t.ppf(1 - alpha, g - 1))
    return p, (mean - q95 * se, mean + q95 * se), (mean - qa * se, mean + qa * se), ""


# --------------------------------------------------------------------------- Walsh / Hodges-Lehmann


def _rank_sum_tail(n: int) -> np.ndarray:
    """P(T+ >= t) for t = 0..n(n+1)/2 under the no-ties null with n units."""
    from sorg.power import rank_tail

    return rank_tail(n)[::2]


def _walsh_floor(n: int, zeros: int) -> float:
    """Smallest p of the Walsh test when `zeros` of n units tie with the null."""
    if n <= 0 or zeros >= n:
        return 1.0
    if n > 400:
        from scipy import stats as st

        k = n - zeros  # all non-zero units positive: z-score of the largest attainable count
        mu, sd = n * (n + 1) / 4, math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        return float(st.norm.sf((n * (n + 1) / 2 - zeros * (zeros + 1) / 2 - 0.5 - mu) / sd)) if k else 1.0
    top = n * (n + 1) // 2 - zeros * (zeros + 1) // 2
    return float(_rank_sum_tail(n)[top])


def _walsh_count(ds: np.ndarray, delta: float) -> int:
    """#{i <= j: (d_i + d_j) / 2 > delta} for sorted ds, in O(G log G)."""
    t = np.round(2 * delta - ds, DECIMALS)
    j = np.searchsorted(ds, t, side="right")  # first index with d_j > 2 delta - d_i
    j = np.maximum(j, np.arange(ds.size))  # only j >= i
    return int(np.sum(ds.size - j))


def _walsh_order(ds: np.ndarray, k: int) -> float:
    """The k-th smallest Walsh average (1-based), exactly for small G, by bisection above."""
    g = ds.size
    if g <= WALSH_MAX:
        i, j = np.triu_indices(g)
        w = np.round((ds[i] + ds[j]) / 2, DECIMALS)
        return float(np.partition(w, k - 1)[k - 1])
    total = g * (g + 1) // 2
    lo, hi = float(ds[0]), float(ds[-1])
    for _ in range(200):  # smallest w with #{W <= w} >= k
        mid = (lo + hi) / 2
        if total - _walsh_count(ds, mid) >= k:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            break
    return hi


def _walsh(d: np.ndarray, null: float, alpha: float) -> tuple:
    g = d.size
    ds = np.sort(d)
    total = g * (g + 1) // 2
    tail = _rank_sum_tail(g) if g <= 400 else None

    def crit(level_alpha: float) -> int | None:
        """Smallest count c with P(T >= c) < level_alpha (None if none)."""
        if tail is not None:
            ok = np.nonzero(tail < level_alpha)[0]
            return int(ok[0]) if ok.size else None
        from scipy import stats as st

        mu, sd = total / 2, math.sqrt(g * (g + 1) * (2 * g + 1) / 24)
        return min(total, int(math.ceil(mu + st.norm.isf(level_alpha) * sd + 0.5)))

    def tail_p(t: int) -> float:
        if tail is not None:
            return float(tail[t])
        from scipy import stats as st

        mu, sd = total / 2, math.sqrt(g * (g + 1) * (2 * g + 1) / 24)
        return float(st.norm.sf((t - 0.5 - mu) / sd))

    def lower(level_alpha: float) -> float:
        c = crit(level_alpha)  # reject delta iff #{W > delta} >= c iff delta < W_(total - c + 1)
        return -math.inf if c is None or c < 1 else _walsh_order(ds, total - c + 1)

    def upper(level_alpha: float) -> float:
        c = crit(level_alpha)
        return math.inf if c is None or c < 1 else _walsh_order(ds, c)

    p = tail_p(_walsh_count(ds, null))
    ci = (lower(0.025), upper(0.025))
    bound = (lower(alpha), upper(alpha))
    return p, ci if all(map(math.isfinite, ci)) else None, bound


def hodges_lehmann(d: np.ndarray) -> float:
    """Median of the Walsh averages."""
    ds = np.sort(np.asarray(d, dtype=float))
    total = ds.size * (ds.size + 1) // 2
    if total == 0:
        return float("nan")
    if total % 2:
        return _walsh_order(ds, total // 2 + 1)
    return (_walsh_order(ds, total // 2) + _walsh_order(ds, total // 2 + 1)) / 2


# --------------------------------------------------------------------------- the entry point


def location_test(values: Any, null: float = 0.0, alpha: float = 0.05, test: str = "mean", *,
                  n_perm: int = N_PERM, seed: int = 20260328,
                  bounds: tuple[float, float] | None = None) -> LocationResult:
    """One-sided test of H0 "estimand <= null" over unit values (NaN dropped, inf an error).
    `test="bounded"` needs `bounds=(lo, hi)`, the range every unit value lies in."""
    if test not in TESTS:
        raise ValueError(f"unknown location test {test!r} (one of {TESTS})")
    alpha = check_alpha(alpha)
    raw = np.asarray(values, dtype=float)
    check_finite(raw, "unit values")
    d = np.round(raw[np.isfinite(raw)], DECIMALS)
    null = round(float(null), DECIMALS)
    g = int(d.size)
    nonzero = int(np.sum(d != null))
    if g == 0:
        return LocationResult("no units", "mean", float("nan"), 1.0, 0, 0, 1.0, None, None, "sign", "no units")
    if test == "bounded":
        from sorg.stats.bounded import bounded_test, check_bounds

        if bounds is None:
            raise ValueError("test='bounded' needs bounds=(lo, hi): the range every unit value lies in")
        lo, hi = check_bounds(bounds)
        p, ci, bound, floor, ratio = bounded_test(d, null, alpha, lo, hi)
        return LocationResult(f"betting test of the mean (values in [{lo:g}, {hi:g}], valid for any shape)", "mean",
                              float(d.mean()), p, g, nonzero, floor, ci, bound, "bounded", floor_ratio=ratio)
    if test == "wilcoxon":
        p, ci, bound = _walsh(d, null, alpha)
        zeros = g - nonzero
        how = ", exact)" if g <= 400 else ", normal approx.)"
        return LocationResult("Wilcoxon signed-rank (Walsh averages" + how,
                              "Hodges-Lehmann shift", hodges_lehmann(d), min(1.0, p), g, nonzero,
                              _walsh_floor(g, zeros), ci, bound, "walsh")
    mean = float(d.mean())
    exact = g <= EXACT_FLIP and test != "t"
    floor = sign_floor(nonzero)
    note = ""
    if exact or test == "permutation":
        mc = not exact
        p, ci, bound = _flip(d, null, alpha, mc, n_perm, seed)
        name = "exact sign-flip test of the mean" if exact else f"sign-flip test of the mean ({n_perm} draws)"
        if mc:
            floor = max(floor, 1.0 / (1 + n_perm))
        kind = "mc" if mc else "sign"
    else:
        p, ci, bound, note = _t(d, null, alpha)
        if p < floor:
            note = (note + "; " if note else "") + f"t p {p:.2g} raised to the sign-flip floor 2^-{nonzero}"
        p = max(p, floor)
        name = f"t test of the mean ({g - 1} df)"
        kind = "sign"
    return LocationResult(name, "mean", mean, min(1.0, p), g, nonzero, floor, ci, bound, kind, note)
