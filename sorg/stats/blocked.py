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

import itertools
import math
from dataclasses import dataclass

import numpy as np

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
