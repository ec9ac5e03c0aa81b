"""Friedman's test by its permutation distribution: exact where it is cheap, Monte Carlo above.

Why: the chi-square reference of Friedman's statistic runs about 7% at 0.05 with 3 groups and
4 tasks, and cannot reach 1e-4 below 10 tasks where the exact test can (issue 27). Under H0
every within-task ordering of the groups is equally likely, so the exact p is the share of
within-task permutations whose rank sums are at least as spread as observed. The statistic
used is sum_j R_j**2 (R_j: column sums of within-task midranks), which orders permutations as
Friedman's chi-square does (the tie correction is the same for every permutation).

The exact distribution is built task by task over the reachable rank-sum vectors (each stored
as one int64 key), so its cost is the number of distinct vectors, not (k!)**G; where that
grows past `MAX_STATES` (4+ groups and many tasks), within-task permutations are drawn in
chunks; above `MC_MAX` tasks the chi-square p is used, never below the exact floor.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

MAX_STATES = 200_000
MC_MAX = 400
N_PERM = 20_000
CHUNK_BYTES = 16 * 2**20


@dataclass(frozen=True)
class FriedmanResult:
    name: str
    p: float
    statistic: float
    n: int
    nonzero: int
    floor: float
    floor_kind: str = "friedman"


def _ranks2(m: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.round(2 * rankdata(np.round(m, 12), axis=1)).astype(np.int64)


def _exact(r2: np.ndarray, s_obs: int) -> tuple[float, float] | None:
    """(p, floor) from the exact permutation distribution, None where it is too large."""
    g, k = r2.shape
    base = int(2 * k * g + 1)
    if base**k >= 2**62 or (2 * (k - 1) * g + 1) ** (k - 1) > MAX_STATES:  # bound on the rank-sum vectors
        return None
    weights = base ** np.arange(k, dtype=np.int64)
    keys: np.ndarray = np.zeros(1, dtype=np.int64)
    prob: np.ndarray = np.ones(1)
    for row in r2:
        perms = np.array(list(itertools.permutations(row.tolist())), dtype=np.int64)
        add = perms @ weights
        new = (keys[:, None] + add[None, :]).ravel()
        uniq, inv = np.unique(new, return_inverse=True)
        prob = np.bincount(inv, weights=np.repeat(prob / len(perms), len(perms)))
        keys = uniq
    sums = (keys[:, None] // weights[None, :]) % base
    s = (sums**2).sum(axis=1)
    return float(prob[s >= s_obs].sum()), float(prob[s >= s.max()].sum())


def _monte_carlo(r2: np.ndarray, s_obs: int, n_perm: int, seed: int) -> float:
    g, k = r2.shape
    rng = np.random.default_rng(seed)
    rows = max(1, min(n_perm, CHUNK_BYTES // (8 * g * k)))
    hits = 0
    table = (np.stack([np.array(list(itertools.permutations(row.tolist())), dtype=np.int64) for row in r2])
             if k <= 6 else None)  # (g, k!, k): a draw is one index per task, not a sort
    for start in range(0, n_perm, rows):
        b = min(rows, n_perm - start)
        if table is not None:
            pick = rng.integers(0, table.shape[1], size=(b, g))
            sums = table[np.arange(g)[None, :], pick].sum(axis=1)
        else:
            idx = np.argsort(rng.random((b, g, k)), axis=2)
            sums = np.take_along_axis(np.broadcast_to(r2, (b, g, k)), idx, axis=2).sum(axis=1)
        hits += int(np.sum((sums**2).sum(axis=1) >= s_obs))
    return (1 + hits) / (1 + n_perm)


def friedman_perm(matrix: np.ndarray, *, n_perm: int = N_PERM, seed: int = 20260328) -> FriedmanResult:
    """Friedman's test of a (tasks x groups) matrix (>= 3 groups) by its permutation
    distribution; tasks where every group ties carry no information and are set aside."""
    from scipy import stats as st

    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[1] < 3:
        raise ValueError(f"Friedman needs a tasks x groups matrix with >= 3 groups, got shape {m.shape}")
    g, k = m.shape
    keep = np.ptp(np.round(m, 12), axis=1) > 0
    nz = int(keep.sum())
    floor_guess = 1.0 if nz < 2 else float(math.factorial(k)) ** -(nz - 1)
    if nz < 2:
        return FriedmanResult("Friedman test", 1.0, 0.0, g, nz, 1.0)
    r2 = _ranks2(m[keep])
    s_obs = int((r2.sum(axis=0) ** 2).sum())
    chi = float(st.friedmanchisquare(*m[keep].T).statistic)
    exact = _exact(r2, s_obs) if nz <= MC_MAX else None
    if exact is not None:
        return FriedmanResult("Friedman test (exact permutation distribution)", exact[0], chi, g, nz, exact[1])
    if nz <= MC_MAX:
        p = _monte_carlo(r2, s_obs, n_perm, seed)
        return FriedmanResult(f"Friedman test ({n_perm} within-task permutations)", p, chi, g, nz,
                              max(floor_guess, 1.0 / (1 + n_perm)))
    p = float(st.chi2.sf(chi, k - 1))
    return FriedmanResult("Friedman chi-square", max(p, floor_guess), chi, g, nz, floor_guess)


# --------------------------------------------------------------------------- power

#: Monte Carlo draws for Friedman power (common random numbers: smooth in the number of tasks).
N_SIM = 4000
#: Above this many tasks power uses the noncentral chi-square approximation.
SIM_MAX = 100


def _null_s(g: int, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact null distribution of sum_j R_j**2 (2 x ranks, no ties): values, probabilities."""
    base = int(2 * k * g + 1)
    if base**k >= 2**62 or (2 * (k - 1) * g + 1) ** (k - 1) > MAX_STATES:
        return None
    weights = base ** np.arange(k, dtype=np.int64)
    add = np.array(list(itertools.permutations(range(2, 2 * k + 1, 2))), dtype=np.int64) @ weights
    keys: np.ndarray = np.zeros(1, dtype=np.int64)
    prob: np.ndarray = np.ones(1)
    for _ in range(g):
        uniq, inv = np.unique((keys[:, None] + add[None, :]).ravel(), return_inverse=True)
        prob = np.bincount(inv, weights=np.repeat(prob / add.size, add.size))
        keys = uniq
    s = (((keys[:, None] // weights[None, :]) % base) ** 2).sum(axis=1)
    order = np.argsort(s)
    return s[order], prob[order]


def friedman_critical(g: int, k: int, alpha: float) -> float:
    """Smallest sum_j R_j**2 (2 x ranks) whose p is below alpha with g untied tasks (inf if
    none): from the exact distribution where `friedman_perm` uses it, else from a simulated
    one (as `friedman_perm` permutes); above `MC_MAX` tasks from chi-square, as it does."""
    from scipy import stats as st

    if g < 2 or float(math.factorial(k)) ** -(g - 1) >= alpha:
        return math.inf
    if g > MC_MAX:  # chi = 12 / (g k (k + 1)) sum R^2 - 3 g (k + 1), R in ranks (S / 4)
        chi = float(st.chi2.isf(alpha, k - 1))
        return 4 * (chi + 3 * g * (k + 1)) * g * k * (k + 1) / 12
    s, tail = _null_tail(g, k)
    ok = np.nonzero(tail < alpha)[0]
    return float(s[ok[0]]) if ok.size else math.inf


@functools.lru_cache(maxsize=64)
def _null_tail(g: int, k: int, draws: int = 40_000) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values of sum R^2 under the null and P(S >= value), exact or simulated in chunks."""
    dist = _null_s(g, k)
    if dist is None:
        rng = np.random.default_rng(g * 31 + k)
        rows = max(1, CHUNK_BYTES // (8 * g * k))
        parts = []
        for start in range(0, draws, rows):
            r = np.argsort(rng.random((min(rows, draws - start), g, k)), axis=2) + 1
            parts.append(((2 * r.sum(axis=1)) ** 2).sum(axis=1))
        s = np.sort(np.concatenate(parts))
        dist = (s, np.full(s.size, 1.0 / s.size))
    vals, inv = np.unique(dist[0], return_inverse=True)  # distinct vectors can share a sum of squares
    prob = np.bincount(inv, weights=dist[1])
    return vals, np.cumsum(prob[::-1])[::-1]


def power_friedman(effects: ArrayLike, g: int, alpha: float, *, n_sim: int = N_SIM, seed: int = 11) -> float:
    """Power of `friedman_perm` at level alpha with g tasks whose group means differ by
    `effects` (in units of the within-task residual SD, normal residuals, no ties)."""
    from scipy import stats as st

    eff = np.asarray(effects, dtype=float)
    k = eff.size
    if k < 3 or g < 2 or not np.isfinite(eff).all():
        return 0.0
    if float(math.factorial(k)) ** -(g - 1) >= alpha:
        return 0.0
    rng = np.random.default_rng(seed + k)
    if g > SIM_MAX:  # noncentral chi-square at the simulated mean ranks
        x = rng.standard_normal((200_000, k)) + eff
        mean_rank = (np.argsort(np.argsort(x, axis=1), axis=1) + 1).mean(axis=0)
        lam = 12 * g / (k * (k + 1)) * float(((mean_rank - (k + 1) / 2) ** 2).sum())
        return float(st.ncx2.sf(st.chi2.isf(alpha, k - 1), k - 1, lam))
    crit = friedman_critical(g, k, alpha)
    if not math.isfinite(crit):
        return 0.0
    x = np.random.default_rng(seed + k + 1000 * g).standard_normal((n_sim, g, k)) + eff
    r2 = 2 * (np.argsort(np.argsort(x, axis=2), axis=2) + 1)
    s = (r2.sum(axis=1).astype(np.int64) ** 2).sum(axis=1)
    return float(np.mean(s >= crit))


def group_effects(matrix: np.ndarray) -> np.ndarray | None:
    """Group effects of a (tasks x groups) matrix in units of the residual SD of the additive
    model task + group (what `power_friedman` takes); None with no residual variance."""
    m = np.asarray(matrix, dtype=float)
    g, k = m.shape
    if g < 2 or k < 2:
        return None
    cols = m.mean(axis=0) - m.mean()
    resid = m - m.mean(axis=1, keepdims=True) - cols[None, :]
    var = float((resid**2).sum()) / ((g - 1) * (k - 1))
    if not var > 1e-24:
        return None
    return cols / math.sqrt(var)


def contrast_effects(d: float, k: int) -> np.ndarray:
    """Group effects for a declared d_z of the best - worst contrast, the other k - 2 groups at
    the midpoint (the least favourable spread for a given range): +-d / sqrt(2) residual SDs."""
    eff = np.zeros(k)
    eff[0], eff[1] = d / math.sqrt(2), -d / math.sqrt(2)
    return eff


def effects_lower(effects: ArrayLike, g: int, level: float = 0.8) -> np.ndarray | None:
    """The observed group effects shrunk to the lower `level` confidence bound of their
    noncentrality (two-way ANOVA F, noncentral F with k - 1 and (g - 1)(k - 1) df): a pilot's
    observed effects overstate the truth about half the time, so plans start from this bound.
    None when the bound is 0 (no effect can be vouched for)."""
    from scipy import optimize
    from scipy import stats as st

    e = np.asarray(effects, dtype=float)
    k = e.size
    lam_hat = g * float((e**2).sum())
    if g < 3 or k < 2 or not lam_hat > 0:
        return None
    df1, df2 = k - 1, (g - 1) * (k - 1)
    f_obs = lam_hat / df1
    if st.ncf.sf(f_obs, df1, df2, 1e-9) >= 1 - level:
        return None
    hi = max(1.0, 4 * lam_hat)
    while st.ncf.sf(f_obs, df1, df2, hi) < 1 - level:
        hi *= 2
    lam = optimize.brentq(lambda x: st.ncf.sf(f_obs, df1, df2, x) - (1 - level), 1e-9, hi)
    return e * math.sqrt(lam / lam_hat)
