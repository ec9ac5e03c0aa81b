"""A test of the mean that holds its level for EVERY distribution of values in a declared [lo, hi].

Why: no test of a mean holds its level over all distributions (Bahadur & Savage 1956); the
sign-flip and t tests assume symmetric or near-normal unit values, and a protocol that gains a
little on most tasks and collapses on a few (90% of tasks at +0.05, 10% at -0.45: mean 0)
passes them 15-20% of the time at 16 tasks. sorg's metrics are bounded (a judge's Q, coverage,
an abstention rate in [0, 1], so differences in [-1, 1]), and for bounded values valid finite-
sample tests exist. This one bets (Waudby-Smith & Ramdas 2023, "Estimating means of bounded
random variables by betting", JRSS-B): under H0 "mean <= m", for every t in [0, 1]

    K_t(m) = prod_i (1 + t (x_i - m) / (m - lo))

is a product of non-negative factors with expectation <= 1, so the mixture K(m) = mean_t K_t(m)
over a fixed grid of t is an e-value and p = min(1, 1 / K(m)) is a valid p-value whatever the
shape (Markov's inequality). A fixed mixture, not a predictable bet, so the result does not
depend on the order of the units. Each factor decreases in m, hence K does: the lower bound
{m: K(m) > 1 / alpha} is an interval, and "p < alpha" iff "the lower bound lies above m".

The price is power: a distribution with mean mu > 0 mixed with mass mu / (1 + mu) at lo = -1
has mean 0 and reproduces the alternative's sample with probability (1 + mu)**-G, so no valid
test has power above alpha (1 + mu)**G (`power_ceiling`): 0.13 at G = 16 for mu = 0.06.
"""

from __future__ import annotations

import math

import numpy as np

#: Points of the betting fraction t in (0, 1): the mixture's prior (midpoints, equal weight).
GRID = 100
_T = (np.arange(GRID) + 0.5) / GRID


def _log_k(x: np.ndarray, m: float, lo: float) -> float:
    """log of the mixture e-value for H0 "mean <= m" (m > lo)."""
    z = (x - m) / (m - lo)  # >= -1, and t < 1: every factor is positive
    f = np.log1p(_T[:, None] * z[None, :]).sum(axis=1)
    top = float(f.max())
    return top + math.log(float(np.exp(f - top).mean()))


def _lower(x: np.ndarray, lo: float, hi: float, alpha: float, null: float | None = None) -> float:
    """sup{m in (lo, hi): K(m) > 1 / alpha} (lo when none; log K is continuous and decreasing in
    m, so it is the root of log K = log(1 / alpha)). With `null`, the result is above `null`
    iff K(null) > 1 / alpha: the decision and the bound are one statement."""
    from scipy import optimize

    thr = math.log(1 / alpha)
    span = hi - lo
    a, b = lo + 1e-12 * span, hi - 1e-12 * span

    def f(m: float) -> float:
        return _log_k(x, m, lo) - thr

    if f(a) <= 0:
        root = lo
    elif f(b) > 0:
        root = hi
    else:
        root = float(optimize.brentq(f, a, b, xtol=1e-10 * span))
    if null is not None and lo < null < hi:
        if math.exp(-_log_k(x, null, lo)) < alpha:  # exactly the p < alpha of `bounded_test`
            root = max(root, math.nextafter(null, math.inf))
        else:
            root = min(root, null)
    return root


def floor_bounded(nonzero: int, ratio: float = 1.0) -> float:
    """Smallest p with `nonzero` units off the null: every unit at hi; `ratio` is
    (hi - null) / (null - lo) (1 for a difference tested at 0 in [-1, 1])."""
    if nonzero <= 0:
        return 1.0
    f = nonzero * np.log1p(_T * ratio)
    top = float(f.max())
    return min(1.0, math.exp(-(top + math.log(float(np.exp(f - top).mean())))))


def check_bounds(bounds: object, where: str = "bounds") -> tuple[float, float]:
    ok = (isinstance(bounds, (tuple, list)) and len(bounds) == 2
          and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
          and bounds[0] < bounds[1])
    if not ok:
        raise ValueError(f"{where} must be (lo, hi) with finite lo < hi, got {bounds!r}")
    return float(bounds[0]), float(bounds[1])  # type: ignore[index]


def bounded_test(d: np.ndarray, null: float, alpha: float, lo: float, hi: float) -> tuple:
    """(p, 95% interval, (1 - 2 alpha) interval, floor) of H0 "mean <= null" for values in [lo, hi]."""
    tol = 1e-9 * (hi - lo)
    if d.size and (d.min() < lo - tol or d.max() > hi + tol):
        raise ValueError(f"values outside the declared bounds [{lo:g}, {hi:g}] (min {d.min():g}, max {d.max():g}): "
                         "a bounded test is valid only for values inside them")
    x = np.clip(d, lo, hi)
    if not lo < null < hi:
        p = 1.0 if null >= hi else 0.0
    else:
        p = min(1.0, math.exp(-_log_k(x, null, lo)))

    def interval(a: float, with_null: bool) -> tuple[float, float]:
        low = _lower(x, lo, hi, a, null if with_null else None)
        up = -_lower(-x, -hi, -lo, a)
        return (low, up)

    ci = interval(0.025, False)
    bound = interval(alpha, True)
    ratio = (hi - null) / (null - lo) if lo < null < hi else 1.0
    return p, ci, bound, floor_bounded(int(np.sum(d != null)), ratio), ratio


def power_ceiling(mu: float, g: int, alpha: float, lo: float = -1.0) -> float:
    """No level-alpha test valid for all distributions on [lo, .] with H0 "mean <= 0" has power
    above alpha (1 + mu / -lo)**g at an alternative of mean mu (see the module docstring)."""
    if mu <= 0:
        return alpha
    return min(1.0, alpha * (1 + mu / -lo) ** g)


def p_bounded(x: np.ndarray, null: float, lo: float, hi: float) -> np.ndarray:
    """The betting p of H0 "mean <= null" for each row of x (values in [lo, hi])."""
    if not lo < null < hi:
        return np.full(x.shape[0], 1.0 if null >= hi else 0.0)
    z = (np.clip(x, lo, hi) - null) / (null - lo)
    f = np.log1p(np.maximum(z[:, None, :] * _T[None, :, None], -1.0 + 1e-300)).sum(axis=2)
    top = f.max(axis=1)
    log_k = top + np.log(np.exp(f - top[:, None]).mean(axis=1))
    return np.minimum(1.0, np.exp(-log_k))


#: Above this many units, power uses the normal approximation of the log capitals' sums.
CLT_MIN = 500


def _power_clt(mean: float, sd: float, g: int, null: float, alpha: float, lo: float, hi: float,
               n_sim: int, seed: int) -> float:
    """Power for many units: log K_t = sum_i log(1 + t z_i) is a sum of g i.i.d. terms, so the
    vector over the t grid is close to normal with mean g m and covariance g C (m, C by
    Gauss-Hermite quadrature over one unit); the mixture's p follows from draws of that vector."""
    if not lo < null < hi:
        return 1.0 if null < lo else 0.0
    rng = np.random.default_rng(seed)
    nodes, weights = np.polynomial.hermite_e.hermegauss(160)  # E over one normal unit, by quadrature
    weights = weights / weights.sum()
    z = (np.clip(mean + sd * nodes, lo, hi) - null) / (null - lo)
    terms = np.log1p(np.maximum(np.outer(z, _T), -1.0 + 1e-300))
    m = weights @ terms
    cov = (terms * weights[:, None]).T @ terms - np.outer(m, m)
    vals, vecs = np.linalg.eigh(cov)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    f = g * m + math.sqrt(g) * rng.standard_normal((n_sim, GRID)) @ root.T
    top = f.max(axis=1)
    log_k = top + np.log(np.exp(f - top[:, None]).mean(axis=1))
    return float(np.mean(log_k > math.log(1 / alpha)))


def power_bounded(mean: float, sd: float, g: int, null: float, alpha: float, lo: float, hi: float, *,
                  n_sim: int = 1000, seed: int = 5) -> float:
    """Power of the betting test with g units drawn normal(mean, sd) clipped to [lo, hi]
    (common random numbers across g: smooth in g, so plans can bisect on it)."""
    if g < 1 or not (math.isfinite(mean) and math.isfinite(sd)) or sd < 0:
        return 0.0
    if g > CLT_MIN:
        return _power_clt(mean, sd, g, null, alpha, lo, hi, n_sim, seed)
    z = np.random.default_rng(seed).standard_normal((g, n_sim)).T  # unit i's draws do not depend on g
    rows = max(1, (8 * 2**20) // (8 * GRID * g))
    hits = 0
    for s in range(0, n_sim, rows):
        hits += int(np.sum(p_bounded(mean + sd * z[s:s + rows], null, lo, hi) < alpha))
    return hits / n_sim
