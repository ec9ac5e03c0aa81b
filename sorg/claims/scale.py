"""Claims about magnitudes over units: `growth` (log-log slope), `ratio`, `count`.

Each judges over units (tasks by default) with a t(G - 1) reference and prints the interval of
that same analysis; too few units for alpha skip before judging, one unit prints no CI, and a
quantity with no spread across units gets the sign-flip p (2**-G), never p = 0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sorg import stats
from sorg.claims import _common as c
from sorg.claims.verdict import Verdict, _f
from sorg.inference import log_ratio_units, loglog_slope_units
from sorg.power import power_units
from sorg.results import Trials
from sorg.stats.location import check_alpha, location_test


def growth(
    trials: Trials,
    factor: str = "n_agents",
    metric: str = "cost_usd",
    *,
    below: float = 1.0,
    alpha: float = 0.05,
    within: Sequence[str] = ("task_id", "protocol", "model"),
    unit: str = "task",
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """`metric` grows slower than factor**`below`: slope of log metric on log factor < below.

    The slope is estimated within cells (`within` fixed effects), so it measures how one
    cell's metric grows with the factor. Test: one-sided t with a unit-clustered (CR1) SE and
    G - 1 df; the CI is the same t interval. Also reports the growth of the mean metric from
    the smallest to the largest factor value. The p is never below the sign-flip floor 2**-G.
    """
    alpha = check_alpha(alpha, "growth(alpha=...)")
    scope = f" ({c.scope_text(where)})" if where else ""
    statement = f"{metric} grows slower than {factor}^{_f(below)}" + (" (sub-linear)" if below == 1.0 else "") + scope
    name = name or f"growth: {metric} vs {factor}{scope}"
    t, incomplete = c.scoped(trials, where)
    if not len(t):
        return c.missing("growth", name, statement, dict(where), alpha=alpha)
    levels = sorted(t.distinct(factor))
    if len(levels) < 2:
        return c.skip_v("growth", name, statement, alpha=alpha, reason=
                        f"need trials at 2 or more values of {factor} in this run, found {levels}")
    ufield = c.unit_field(unit)
    word = c.unit_word(ufield)
    y = t.values(metric)
    c.check_values(y, metric)
    units = t.codes(ufield)[0]
    g_units = len(np.unique(units[np.isfinite(y) & (y > 0)]))
    bad = c.design_check("growth", name, statement, g_units, alpha, word, exact=False, what=f" ({len(t)} trials)")
    if bad is not None:
        return bad
    keys = [w for w in within if w != factor]
    wkey = t.key(keys) if keys else np.zeros(len(t), dtype=np.int64)
    r = loglog_slope_units(t.values(factor), y, units, wkey, below)
    if not math.isfinite(r["slope"]):
        return c.skip_v("growth", name, statement, alpha=alpha, reason=
                        f"cannot fit a slope: {r['n']} trials with positive {metric!r} "
                        f"({r['dropped']} dropped as <= 0 or missing)")
    means = {f"{factor}={lv}": float(np.nanmean(t.where(**{factor: lv}).values(metric))) for lv in levels}
    m_lo, m_hi = means[f"{factor}={levels[0]}"], means[f"{factor}={levels[-1]}"]
    g = r["clusters"]
    fl = c.t_floor(g)
    if r["p"] < fl.floor:
        r["note"] = (r["note"] + "; " if r["note"] else "") + f"t p {r['p']:.2g} raised to the sign-flip floor 2^-{g}"
        r["p"] = fl.floor
    delta = below - r["slope"]
    power = power_units(delta / (r["se"] * math.sqrt(g)), g, alpha, "t") if r["se"] > 0 else None
    v = Verdict(
        name=name, kind="growth", statement=statement,
        test=f"one-sided t on the log-log slope ({word}-clustered SE, {g - 1} df)",
        n=g, unit=f"{word}s ({r['n']} trials)", means=means, estimate_name="slope", estimate=r["slope"],
        ci=r["ci"], ci_method=f"t interval ({g - 1} df)", p=r["p"], alpha=alpha, power=power,
        details={"factor": factor, "metric": metric, "below": below, "lo": levels[0], "hi": levels[-1],
                 "growth": 100.0 * (m_hi / m_lo - 1.0) if m_lo else None, "clusters": g, "unit_word": word,
                 "se": r["se"], "dropped": r["dropped"], "within": list(within), "scope": dict(where),
                 "incomplete": incomplete, "power_basis": f"at the observed slope, {g} {word}s, alpha {alpha:g}",
                 **({"note": r["note"]} if r["note"] else {}), **c.floor_details(fl, word),
                 "power_spec": {"design": "paired", "test": "t", "n": g,
                                "d": delta / (r["se"] * math.sqrt(g)) if r["se"] > 0 else None}},
    )
    return c.undecidable(v) if fl.floor >= alpha else c.finish(v)


def ratio(
    trials: Trials,
    num: Any,
    den: Any,
    metric: str = "quality.judge_q",
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    by: str = "model",
    alpha: float = 0.05,
    paper_ratio: float | None = None,
    unit: str = "task",
    pair_by: Sequence[str] | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """mean(metric | num) / mean(metric | den) is at least `at_least` (and/or at most `at_most`).

    Arms are matched cell by cell on every design factor they share (task, seed, team size,
    protocol: a closed model that also ran 256-agent teams is compared with the open model's
    256-agent teams only), cells averaged, and the ratio of the matched means tested by the
    delta method on the log ratio with unit-clustered variance and t(G - 1); with both bounds,
    the larger one-sided p. The CI is exp of the same t interval of the log ratio; the p is
    never below the sign-flip floor 2**-G. State margins as declared bounds (non-inferiority,
    "at most 1.2x"), not the paper's point estimate as the null; `paper_ratio` (the paper's
    figure) adds a second statement: is it inside the 95% interval (`details["compatible"]`)?
    """
    if at_least is None and at_most is None:
        raise ValueError("ratio() needs at_least=... and/or at_most=...")
    alpha = check_alpha(alpha, "ratio(alpha=...)")
    ln, ld = c.label(num), c.label(den)
    scope = f" ({c.scope_text(where)})" if where else ""
    bounds = (([f">= {_f(at_least)}"] if at_least is not None else [])
              + ([f"<= {_f(at_most)}"] if at_most is not None else []))
    statement = f"{metric} ratio {ln} / {ld} {' and '.join(bounds)}" + scope
    name = name or f"ratio: {metric} {ln}/{ld}{scope}"
    t, incomplete = c.scoped(trials, where)
    fn, fd = c.arm(by, num), c.arm(by, den)
    tn, td = t.where(**fn), t.where(**fd)
    for arm_t, ft in ((tn, fn), (td, fd)):
        if not len(arm_t):
            return c.missing("ratio", name, statement, {**ft, **where}, alpha=alpha)
        c.check_values(arm_t.values(metric), metric)
    ufield = c.unit_field(unit)
    word = c.unit_word(ufield)
    fields = c.pair_fields(t, exclude=[by, *fn, *fd], pair_by=pair_by, unit=ufield)
    cn, cd = tn.cell_means(fields, metric, ufield), td.cell_means(fields, metric, ufield)
    common, i_n, i_d = np.intersect1d(cn.keys, cd.keys, assume_unique=True, return_indices=True)
    dropped = int(cn.counts.sum() - cn.counts[i_n].sum() + cd.counts.sum() - cd.counts[i_d].sum())
    if not common.size:
        return c.skip_v("ratio", name, statement, alpha=alpha, reason=
                        f"no {' x '.join(c.unit_word(f) for f in fields)} cell with {metric!r} values "
                        f"for both {ln} and {ld}")
    uc = cn.unit[i_n]
    uniq, inv = np.unique(uc, return_inverse=True)
    g = int(uniq.size)
    bad = c.design_check("ratio", name, statement, g, alpha, word, exact=False, what=f" ({common.size} matched cells)")
    if bad is not None:
        return bad
    sn = np.bincount(inv, weights=cn.means[i_n])
    sd = np.bincount(inv, weights=cd.means[i_d])
    cells = np.bincount(inv).astype(float)
    ps, res = [], None
    for thr, alt in ((at_least, "greater"), (at_most, "less")):
        if thr is not None:
            res = log_ratio_units(sn, sd, cells, thr, alt)
            ps.append(res["p"])
    assert res is not None
    fl = c.t_floor(g)
    p_ratio = max(max(ps), fl.floor)
    est = res["ratio"]
    se = res["se_log"]
    d_pow = None
    if at_least is not None and math.isfinite(se) and se > 0 and est > 0:
        d_pow = (math.log(est) - math.log(at_least)) / (se * math.sqrt(g))
    v = Verdict(
        name=name, kind="ratio", statement=statement,
        test=("two one-sided t tests" if len(ps) == 2 else "one-sided t")
        + f" on the log ratio (delta method, {word}-clustered variance, {g - 1} df)",
        n=g, unit=f"{word}s ({common.size} matched {' x '.join(c.unit_word(f) for f in fields)} cells"
        + (f", {dropped} unmatched trials not used" if dropped else "") + ")",
        means={ln: float(sn.sum() / cells.sum()), ld: float(sd.sum() / cells.sum())}, estimate_name="ratio",
        estimate=est, ci=res["ci"], ci_method=f"t interval of the log ratio ({g - 1} df)",
        effect_name="log ratio", effect=math.log(est) if est > 0 else None, p=p_ratio, alpha=alpha,
        power=power_units(d_pow, g, alpha, "t") if d_pow is not None else None,
        details={"num_label": ln, "den_label": ld, "metric": metric, "by": by, "at_least": at_least,
                 "at_most": at_most, "clusters": g, "unit_word": word, "se_log": se, "scope": dict(where),
                 "incomplete": incomplete, "dropped_unshared": dropped, "match_on": fields,
                 "cells": int(common.size), **({"note": res["note"]} if res["note"] else {}),
                 "power_basis": f"at the observed ratio, {g} {word}s, alpha {alpha:g}",
                 "power_spec": {"design": "paired", "test": "t", "d": d_pow, "n": g},
                 **c.floor_details(fl, word), **c.compatibility(paper_ratio, res["ci"], f"{_f(paper_ratio)}x")},
    )
    return c.undecidable(v) if fl.floor >= alpha else c.finish(v)


_ROLE_METRICS = ("unique_roles", "roles")


def count(
    trials: Trials,
    metric: str = "unique_roles",
    *,
    at_least: float | None = None,
    within: tuple[float, float] | None = None,
    agg: str | None = None,
    alpha: float = 0.05,
    paper_value: float | None = None,
    unit: str = "task",
    test: str = "mean",
    bounds: tuple[float, float] | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """Emergence counts: distinct roles invented, how often agents abstain.

    `agg`: "distinct" (default for unique_roles; distinct values across trials, descriptive,
    passes when >= at_least, no p), "mean" (default otherwise: mean per unit, one-sided t with
    G - 1 df on unit means that the mean exceeds at_least, t interval), "any" (trials with
    metric > 0) and "sum" (descriptive).

    `within=(lo, hi)` (agg "mean" only) states an interval instead of a floor: the mean per
    unit lies inside it, shown by two one-sided t tests on the unit means (both must reject;
    p is the larger), e.g. "about 45% abstain" as a declared interval around 0.45.

    agg "mean" tests the mean of the unit means by exact sign flips up to 16 units and t above
    (never below the sign-flip floor); `test="bounded"` (opt-in) by betting, valid for every
    shape of unit means within `bounds=(lo, hi)` (default the known [0, 1] of quality.* and
    the rates; see `sorg.stats.bounded`). `paper_value` (the paper's figure) adds a second
    statement: is it inside the 95% interval (`details["compatible"]`)? Descriptive aggregates
    have no interval, so their compatibility is not judged.
    """
    alpha = check_alpha(alpha, "count(alpha=...)")
    agg = agg or ("distinct" if metric in _ROLE_METRICS else "mean")
    if (at_least is None) == (within is None):
        raise ValueError("count() needs exactly one of at_least=... or within=(lo, hi)")
    if within is not None:
        if agg != "mean":
            raise ValueError(f"count(within=...) needs agg='mean', got {agg!r}")
        if not (len(within) == 2 and within[0] < within[1]):
            raise ValueError(f"count(within=...) must be (lo, hi) with lo < hi, got {within!r}")
    if test not in ("mean", "bounded"):
        raise ValueError(f"count(test=...) must be 'mean' or 'bounded', got {test!r}")
    if agg not in ("distinct", "mean", "any", "sum"):
        raise ValueError(f"count(agg=...) must be distinct, mean, any or sum, got {agg!r}")
    scope = f" ({c.scope_text(where)})" if where else ""
    labels = {"distinct": f"distinct {'roles' if metric in _ROLE_METRICS else metric}",
              "mean": f"mean {metric} per {c.unit_word(c.unit_field(unit))}", "any": f"trials with {metric} > 0",
              "sum": f"total {metric}"}
    statement = (f"{labels[agg]} within [{_f(within[0])}, {_f(within[1])}]" if within is not None else
                 f"{labels[agg]} {'>' if agg == 'mean' else '>='} {_f(at_least)}") + scope
    name = name or f"count: {labels[agg]}{scope}"
    t, incomplete = c.scoped(trials, where)
    if not len(t):
        return c.missing("count", name, statement, dict(where), alpha=alpha)
    ufield = c.unit_field(unit)
    word = c.unit_word(ufield)
    n_units = len(np.unique(t.codes(ufield)[0]))
    details: dict[str, Any] = {"metric": metric, "agg": agg, "agg_label": labels[agg], "at_least": at_least,
                               "within": list(within) if within is not None else None,
                               "scope": dict(where), "incomplete": incomplete, "clusters": n_units, "unit_word": word}
    if agg != "mean":
        details.update(c.compatibility(paper_value, None, _f(paper_value)))
        if agg == "distinct" and metric in _ROLE_METRICS:
            roles: set[str] = set()
            for r in t:
                roles.update(x for x in r.roles if x)
            value = float(len(roles))
            details.update(mean_per_trial=float(np.mean(t.values("unique_roles"))), examples=sorted(roles)[:10])
        else:
            vals = t.values(metric)
            x = vals[np.isfinite(vals)]
            value = float(len(set(x.tolist())) if agg == "distinct" else (x > 0).sum() if agg == "any" else x.sum())
        v = Verdict(name=name, kind="count", statement=statement, n=len(t), unit=f"trials in {n_units} {word}s",
                    estimate_name=labels[agg], estimate=value, alpha=alpha, criteria=f"{value:g} >= {_f(at_least)}",
                    criteria_met=value >= float(at_least or 0.0), details=details)
        return c.finish(v)
    cm = t.cell_means([ufield], metric, ufield)
    if not cm.keys.size:
        return c.skip_v("count", name, statement, alpha=alpha, reason=f"no {metric!r} values in this run")
    c.check_values(t.values(metric), metric)
    g = int(cm.keys.size)
    bad = c.design_check("count", name, statement, g, alpha, word, exact=False,
                         what=f" ({int(cm.counts.sum())} trials)")
    if bad is not None:
        return bad
    mean = float(np.mean(cm.means))
    sd = float(np.std(cm.means, ddof=1))
    mb = c.known_bounds(metric, bounds, "count") if test == "bounded" else None
    neg = (-mb[1], -mb[0]) if mb else None
    if within is not None:
        lo_r = location_test(cm.means, within[0], alpha, test, bounds=mb)
        hi_r = location_test(-cm.means, -within[1], alpha, test, bounds=neg)
        res = lo_r if lo_r.p >= hi_r.p else hi_r
        p_count, fl = max(lo_r.p, hi_r.p), (lo_r if lo_r.floor >= hi_r.floor else hi_r)
        decision = (lo_r.bound[0], -hi_r.bound[0]) if lo_r.bound and hi_r.bound else None
        details.update(p_lower=lo_r.p, p_upper=hi_r.p)
        d_pow = min(mean - within[0], within[1] - mean) / sd if sd > 0 else None
        tname = f"two one-sided tests ({lo_r.name}) on {word} means"
        note = "; ".join(x for x in (lo_r.note, hi_r.note) if x)
    else:
        res = location_test(cm.means, float(at_least or 0.0), alpha, test, bounds=mb)
        p_count, fl, decision = res.p, res, res.bound
        d_pow = (mean - float(at_least or 0.0)) / sd if sd > 0 else None
        tname = f"one-sided {res.name} on {word} means"
        note = res.note
    details.update(clusters=g, power_basis=f"at the observed mean, {g} {word}s, {res.name}, alpha {alpha:g}",
                   power_spec={"design": "paired", "test": "mean", "d": d_pow, "n": g}, decision_ci=decision,
                   decision_level=1 - 2 * alpha, **c.floor_details(fl, word),
                   **c.compatibility(paper_value, lo_r.ci if within is not None else res.ci, _f(paper_value)),
                   **({"note": note} if note else {}))
    ci = lo_r.ci if within is not None else res.ci
    v = Verdict(name=name, kind="count", statement=statement, test=tname, n=g,
                unit=f"{word}s ({int(cm.counts.sum())} trials)",
                estimate_name=labels[agg], estimate=mean, ci=ci,
                ci_method="t interval" if res.name.startswith("t test") else
                "betting interval (inverted test)" if mb else "sign-flip interval (inverted test)",
                p=p_count, alpha=alpha, power=power_units(d_pow, g, alpha, "mean") if d_pow is not None else None,
                details=details)
    if mb is not None and neg is not None:  # the betting test's power, at the side nearer its null
        up = within is not None and within[1] - mean < mean - within[0]
        null = float(at_least or 0.0) if within is None else (-within[1] if up else within[0])
        pw, spec = c.bounded_power(-mean if up else mean, sd, g, null, alpha, neg if up else mb, False, None)
        v = dataclasses.replace(v, power=pw, details={**details, "power_spec": spec, "power_basis": (
            f"at the observed mean {_f(mean)} (SD {_f(sd)}, normal, clipped to the bounds), {g} {word}s, "
            f"{res.name}, alpha {alpha:g}")})
    return c.undecidable(v) if fl.floor >= alpha else c.finish(v)
