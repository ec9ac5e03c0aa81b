"""Tests on the unit a claim generalises over (tasks, streams): one number per unit.

Why a separate layer: trials of one task are not independent (a task is easy for every
protocol), so a claim about tasks must be judged on per-task numbers. Here every function
takes one value per unit (already aggregated by the claim) and gives:

- a p-value with a small-sample-correct reference: the exact signed-rank distribution (with
  midranks, so ties are handled exactly, not by a normal approximation), exact sign flips,
  or t with G - 1 degrees of freedom;
- the interval from the same analysis (the t interval over the same unit means), or None
  with a single unit, never a zero-width "CI";
- no certainty from no variance: when every unit shows the same difference the t statistic is
  undefined, and the p is the exact sign-flip p, 2**-G, not 0.

`min_p(G)` is the smallest one-sided p any of these can give with G units without leaning on
normality alone (all G signs agree); `units_needed(alpha)` is the G that makes p < alpha
possible. Claims check it before judging. Values are rounded to `DECIMALS` before ranking so
that 0.2 - 0.6 ties with -0.4 (floating point would make them two ranks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Declared precision of metric differences: ranks and ties are taken on values rounded here.
DECIMALS = 12
#: Largest number of non-zero units for which the signed-rank p is computed exactly.
EXACT_MAX = 400


@dataclass(frozen=True)
class UnitResult:
    """A test over G units: p, its statistic, the units counted, the interval it implies."""

    name: str
    p: float
    statistic: float
    n: int
    n_zero: int = 0
    mean: float = float("nan")
    ci: tuple[float, float] | None = None
    df: int = 0
    note: str = ""


def rounded(x: ArrayLike, decimals: int = DECIMALS) -> np.ndarray:
    """Finite values rounded to the declared precision (near-ties become ties)."""
    a = np.asarray(x, dtype=float)
    return np.round(a[np.isfinite(a)], decimals)


def min_p(g: int) -> float:
    """Smallest one-sided p attainable with g units by an exact sign-flip / signed-rank test."""
    return 1.0 if g <= 0 else 2.0 ** -g


def units_needed(alpha: float) -> int:
    """Fewest units for which min_p(G) < alpha, i.e. the design can pass at all."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return int(math.floor(math.log2(1.0 / alpha))) + 1


def _flip_p(g: int, sign: float, alternative: str) -> float:
    """Exact sign-flip p when all g units show the same difference (zero variance)."""
    if sign == 0 or g == 0:
        return 1.0
    floor = min_p(g)
    if alternative == "greater":
        return floor if sign > 0 else 1.0
    if alternative == "less":
        return floor if sign < 0 else 1.0
    return min(1.0, 2 * floor)


def _midranks(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a)


def signed_rank_null(doubled_ranks: np.ndarray) -> np.ndarray:
    """Exact null distribution of 2*T+ (probabilities indexed by 2*T+) for given midranks*2."""
    r = np.asarray(doubled_ranks, dtype=np.int64)
    dist = np.zeros(int(r.sum()) + 1)
    dist[0] = 1.0
    top = 0
    for v in r:
        new = dist.copy() * 0.5
        new[v: top + v + 1] += 0.5 * dist[: top + 1]
        dist = new
        top += int(v)
    return dist


def wilcoxon_units(diff: ArrayLike, alternative: str = "greater", *, decimals: int = DECIMALS,
                   level: float = 0.95) -> UnitResult:
    """Wilcoxon signed-rank over unit differences, exact (midranks, zeros dropped) up to
    EXACT_MAX non-zero units, else normal with tie correction. The interval is the t interval
    of the same unit means (the estimate the verdict quotes)."""
    d = rounded(diff, decimals)
    g = int(d.size)
    nz = d[d != 0]
    zeros = g - int(nz.size)
    ci = t_interval(d, level)
    mean = float(d.mean()) if g else float("nan")
    if nz.size == 0:
        return UnitResult("Wilcoxon signed-rank", 1.0, float("nan"), g, zeros, mean, ci, max(g - 1, 0))
    ranks = _midranks(np.abs(nz))
    t_plus = float(ranks[nz > 0].sum())
    if nz.size <= EXACT_MAX:
        r2 = np.round(2 * ranks).astype(np.int64)
        dist = signed_rank_null(r2)
        t2 = int(round(2 * t_plus))
        upper = float(dist[t2:].sum())
        lower = float(dist[: t2 + 1].sum())
        name = "exact Wilcoxon signed-rank"
    else:
        from scipy import stats as st

        mu = ranks.sum() / 2.0
        sd = math.sqrt(float((ranks**2).sum()) / 4.0)
        upper = float(st.norm.sf((t_plus - mu - 0.5) / sd))
        lower = float(st.norm.cdf((t_plus - mu + 0.5) / sd))
        name = "Wilcoxon signed-rank (normal approx.)"
    p = upper if alternative == "greater" else lower if alternative == "less" else min(1.0, 2 * min(upper, lower))
    return UnitResult(name, min(1.0, p), t_plus, g, zeros, mean, ci, max(g - 1, 0))


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """t interval (G - 1 df) of the mean of unit values; None with fewer than 2 units."""
    from scipy import stats as st

    g = int(x.size)
    if g < 2:
        return None
    m = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(g)
    q = float(st.t.ppf(0.5 + level / 2, g - 1))
    return (m - q * se, m + q * se)


def _tiny(sd: float, scale: float) -> bool:
    return sd <= 1e-12 * max(1.0, abs(scale))


def t_units(x: ArrayLike, alternative: str = "greater", popmean: float = 0.0, *,
            decimals: int = DECIMALS, level: float = 0.95) -> UnitResult:
    """One-sample t over unit values with G - 1 df; zero spread gives the sign-flip p."""
    from scipy import stats as st

    d = rounded(x, decimals)
    g = int(d.size)
    mean = float(d.mean()) if g else float("nan")
    if g < 2:
        sign = float(np.sign(mean - popmean)) if g else 0.0
        return UnitResult("t", _flip_p(g, sign, alternative), float("nan"), g, 0, mean, None, 0,
                          "one unit: sign-flip p")
    sd = float(d.std(ddof=1))
    if _tiny(sd, mean):
        sign = float(np.sign(round(mean - popmean, decimals)))
        return UnitResult("t", _flip_p(g, sign, alternative), float("nan"), g, 0, mean, None, g - 1,
                          f"no variance across {g} units: exact sign-flip p")
    tstat = (mean - popmean) / (sd / math.sqrt(g))
    if alternative == "greater":
        p = float(st.t.sf(tstat, g - 1))
    elif alternative == "less":
        p = float(st.t.cdf(tstat, g - 1))
    else:
        p = float(2 * st.t.sf(abs(tstat), g - 1))
    return UnitResult("t", min(1.0, p), tstat, g, 0, mean, t_interval(d, level), g - 1)


def sign_flip_units(x: ArrayLike, alternative: str = "greater", popmean: float = 0.0, *,
                    n_perm: int = 20000, seed: int = 20260328, decimals: int = DECIMALS,
                    level: float = 0.95) -> UnitResult:
    """Permutation test of the mean by flipping unit signs: exact for G <= 16, else Monte
    Carlo with (1 + hits) / (1 + n_perm). Needs no normality; p >= 2**-G always."""
    d = rounded(np.asarray(x, dtype=float) - popmean, decimals)
    g = int(d.size)
    mean = float(d.mean()) + popmean if g else float("nan")
    if g == 0 or np.all(d == 0):
        return UnitResult("sign-flip permutation", 1.0, float("nan"), g, g, mean, t_interval(d + popmean, level),
                          max(g - 1, 0))
    obs = float(d.sum())
    if g <= 16:
        signs = 1 - 2 * ((np.arange(2**g)[:, None] >> np.arange(g)) & 1)
        sums = signs @ d
        tol = 1e-9 * max(1.0, abs(obs))
        hi, lo = float(np.mean(sums >= obs - tol)), float(np.mean(sums <= obs + tol))
    else:  # int8 flips in chunks of ~16 MB of float work: memory constant in n_perm
        rng = np.random.default_rng(seed)
        rows = max(1, min(n_perm, (16 * 2**20) // (8 * g)))
        n_hi = n_lo = 0
        for start in range(0, n_perm, rows):
            b = min(rows, n_perm - start)
            signs = rng.integers(0, 2, size=(b, g), dtype=np.int8) * np.int8(2) - np.int8(1)
            sums = signs @ d
            n_hi += int(np.sum(sums >= obs))
            n_lo += int(np.sum(sums <= obs))
        hi = (1 + n_hi) / (1 + n_perm)
        lo = (1 + n_lo) / (1 + n_perm)
    p = hi if alternative == "greater" else lo if alternative == "less" else min(1.0, 2 * min(hi, lo))
    return UnitResult("sign-flip permutation", p, obs, g, int((d == 0).sum()), mean, t_interval(d + popmean, level),
                      g - 1)


def paired_units(diff: ArrayLike, test: str, alternative: str = "greater", popmean: float = 0.0, *,
                 level: float = 0.95) -> UnitResult:
    """Dispatch: "wilcoxon", "t" or "permutation" on unit differences shifted by popmean."""
    d = np.asarray(diff, dtype=float)
    if test == "wilcoxon":
        r = wilcoxon_units(d - popmean, alternative, level=level)
        ci = None if r.ci is None else (r.ci[0] + popmean, r.ci[1] + popmean)
        return UnitResult(r.name, r.p, r.statistic, r.n, r.n_zero, r.mean + popmean, ci, r.df, r.note)
    if test == "t":
        return t_units(d, alternative, popmean, level=level)
    if test == "permutation":
        return sign_flip_units(d, alternative, popmean, level=level)
    raise ValueError(f"unknown paired test {test!r} (wilcoxon, t, permutation)")


def tost_units(diff: ArrayLike, margin: float, alpha: float = 0.05, *, decimals: int = DECIMALS) -> dict:
    """TOST on unit differences with t(G - 1): both one-sided nulls (<= -margin, >= +margin)
    must fall. Zero spread gives sign-flip p-values (2**-G at best). Returns p, p_lower,
    p_upper, mean, ci (the 1 - 2 alpha t interval, None with < 2 units or no spread), n."""
    if margin <= 0:
        raise ValueError(f"equivalence margin must be > 0, got {margin!r}")
    d = rounded(diff, decimals)
    lo = t_units(d, "greater", -margin)
    hi = t_units(d, "less", margin)
    ci = t_interval(d, 1 - 2 * alpha) if lo.ci is not None else None
    return {"p": max(lo.p, hi.p), "p_lower": lo.p, "p_upper": hi.p, "mean": lo.mean, "ci": ci, "n": lo.n,
            "note": lo.note or hi.note}


def log_ratio_units(num: np.ndarray, den: np.ndarray, cells: np.ndarray, threshold: float,
                    alternative: str = "greater", level: float = 0.95) -> dict:
    """Is sum(num) / sum(den) above (below) `threshold`, with units as the independent draws?

    `num`, `den`: per-unit totals of matched cell means; `cells`: matched cells per unit.
    Delta method on the log ratio with per-unit influence values, the G / (G - 1) factor and a
    t(G - 1) reference (a normal one over-rejects with few units). Returns ratio, se_log, p,
    ci (None with < 2 units or no spread), units, note.
    """
    from scipy import stats as st

    if threshold <= 0:
        raise ValueError(f"ratio threshold must be > 0, got {threshold!r}")
    g = int(num.size)
    tn, td, nn = float(num.sum()), float(den.sum()), float(cells.sum())
    out: dict = {"ratio": tn / td if td else float("nan"), "se_log": float("nan"), "p": 1.0, "ci": None,
                 "units": g, "note": ""}
    if not (tn > 0 and td > 0) or g == 0:
        out["note"] = "a mean is not positive: no log ratio"
        return out
    lr = math.log(tn / td) - math.log(threshold)
    sign = float(np.sign(round(lr, DECIMALS)))
    if g < 2:
        out.update(p=_flip_p(g, sign, alternative), note="one unit: sign-flip p")
        return out
    ma, mb = tn / nn, td / nn
    infl = (num - ma * cells) / tn - (den - mb * cells) / td
    var = float((infl**2).sum()) * g / (g - 1)
    if _tiny(math.sqrt(max(var, 0.0)), 1.0):
        out.update(p=_flip_p(g, sign, alternative), se_log=0.0,
                   note=f"no variance of the ratio across {g} units: exact sign-flip p")
        return out
    se = math.sqrt(var)
    tstat = lr / se
    p = float(st.t.sf(tstat, g - 1)) if alternative == "greater" else float(st.t.cdf(tstat, g - 1))
    q = float(st.t.ppf(0.5 + level / 2, g - 1))
    r = math.log(tn / td)
    out.update(se_log=se, p=min(1.0, p), ci=(math.exp(r - q * se), math.exp(r + q * se)))
    return out


def loglog_slope_units(factor: np.ndarray, metric: np.ndarray, units: np.ndarray, within: np.ndarray,
                       below: float, level: float = 0.95) -> dict:
    """Slope of log metric on log factor with `within`-cell fixed effects; cluster-robust (CR1)
    SE over units with a t(G - 1) test of slope < below and the matching t interval.
    Non-positive values are dropped (counted); one unit gives no SE, no CI and the sign-flip
    p; a perfect fit across units (no residual spread) gives the sign-flip p, not 0."""
    from scipy import stats as st

    x, y = np.asarray(factor, dtype=float), np.asarray(metric, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    out: dict = {"slope": float("nan"), "ci": None, "se": float("nan"), "p": 1.0, "n": int(keep.sum()),
                 "clusters": 0, "dropped": int(x.size - keep.sum()), "note": ""}
    x, y, u, w = np.log(x[keep]), np.log(y[keep]), units[keep], within[keep]
    if x.size < 3:
        return out
    _, wc = np.unique(w, return_inverse=True)
    _, uc = np.unique(u, return_inverse=True)
    g = int(uc.max()) + 1

    def demean(v: np.ndarray) -> np.ndarray:
        return v - (np.bincount(wc, weights=v) / np.bincount(wc))[wc]

    xd, yd = demean(x), demean(y)
    sxx = float((xd * xd).sum())
    if sxx == 0:
        return out
    slope = float((xd * yd).sum() / sxx)
    out.update(slope=slope, clusters=g)
    sign = float(np.sign(round(below - slope, DECIMALS)))
    if g < 2:
        out.update(p=_flip_p(g, sign, "greater"), note="one unit: sign-flip p")
        return out
    score = np.bincount(uc, weights=xd * (yd - slope * xd), minlength=g)
    se = math.sqrt(float((score**2).sum()) * g / (g - 1)) / sxx
    out["se"] = se
    if _tiny(se, slope):
        out.update(p=_flip_p(g, sign, "greater"), note=f"no residual spread across {g} units: exact sign-flip p")
        return out
    q = float(st.t.ppf(0.5 + level / 2, g - 1))
    out.update(p=min(1.0, float(st.t.cdf((slope - below) / se, g - 1))), ci=(slope - q * se, slope + q * se))
    return out
