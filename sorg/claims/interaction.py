"""`interaction`: an effect that reverses (or shrinks) across a factor, as one test.

Why a claim kind of its own: "below a capability threshold fixed roles win, above it free-form
roles win" is a statement about a difference of differences. Two separate `beats` claims (one
per model) test two other things, and one passing while the other fails shows no interaction.
Here, per unit (task): (a - b) on the first level minus (a - b) on the second, each difference
matched like for like within its level, and the same location test as `beats` on those unit
values (H0: difference of differences <= 0), with its interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sorg.claims import _common as c
from sorg.claims.verdict import Verdict, _f
from sorg.power import power_units
from sorg.results import Trials
from sorg.stats.location import TESTS, check_alpha, location_test


def _unit_diffs(t: Trials, fa: dict, fb: dict, metric: str, fields: Sequence[str],
                ufield: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(unit labels, mean a - b per unit, matched pairs) within one level."""
    pairs = t.pairs(fa, fb, metric, pair_by=list(fields), cluster_by=ufield)
    if not len(pairs):
        return np.array([]), np.array([]), 0
    labels = np.asarray([str(x) for x in pairs.cluster])
    uniq, inv = np.unique(labels, return_inverse=True)
    return uniq, np.bincount(inv, weights=pairs.diff) / np.bincount(inv), len(pairs)


def interaction(
    trials: Trials,
    factor: str = "model",
    levels: tuple[Any, Any] = ("weak", "strong"),
    *,
    by: str = "protocol",
    a: Any = "fixed_roles",
    b: Any = "sequential",
    metric: str = "quality.judge_q",
    alpha: float = 0.05,
    test: str = "mean",
    unit: str = "task",
    pair_by: Sequence[str] | None = None,
    paper_value: float | None = None,
    name: str | None = None,
    **where: Any,
) -> Verdict:
    """(a - b) at `factor`=levels[0] exceeds (a - b) at levels[1], paired by unit (task).

    `levels` entries are values of `factor` (or lists of values, e.g. every weak model); `a`
    and `b` values of `by`. Within each level, a and b are matched on unit, seed and the other
    varying design factors and averaged per unit; units present at both levels give one value
    each, and `test` ("mean" default: exact sign flips up to 16 units, t above; "t",
    "permutation", "wilcoxon") decides H0: difference of differences <= 0 at `alpha`.
    `paper_value` (the paper's difference of differences) adds the compatibility statement.
    """
    if test not in TESTS:
        raise ValueError(f"interaction(test=...) must be one of {TESTS}, got {test!r}")
    alpha = check_alpha(alpha, "interaction(alpha=...)")
    if len(levels) != 2:
        raise ValueError(f"interaction(levels=...) must name two levels of {factor}, got {levels!r}")
    l0, l1 = c.label(levels[0]), c.label(levels[1])
    la, lb = c.label(a), c.label(b)
    scope = f" ({c.scope_text(where)})" if where else ""
    statement = (f"{la} - {lb} on {metric} is larger at {factor}={l0} than at {factor}={l1}"
                 f" (interaction {by} x {factor})" + scope)
    name = name or f"interaction: ({la} - {lb}) at {l0} > at {l1} on {metric}{scope}"
    t, incomplete = c.scoped(trials, where)
    ufield = c.unit_field(unit)
    word = c.unit_word(ufield)
    fa, fb = c.arm(by, a), c.arm(by, b)
    per_level = []
    for lv in levels:
        tl = t.where(**c.arm(factor, lv))
        for f in (fa, fb):
            if not len(tl.where(**f)):
                return c.missing("interaction", name, statement, {**c.arm(factor, lv), **f, **where}, alpha=alpha)
        c.check_values(tl.values(metric), metric)
        fields = c.pair_fields(tl, exclude=[by, factor, *fa, *fb], pair_by=pair_by, unit=ufield)
        per_level.append(_unit_diffs(tl, fa, fb, metric, fields, ufield))
    (u0, d0, n0), (u1, d1, n1) = per_level
    common, i0, i1 = np.intersect1d(u0, u1, return_indices=True)
    g = int(common.size)
    if g == 0:
        return c.skip_v("interaction", name, statement, alpha=alpha, reason=
                        f"no {word} with {la} and {lb} matched at both {factor}={l0} and {factor}={l1}")
    dd = d0[i0] - d1[i1]
    res = location_test(dd, 0.0, alpha, test)
    sd = float(np.std(dd, ddof=1)) if g > 1 else math.nan
    dz = float(np.mean(dd)) / sd if g > 1 and sd > 0 else math.nan
    details: dict[str, Any] = {
        "factor": factor, "levels": [l0, l1], "by": by, "a": la, "b": lb, "metric": metric, "scope": dict(where),
        "incomplete": incomplete, "clusters": g, "unit_word": word, "estimand": res.estimand,
        "diff_at": {l0: float(np.mean(d0[i0])), l1: float(np.mean(d1[i1]))}, "pairs_at": {l0: n0, l1: n1},
        "decision_ci": res.bound, "decision_level": 1 - 2 * alpha, "null": 0.0,
        "power_basis": f"at observed d_z={_f(dz)}, {g} {word}s, {res.name}, alpha {alpha:g}",
        "power_spec": {"design": "paired", "test": test, "d": dz, "n": g},
        **c.floor_details(res, word), **c.compatibility(paper_value, res.ci, _f(paper_value, True)),
        **({"note": res.note} if res.note else {}),
    }
    v = Verdict(
        name=name, kind="interaction", statement=statement, test=f"{res.name} (one-sided, H0: {res.estimand} <= 0)",
        n=g, unit=f"{word}s matched at both levels ({n0} + {n1} pairs)",
        means={f"{la} - {lb} at {l0}": float(np.mean(d0[i0])), f"{la} - {lb} at {l1}": float(np.mean(d1[i1]))},
        estimate_name="difference of differences", estimate=res.estimate, ci=res.ci,
        ci_method="t interval" if res.name.startswith("t test") else "interval of the same test",
        effect_name="d_z", effect=dz if math.isfinite(dz) else None, p=res.p, alpha=alpha,
        power=power_units(dz, g, alpha, test) if math.isfinite(dz) else None, details=details)
    return c.undecidable(v) if res.floor >= alpha else c.finish(v)
