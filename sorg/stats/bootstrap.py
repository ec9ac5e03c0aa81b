"""Clustered bootstrap intervals: resample whole tasks, not trials.

Why: trials of one task are correlated, so a bootstrap over trials treats 3 seeds of one task
as 3 tasks. Vectorised: each resample is a row of cluster multiplicities W (B x k) and every
statistic is a ratio of W @ per-cluster sums. With few tasks the percentile interval
under-covers (about 80% at 4 tasks), which is why claims print t intervals over task means;
reports still use it for descriptive per-protocol means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

DEFAULT_BOOT = 2000
DEFAULT_SEED = 20260328


# --------------------------------------------------------------------------- clustered bootstrap


def _sort_key(x: object) -> tuple:
    return (type(x).__name__, x)


def cluster_codes(clusters: Sequence) -> tuple[np.ndarray, int]:
    """Integer cluster codes 0..k-1 for any hashable labels, in *sorted* label order.

    Sorted, not first-seen: the bootstrap's draw for code j must mean the same task however
    the trials arrived (xdist workers finish in any order), so verdicts are reproducible.
    """
    arr = np.asarray(clusters)
    if arr.dtype.kind in "iu":
        uniq, codes = np.unique(arr, return_inverse=True)
        return codes.astype(np.int64).ravel(), int(uniq.size)
    labels = arr.tolist() if arr.ndim else [arr.item()]
    uniq_sorted = sorted(set(labels), key=_sort_key)
    mapping = {u: i for i, u in enumerate(uniq_sorted)}
    codes = np.fromiter((mapping[c] for c in labels), dtype=np.int64, count=len(labels))
    return codes, len(mapping)


def _weight_chunks(k: int, n_boot: int, seed: int, rows: int | None = None):
    """Rows of the (n_boot x k) multiplicity matrix, a chunk at a time (the same random
    stream as drawing it whole), so a study-sized bootstrap never holds the whole matrix."""
    rows = rows or max(1, min(n_boot, 2_000_000 // max(k, 1)))
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, rows):
        b = min(rows, n_boot - start)
        idx = rng.integers(0, k, size=(b, k))
        flat = (idx + (np.arange(b, dtype=np.int64) * k)[:, None]).ravel()
        yield np.bincount(flat, minlength=b * k).reshape(b, k).astype(float)


def boot_weights(k: int, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED) -> np.ndarray:
    """(n_boot x k) multiplicities: row b says how often each cluster is drawn in resample b."""
    if k <= 0:
        return np.zeros((n_boot, 0))
    return np.vstack(list(_weight_chunks(k, n_boot, seed)))


def boot_products(k: int, vectors: Sequence[np.ndarray], n_boot: int = DEFAULT_BOOT,
                  seed: int = DEFAULT_SEED) -> list[np.ndarray]:
    """W @ v for each per-cluster vector v, W = boot_weights(k, n_boot, seed), built in chunks."""
    out: list[list[np.ndarray]] = [[] for _ in vectors]
    for w in _weight_chunks(k, n_boot, seed):
        for acc, v in zip(out, vectors):
            acc.append(w @ v)
    return [np.concatenate(acc) if acc else np.zeros(0) for acc in out]


def _sums(values: np.ndarray, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ok = np.isfinite(values)
    v, c = values[ok], codes[ok]
    s = np.bincount(c, weights=v, minlength=k)
    ss = np.bincount(c, weights=v * v, minlength=k)
    n = np.bincount(c, minlength=k).astype(float)
    return s, ss, n


def _percentile_ci(boot: np.ndarray, level: float) -> tuple[float, float]:
    b = boot[np.isfinite(boot)]
    if b.size < 10:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(b, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return (float(lo), float(hi))


def cluster_bootstrap(
    groups: Sequence[tuple[Sequence[float], Sequence]],
    statistic: Callable[..., np.ndarray],
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> tuple[tuple[float, float], np.ndarray]:
    """Percentile CI of `statistic(*moments)` resampling whole clusters.

    `groups` is a list of (values, cluster labels) pairs, one per arm; clusters are shared
    across arms (drawing task t draws every arm's trials of t, which keeps the pairing).
    `statistic` receives, per arm, a dict with arrays "s", "ss", "n" (sum, sum of squares,
    count per resample, each shape (n_boot,)) and returns an array of shape (n_boot,).
    Returns the CI and the bootstrap distribution.
    """
    labels: list = []
    for _, cl in groups:
        labels.extend(np.asarray(cl).tolist())
    codes_all, k = cluster_codes(labels)
    if k == 0:
        return (float("nan"), float("nan")), np.array([])
    sums: list[np.ndarray] = []
    start = 0
    for vals, _ in groups:
        v = np.asarray(vals, dtype=float)
        codes = codes_all[start : start + v.size]
        start += v.size
        sums.extend(_sums(v, codes, k))
    prods = boot_products(k, sums, n_boot, seed)
    moms = [{"s": prods[i], "ss": prods[i + 1], "n": prods[i + 2]} for i in range(0, len(prods), 3)]
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = np.asarray(statistic(*moms), dtype=float)
    return _percentile_ci(boot, level), boot


def _mean(m: dict) -> np.ndarray:
    return m["s"] / m["n"]


def _var(m: dict) -> np.ndarray:
    return (m["ss"] - m["s"] ** 2 / m["n"]) / (m["n"] - 1)


def boot_mean_ci(values, clusters, **kw) -> tuple[float, float]:
    """Clustered bootstrap CI of a mean."""
    ci, _ = cluster_bootstrap([(values, clusters)], _mean, **kw)
    return ci


def boot_diff_ci(a, a_clusters, b, b_clusters, **kw) -> tuple[float, float]:
    """Clustered bootstrap CI of mean(a) - mean(b) (paired or not: clusters are shared)."""
    ci, _ = cluster_bootstrap([(a, a_clusters), (b, b_clusters)], lambda x, y: _mean(x) - _mean(y), **kw)
    return ci


def boot_ratio_ci(a, a_clusters, b, b_clusters, **kw) -> tuple[float, float]:
    """Clustered bootstrap CI of mean(a) / mean(b)."""
    ci, _ = cluster_bootstrap([(a, a_clusters), (b, b_clusters)], lambda x, y: _mean(x) / _mean(y), **kw)
    return ci


def boot_dz_ci(diff, clusters, **kw) -> tuple[float, float]:
    """Clustered bootstrap CI of d_z (mean / SD of paired differences)."""
    ci, _ = cluster_bootstrap([(diff, clusters)], lambda x: _mean(x) / np.sqrt(_var(x)), **kw)
    return ci


def boot_d_ci(a, a_clusters, b, b_clusters, **kw) -> tuple[float, float]:
    """Clustered bootstrap CI of pooled Cohen's d."""

    def stat(x, y):
        sp2 = ((x["n"] - 1) * _var(x) + (y["n"] - 1) * _var(y)) / (x["n"] + y["n"] - 2)
        return (_mean(x) - _mean(y)) / np.sqrt(sp2)

    ci, _ = cluster_bootstrap([(a, a_clusters), (b, b_clusters)], stat, **kw)
    return ci


def naive_mean_ci(values, *, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED, level: float = 0.95):
    """Bootstrap CI of a mean resampling single values (what clustering corrects)."""
    v = np.asarray(values, dtype=float)
    return boot_mean_ci(v, np.arange(v.size), n_boot=n_boot, seed=seed, level=level)
