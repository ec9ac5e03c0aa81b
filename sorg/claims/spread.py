"""`spread`: groups (protocols, say) differ on a metric, judged over units (tasks).

Why this shape: every group's trials are averaged per unit first. Where the groups share
units (the usual design: every protocol runs every task) the omnibus test is blocked by unit
(Friedman; Wilcoxon on unit differences for two groups), so task difficulty drops out;
otherwise Kruskal-Wallis on the unit means. The headline gap is either a contrast declared
before the data (`contrast=("a", "b")`, a plain 95% t interval) or best minus worst chosen
after seeing the data, whose interval is simultaneous over every pairwise contrast
(Bonferroni), so picking the extremes does not make a null gap look real.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sorg import stats
from sorg.claims import _common as c
from sorg.claims.compare import _d_lower, _relative
from sorg.claims.verdict import Verdict, _f
from sorg.inference import rounded, t_interval, wilcoxon_units
from sorg.power import power_units
from sorg.results import Trials
from sorg.stats.blocked import contrast_effects, effects_lower, friedman_perm, group_effects, power_friedman
from sorg.stats.location import check_alpha, floor_p, location_test

_TESTS = ("auto", "friedman", "kruskal")


def _welch_interval(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, float] | None:
    from scipy import stats as st

    if x.size < 2 or y.size < 2:
        return None
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0:
        return None
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    q = float(st.t.ppf(0.5 + level / 2, df))
    m = float(x.mean() - y.mean())
    return (m - q * se, m + q * se)


def _friedman_power(matrix: np.ndarray, nonzero: int, g: int, alpha: float, expected_d: float | None,
                    word: str) -> tuple[float | None, str, dict[str, Any]]:
    """Power of the Friedman test that decides (simulated at its exact critical value), at the
    declared d_z of best vs worst (the other groups at the midpoint) or at the observed group
    effects; and the spec `plan` and Holm's step recompute it from."""
    k = matrix.shape[1]
    declared = expected_d is not None and math.isfinite(expected_d)
    eff = contrast_effects(float(expected_d), k) if declared else group_effects(matrix)  # type: ignore[arg-type]
    if eff is None:
        return None, "no residual variance across tasks: no power", {}
    lower = None if declared else effects_lower(eff, nonzero)
    basis = (f"Friedman power (simulated at its exact critical value, normal residuals) at the "
             f"{'declared d_z ' + _f(expected_d) + ' of best vs worst' if declared else 'observed group effects'}, "
             f"{nonzero} untied {word}s, alpha {alpha:g}")
    spec = {"design": "friedman", "effects": [float(x) for x in eff], "n": nonzero, "n_units": g, "declared": declared,
            "tie_share": 1 - nonzero / g, "effects_lcb": None if lower is None else [float(x) for x in lower]}
    return power_friedman(eff, nonzero, alpha), basis, spec


def _declared_spec(expected_d: float | None, contrast: Any, groups: Any) -> dict[str, Any] | None:
    """What `plan` sizes a skipped spread from: the contrast's mean test, or Friedman at the
    declared d_z of best vs worst when the groups are listed in the claim's scope."""
    if not expected_d:
        return None
    if contrast is not None:
        return {"design": "paired", "test": "mean", "d": expected_d, "declared": True}
    k = len(groups) if isinstance(groups, (list, tuple)) else 0
    return {"design": "friedman", "declared": True,
            "effects": [float(x) for x in contrast_effects(expected_d, k)] if k >= 3 else None}


def _per_group(t: Trials, by: str, metric: str, ufield: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{group: (unit codes, unit means)} for groups with any finite value."""
    out = {}
    for key, g in t.groups(by).items():
        cm = g.cell_means([ufield], metric, ufield)
        if cm.keys.size:
            out[str(key)] = (cm.unit, cm.means)
    return out


def spread(
    trials: Trials,
    by: str = "protocol",
    metric: str = "quality.judge_q",
    *,
    min_gap: float | None = None,
    min_rel_gap: float | None = None,
    min_d: float | None = None,
    alpha: float = 0.05,
    test: str = "auto",
    contrast: tuple[Any, Any] | None = None,
    unit: str = "task",
    expected_d: float | None = None,
    paper_rel_gap: float | None = None,
    paper_d: float | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """Groups of `by` differ on `metric` over units; passes when the (Holm-adjusted) omnibus p
    < alpha and the gap / relative gap / d (of the unit means of the two groups compared)
    reach `min_gap` / `min_rel_gap` / `min_d` where given.

    `test`: "auto" (Friedman blocked by unit when all groups share >= 2 units and there are
    >= 3 groups, two-sided Wilcoxon on unit differences for 2 groups, else Kruskal-Wallis),
    "friedman" (blocked; needs >= 3 groups) or "kruskal" (unit means, unblocked).
    `contrast=(a, b)` declares the gap a - b in advance; without it best - worst is reported
    with a selection-adjusted (Bonferroni over all pairs) 95% interval.

    With a declared contrast over shared units the claim decides on that contrast: the
    one-sided mean difference a - b > 0 (exact sign flips up to 16 units, t above), the test
    whose power it prints. Otherwise the omnibus test decides (its p never below the exact
    Friedman test by its exact permutation distribution where cheap, within-task permutations
    above; its floor after tied tasks decides reachability) and no power is printed (no power
    model for it).
    `paper_rel_gap` / `paper_d` (a replication: the paper's 44%, d 1.86) add a second
    statement: are they inside the 95% intervals of the relative gap (Fieller) and of d
    (`details["compatible"]`, a sentence in the message)?
    """
    if test not in _TESTS:
        raise ValueError(f"spread(test=...) must be one of {_TESTS}, got {test!r}")
    alpha = check_alpha(alpha, "spread(alpha=...)")
    scope = f" ({c.scope_text(where)})" if where else ""
    statement = f"{metric} differs across {by}" + scope
    name = name or f"spread: {metric} across {by}{scope}"
    spec = _declared_spec(expected_d, contrast, where.get(by))
    t, incomplete = c.scoped(trials, where)
    if not len(t):
        return c.missing("spread", name, statement, dict(where), alpha=alpha, spec=spec)
    ufield = c.unit_field(unit)
    word = c.unit_word(ufield)
    c.check_values(t.values(metric), metric)
    groups = _per_group(t, by, metric, ufield)
    if len(groups) < 2:
        return c.skip_v("spread", name, statement, alpha=alpha, spec=spec, reason=
                        f"need at least 2 {by} groups with {metric!r} values in this run, "
                        f"found {sorted(groups) or 'none'}")
    labels = list(groups)
    k = len(labels)
    if test == "friedman" and k < 3:
        return c.skip_v("spread", name, statement, alpha=alpha, spec=spec, reason=
                        f"Friedman needs at least 3 {by} groups, found {sorted(groups)}; use test='kruskal' or beats()")
    common = groups[labels[0]][0]
    for lab in labels[1:]:
        common = np.intersect1d(common, groups[lab][0])
    blocked = test != "kruskal" and common.size >= 2
    if test == "friedman" and not blocked:
        return c.skip_v("spread", name, statement, alpha=alpha, spec=spec,
                        reason=f"Friedman needs >= 2 {word}s shared by every {by} group, found {common.size}")
    extra: dict[str, Any] = {}
    if blocked:
        cols = [rounded(groups[lab][1][np.searchsorted(groups[lab][0], common)]) for lab in labels]
        matrix = np.column_stack(cols)
        if k >= 3:
            res: Any = friedman_perm(matrix)
            test_name = f"{res.name} blocked by {word}"
            if math.isfinite(res.statistic):
                extra["kendall_w"] = float(res.statistic / (matrix.shape[0] * (k - 1)))
        else:
            res = wilcoxon_units(matrix[:, 0] - matrix[:, 1], "two-sided")
            test_name = f"{res.name} (two-sided) on {word} differences"
        g = int(common.size)
        per = {lab: matrix[:, i] for i, lab in enumerate(labels)}
        unit_name = f"{word}s shared by all {k} groups (blocks)"
    else:
        per = {lab: rounded(groups[lab][1]) for lab in labels}
        res = stats.kruskal(list(per.values()))
        test_name = f"Kruskal-Wallis H on {word} means"
        g = int(min(v.size for v in per.values()))
        unit_name = f"{word}s at least per group ({sum(v.size for v in per.values())} group x {word} means)"
    if g < 2:
        return c.skip_v("spread", name, statement, alpha=alpha, spec=spec,
                        reason=f"need >= 2 {word}s per {by} group, found {g}: no variance across {word}s")
    means = {lab: float(v.mean()) for lab, v in per.items()}
    n_pairs = k * (k - 1) // 2
    if contrast is not None:
        best, worst = str(contrast[0]), str(contrast[1])
        for lab in (best, worst):
            if lab not in per:
                return c.missing("spread", name, statement, {by: lab, **where}, alpha=alpha, spec=spec)
        level, gap_kind = 0.95, "declared contrast"
        ci_label = "95% CI"
    else:
        best = max(means, key=means.__getitem__)
        worst = min((lab for lab in means if lab != best), key=means.__getitem__)
        level, gap_kind = 1 - 0.05 / n_pairs, "best-worst gap (chosen after the data)"
        ci_label = f"95% simultaneous CI (Bonferroni over {n_pairs} contrasts)" if n_pairs > 1 else "95% CI"
    xb, xw = per[best], per[worst]
    gap = means[best] - means[worst]
    ci = t_interval(xb - xw, level) if blocked else _welch_interval(xb, xw, level)
    rel = gap / means[worst] if means[worst] else None
    d = stats.cohen_d(xb, xw)
    dz = stats.cohen_dz(xb - xw) if blocked else math.nan
    crit, met = [], []
    if min_gap is not None:
        crit.append(f"gap >= {_f(min_gap)}")
        met.append(gap >= min_gap)
    if min_rel_gap is not None:
        crit.append(f"relative gap >= {_f(100 * min_rel_gap)}%")
        met.append(rel is not None and rel >= min_rel_gap)
    if min_d is not None:
        crit.append(f"d >= {_f(min_d)}")
        met.append(math.isfinite(d) and d >= min_d)
    d_pow = expected_d if expected_d is not None else dz
    power = None
    floor: Any = None
    power_basis = "no power model for an unblocked omnibus test"
    pspec: dict[str, Any] = {}
    if blocked and contrast is not None:
        lres = location_test(xb - xw, 0.0, alpha, "mean")
        res, floor = lres, lres
        test_name = f"{lres.name} on the declared contrast {best} - {worst}, blocked by {word}"
        ci, level, ci_label = lres.ci, 0.95, "95% CI"
        power = power_units(d_pow, g, alpha, "mean") if math.isfinite(d_pow) else None
        power_basis = f"contrast {best} vs {worst}, {lres.name} over {g} {word}s, alpha {alpha:g}"
        pspec = {"design": "paired", "test": "mean", "d": d_pow, "n": g, "tie_share": lres.n_zero / g,
                 "declared": expected_d is not None, "d_lcb": _d_lower(dz, g)} if power is not None else {}
        extra["decision_ci"] = lres.bound
    elif blocked and k >= 3:
        floor = res  # the permutation distribution's own smallest p (after tied tasks)
        power, power_basis, pspec = _friedman_power(matrix, res.nonzero, g, alpha, expected_d, word)
    elif blocked:
        nz2 = g - int(res.n_zero)
        floor = c.Floor(g, nz2, floor_p("sign2", nz2), "sign2")
        if math.isfinite(d_pow):  # two-sided: a rejection in the observed direction at alpha / 2
            power = power_units(abs(d_pow), nz2, alpha / 2, "wilcoxon")
            power_basis = (f"{'declared' if expected_d is not None else 'observed'} d_z={_f(d_pow)}, "
                           f"two-sided exact signed-rank over {nz2} non-zero {word}s, alpha {alpha:g}")
            pspec = {"design": "paired", "test": "wilcoxon", "sides": 2, "d": abs(d_pow), "n": nz2, "n_units": g,
                     "tie_share": 1 - nz2 / g, "declared": expected_d is not None, "d_lcb": _d_lower(abs(dz), nz2)}
    rel_ci = _relative(xb, xw, g).get("relative_gain_ci") if blocked else None
    d_ci = stats.d_ci(d, g, g) if math.isfinite(d) else None
    comp: dict[str, Any] = {}
    if paper_rel_gap is not None or paper_d is not None:
        parts = [c.compatibility(paper_rel_gap, rel_ci, f"{100 * (paper_rel_gap or 0):+g}%"),
                 c.compatibility(paper_d, d_ci, f"d {_f(paper_d)}")]
        parts = [p for p in parts if p]
        oks = [p["compatible"] for p in parts]
        comp = {"paper_label": " and ".join(p["paper_label"] for p in parts),
                "compatible": None if None in oks else all(oks),
                "compatible_ci": parts[0]["compatible_ci"], "compatibility": parts,
                "paper_value": parts[0]["paper_value"]}
    v = Verdict(
        name=name, kind="spread", statement=statement, test=test_name, n=g, unit=unit_name, means=means,
        estimate_name="gap", estimate=gap, ci=ci, ci_method=f"t interval over {word} means",
        effect_name=f"d({best} vs {worst}, {word} means)", effect=d if math.isfinite(d) else None,
        p=res.p, alpha=alpha, power=power, criteria=" and ".join(crit), criteria_met=all(met) if met else None,
        details={"by": by, "metric": metric, "best": best, "worst": worst, "rel_gap": rel, "n_groups": k,
                 "clusters": g, "unit_word": word, "statistic": getattr(res, "statistic", None), "scope": dict(where),
                 "incomplete": incomplete, "blocked": blocked, "gap_kind": gap_kind, "ci_label": ci_label,
                 "ci_level": level, "contrast": list(contrast) if contrast else None,
                 "power_basis": power_basis, "rel_gap_ci": rel_ci, "d_ci": d_ci,
                 "power_spec": pspec,
                 **(c.floor_details(floor, word, k) if floor is not None else {}), **comp, **extra},
    )
    if floor is not None and floor.floor >= alpha:
        return c.undecidable(v)
    return c.finish(v)
