"""Classic tests on trial-level samples, effect sizes and Holm.

Tests come from scipy (imported lazily, inside the functions, so `import sorg` stays cheap).
Claims judge per-unit numbers with `sorg.inference`; these functions remain the reference
implementations (checked against scipy and statsmodels) and serve reports and users. Where
the data have no spread a test statistic is undefined, and the p is the permutation floor of
the design (2**-n for n paired differences), never 0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

# --------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class TestResult:
    """A test's statistic and p-value, with the name a reviewer reads in the verdict."""

    name: str
    statistic: float
    p: float
    n: int


@contextmanager
def _quiet_precision():
    """scipy warns of 'precision loss' when one arm is constant (all rubric scores 0, say);
    the test is still exact enough because the other arm's variance carries it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
        yield


def _tiny(sd: float, scale: float) -> bool:
    """Zero spread up to rounding (np.std of [0.1]*3 is ~1e-17, not 0)."""
    return sd <= 1e-12 * max(1.0, abs(scale))


def _clip_p(p: float) -> float:
    if p is None or not math.isfinite(p):
        return 1.0
    return float(min(1.0, max(0.0, p)))


def wilcoxon_paired(diff: ArrayLike, alternative: str = "greater") -> TestResult:
    """Wilcoxon signed-rank test on paired differences (zeros dropped, scipy's 'wilcox').

    All-zero differences carry no evidence either way: p = 1 for a one-sided test (and for
    two-sided), instead of scipy's error.
    """
    from scipy import stats as st

    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    nz = d[d != 0]
    if nz.size == 0:
        return TestResult("Wilcoxon signed-rank", float("nan"), 1.0, int(d.size))
    res = st.wilcoxon(nz, alternative=alternative, zero_method="wilcox")
    return TestResult("Wilcoxon signed-rank", float(res.statistic), _clip_p(res.pvalue), int(d.size))


def paired_t(diff: ArrayLike, alternative: str = "greater", popmean: float = 0.0) -> TestResult:
    """One-sample t test of paired differences against `popmean`.

    Zero variance: the t statistic is undefined; the p is the exact sign-flip p (2**-n when
    every pair differs by the same amount in the tested direction, else 1), never 0: n equal
    differences are n signs, not certainty.
    """
    from scipy import stats as st

    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    n = int(d.size)
    if n < 2:
        return TestResult("paired t", float("nan"), 1.0, n)
    sd = float(np.std(d, ddof=1))
    m = float(np.mean(d)) - popmean
    if _tiny(sd, float(np.mean(d))):
        return TestResult("paired t", float("nan"), _degenerate_p(m, alternative, 2.0**-n), n)
    with _quiet_precision():
        res = st.ttest_1samp(d, popmean, alternative=alternative)
    return TestResult("paired t", float(res.statistic), _clip_p(res.pvalue), n)


def _degenerate_p(m: float, alternative: str, floor: float) -> float:
    """p when the data have no spread: the permutation floor `floor` in the direction of m."""
    m = round(m, 12)
    if alternative == "greater":
        return floor if m > 0 else 1.0
    if alternative == "less":
        return floor if m < 0 else 1.0
    return min(1.0, 2 * floor) if m != 0 else 1.0


def mann_whitney(a: ArrayLike, b: ArrayLike, alternative: str = "greater") -> TestResult:
    """Mann-Whitney U (A vs B, unpaired); identical constant samples give p = 1."""
    from scipy import stats as st

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n = int(x.size + y.size)
    if x.size == 0 or y.size == 0:
        return TestResult("Mann-Whitney U", float("nan"), 1.0, n)
    if np.all(np.concatenate([x, y]) == x[0]):
        return TestResult("Mann-Whitney U", float("nan"), 1.0, n)
    res = st.mannwhitneyu(x, y, alternative=alternative)
    return TestResult("Mann-Whitney U", float(res.statistic), _clip_p(res.pvalue), n)


def welch_t(a: ArrayLike, b: ArrayLike, alternative: str = "greater") -> TestResult:
    """Welch's unequal-variance t test (the unpaired counterpart of the paired t)."""
    from scipy import stats as st

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n = int(x.size + y.size)
    if x.size < 2 or y.size < 2:
        return TestResult("Welch t", float("nan"), 1.0, n)
    if _tiny(float(np.std(x)) + float(np.std(y)), float(abs(x).max() + abs(y).max())):
        floor = 1.0 / math.comb(x.size + y.size, x.size)  # the most extreme split of the labels
        return TestResult("Welch t", float("nan"), _degenerate_p(float(x.mean() - y.mean()), alternative, floor), n)
    with _quiet_precision():
        res = st.ttest_ind(x, y, equal_var=False, alternative=alternative)
    return TestResult("Welch t", float(res.statistic), _clip_p(res.pvalue), n)


def kruskal(groups: Sequence[ArrayLike]) -> TestResult:
    """Kruskal-Wallis H across groups; all values identical gives p = 1 (no spread at all)."""
    from scipy import stats as st

    gs = [np.asarray(g, dtype=float) for g in groups]
    gs = [g[np.isfinite(g)] for g in gs]
    gs = [g for g in gs if g.size]
    n = int(sum(g.size for g in gs))
    if len(gs) < 2:
        return TestResult("Kruskal-Wallis H", float("nan"), 1.0, n)
    allv = np.concatenate(gs)
    if np.all(allv == allv[0]):
        return TestResult("Kruskal-Wallis H", 0.0, 1.0, n)
    res = st.kruskal(*gs)
    return TestResult("Kruskal-Wallis H", float(res.statistic), _clip_p(res.pvalue), n)


def friedman(blocks: np.ndarray) -> TestResult:
    """Friedman chi-square on a (blocks x groups) matrix: the blocked (paired) counterpart
    of Kruskal-Wallis, for when every group ran the same tasks and seeds. Needs >= 3 groups.
    A matrix with no variation at all gives p = 1."""
    from scipy import stats as st

    m = np.asarray(blocks, dtype=float)
    if m.ndim != 2 or m.shape[1] < 3:
        raise ValueError(f"Friedman needs a blocks x groups matrix with >= 3 groups, got shape {m.shape}")
    n = int(m.shape[0])
    if n < 2:
        return TestResult("Friedman chi-square", float("nan"), 1.0, n)
    if np.all(m == m[0, 0]):
        return TestResult("Friedman chi-square", 0.0, 1.0, n)
    res = st.friedmanchisquare(*m.T)
    return TestResult("Friedman chi-square", float(res.statistic), _clip_p(res.pvalue), n)


def tost_paired(diff: ArrayLike, margin: float, alpha: float = 0.05) -> dict:
    """Two one-sided paired t tests: is the mean difference inside (-margin, +margin)?

    Equivalence is shown when both one-sided nulls (diff <= -margin, diff >= +margin) are
    rejected; the TOST p-value is the larger of the two. This is the honest form of "no
    degradation": a large p from a difference test is only absence of evidence.
    Returns p, p_lower, p_upper, mean, the (1 - 2 alpha) t interval and n.
    """
    from scipy import stats as st

    if margin <= 0:
        raise ValueError(f"equivalence margin must be > 0, got {margin!r}")
    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    n = int(d.size)
    if n < 2:
        return {"p": 1.0, "p_lower": 1.0, "p_upper": 1.0, "mean": float("nan"),
                "ci": (float("nan"), float("nan")), "n": n}
    m = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(n)
    df = n - 1
    if _tiny(se, m):
        p_lo = 2.0**-n if m > -margin else 1.0  # sign-flip floor, not certainty
        p_hi = 2.0**-n if m < margin else 1.0
        ci = (float("nan"), float("nan"))
    else:
        p_lo = float(st.t.sf((m + margin) / se, df))  # H0: mean <= -margin
        p_hi = float(st.t.cdf((m - margin) / se, df))  # H0: mean >= +margin
        q = float(st.t.ppf(1 - alpha, df))
        ci = (m - q * se, m + q * se)
    return {"p": max(p_lo, p_hi), "p_lower": p_lo, "p_upper": p_hi, "mean": m, "ci": ci, "n": n}


def tost_welch(a: ArrayLike, b: ArrayLike, margin: float, alpha: float = 0.05) -> dict:
    """TOST for two independent samples (Welch): is mean(a) - mean(b) inside +-margin?"""
    from scipy import stats as st

    if margin <= 0:
        raise ValueError(f"equivalence margin must be > 0, got {margin!r}")
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n = int(x.size + y.size)
    if x.size < 2 or y.size < 2:
        return {"p": 1.0, "p_lower": 1.0, "p_upper": 1.0, "mean": float("nan"),
                "ci": (float("nan"), float("nan")), "n": n}
    m = float(x.mean() - y.mean())
    vx, vy = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se = math.sqrt(vx + vy)
    if _tiny(se, m):
        floor = 1.0 / math.comb(x.size + y.size, x.size)
        p_lo = floor if m > -margin else 1.0
        p_hi = floor if m < margin else 1.0
        ci = (float("nan"), float("nan"))
    else:
        df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
        p_lo = float(st.t.sf((m + margin) / se, df))
        p_hi = float(st.t.cdf((m - margin) / se, df))
        q = float(st.t.ppf(1 - alpha, df))
        ci = (m - q * se, m + q * se)
    return {"p": max(p_lo, p_hi), "p_lower": p_lo, "p_upper": p_hi, "mean": m, "ci": ci, "n": n}


# --------------------------------------------------------------------------- effect sizes


def cohen_dz(diff: ArrayLike) -> float:
    """Cohen's d_z for paired data: mean difference / SD of differences."""
    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    if d.size < 2:
        return float("nan")
    sd = float(d.std(ddof=1))
    m = float(d.mean())
    if _tiny(sd, m):
        return 0.0 if m == 0 else math.copysign(math.inf, m)
    return m / sd


def cohen_d(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d with the pooled SD: (mean a - mean b) / s_pooled."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size < 2 or y.size < 2:
        return float("nan")
    sp2 = ((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2)
    m = float(x.mean() - y.mean())
    if _tiny(math.sqrt(sp2), float(abs(x).max())):
        return 0.0 if m == 0 else math.copysign(math.inf, m)
    return m / math.sqrt(sp2)


def _z(q: float) -> float:
    from scipy import stats as st

    return float(st.norm.ppf(q))


def dz_ci(dz: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Normal-approximation CI for d_z: SE = sqrt(1/n + d^2 / (2n))."""
    if n < 2 or not math.isfinite(dz):
        return (float("nan"), float("nan"))
    se = math.sqrt(1.0 / n + dz * dz / (2.0 * n))
    q = _z(0.5 + level / 2)
    return (dz - q * se, dz + q * se)


def d_ci(d: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Normal-approximation CI for pooled d (Hedges & Olkin): SE = sqrt(N/(n1 n2) + d^2/(2N))."""
    if n1 < 2 or n2 < 2 or not math.isfinite(d):
        return (float("nan"), float("nan"))
    big_n = n1 + n2
    se = math.sqrt(big_n / (n1 * n2) + d * d / (2.0 * big_n))
    q = _z(0.5 + level / 2)
    return (d - q * se, d + q * se)


# --------------------------------------------------------------------------- multiplicity


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (monotone, capped at 1), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adj_sorted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adj = np.empty(m)
    adj[order] = np.minimum(adj_sorted, 1.0)
    return [float(v) for v in adj]
