"""Trial-level ratio and log-log slope tests with task-clustered variance.

Kept as reference implementations (the slope matches OLS with cell dummies); claims use the
unit-level versions in `sorg.inference`, which take t(G - 1) references and give no interval
from one task.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sorg.stats.bootstrap import DEFAULT_BOOT, DEFAULT_SEED, _percentile_ci, _sums, boot_products, cluster_codes
from sorg.stats.core import _clip_p, _degenerate_p

# --------------------------------------------------------------------------- ratio, slope


def log_ratio_test(a, a_clusters, b, b_clusters, threshold: float, alternative: str = "greater") -> dict:
    """Is mean(a)/mean(b) above (below) `threshold`? Delta method on the log ratio.

    The variance comes from per-cluster influence values (cluster-robust, G/(G-1)
    small-sample factor), so tasks, not trials, are the independent units. Normal reference.
    """
    from scipy import stats as st

    if threshold <= 0:
        raise ValueError(f"ratio threshold must be > 0, got {threshold!r}")
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    labels = list(np.asarray(a_clusters).tolist()) + list(np.asarray(b_clusters).tolist())
    codes, k = cluster_codes(labels)
    ca, cb = codes[: x.size], codes[x.size :]
    sa, _, na = _sums(x, ca, k)
    sb, _, nb = _sums(y, cb, k)
    ma, mb = sa.sum() / na.sum(), sb.sum() / nb.sum()
    out = {"ratio": float(ma / mb) if mb else float("nan"), "se_log": float("nan"), "p": 1.0, "clusters": k}
    if not (ma > 0 and mb > 0) or k < 2:
        return out
    infl = (sa - ma * na) / (ma * na.sum()) - (sb - mb * nb) / (mb * nb.sum())
    var = float((infl**2).sum()) * k / (k - 1)
    lr = math.log(ma / mb) - math.log(threshold)
    if var <= 0:
        out["p"] = _degenerate_p(lr, alternative, 2.0**-k)
        out["se_log"] = 0.0
        return out
    se = math.sqrt(var)
    z = lr / se
    p = float(st.norm.sf(z)) if alternative == "greater" else float(st.norm.cdf(z))
    out.update(se_log=se, p=_clip_p(p), z=z)
    return out


def demean(x: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """x minus its group mean, groups given as integer codes 0..k-1 (fixed effects)."""
    if x.size == 0:
        return x
    k = int(codes.max()) + 1
    s = np.bincount(codes, weights=x, minlength=k)
    n = np.bincount(codes, minlength=k)
    return x - (s / np.maximum(n, 1))[codes]


def loglog_slope(
    factor: Sequence[float],
    metric: Sequence[float],
    clusters: Sequence,
    *,
    within: Sequence | None = None,
    below: float | None = None,
    level: float = 0.95,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> dict:
    """Slope of log(metric) on log(factor), clustered by `clusters`.

    Slope < 1 means the metric grows sub-linearly in the factor. `within` (one label per
    trial, e.g. task|protocol|model) adds fixed effects so that the slope compares a cell
    with itself at another team size rather than protocols with each other. The CI is a
    task-clustered bootstrap; the test of `slope < below` uses a cluster-robust (CR1)
    standard error with G - 1 degrees of freedom. Non-positive values cannot be logged and
    are dropped (counted in `dropped`).
    """
    from scipy import stats as st

    x = np.asarray(factor, dtype=float)
    y = np.asarray(metric, dtype=float)
    cl = np.asarray(clusters)
    w = np.asarray(within) if within is not None else np.zeros(x.size, dtype=np.int64)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    dropped = int(x.size - keep.sum())
    x, y, cl, w = np.log(x[keep]), np.log(y[keep]), cl[keep], w[keep]
    out: dict = {"slope": float("nan"), "ci": (float("nan"), float("nan")), "se": float("nan"),
                 "p": 1.0, "n": int(x.size), "clusters": 0, "dropped": dropped}
    if x.size < 3:
        return out
    wcodes, _ = cluster_codes(w)
    xd = demean(x, wcodes)
    yd = demean(y, wcodes)
    sxx = float((xd * xd).sum())
    if sxx == 0:
        return out
    slope = float((xd * yd).sum() / sxx)
    codes, k = cluster_codes(cl)
    out.update(slope=slope, clusters=k)
    cxy = np.bincount(codes, weights=xd * yd, minlength=k)
    cxx = np.bincount(codes, weights=xd * xd, minlength=k)
    bxy, bxx = boot_products(k, [cxy, cxx], n_boot, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = bxy / bxx
    out["ci"] = _percentile_ci(boot, level)
    if k >= 2:
        resid = yd - slope * xd
        score = np.bincount(codes, weights=xd * resid, minlength=k)
        var = float((score**2).sum()) / sxx**2 * k / (k - 1)
        se = math.sqrt(var)
        out["se"] = se
        if below is not None:
            if se == 0:
                out["p"] = 2.0**-k if slope < below else 1.0  # sign-flip floor, not certainty
            else:
                out["p"] = _clip_p(float(st.t.cdf((slope - below) / se, k - 1)))
    return out
