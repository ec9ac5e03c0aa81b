"""Paired comparisons over units: `beats` (A better than B) and `equivalent` (no degradation).

Both match A and B like for like (unit, seed and every design factor that varies), average
the pair differences within each unit, and judge the unit differences: the test, its p and
the interval the verdict prints all come from those G numbers (t with G - 1 df, or the exact
signed-rank distribution). Unmatched trials are counted and reported, never silently tested
another way: with no shared cells the claim is skipped, not turned into an unpaired test that
would treat trials of one task as independent.
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
from sorg.inference import paired_units, tost_units, wilcoxon_units
from sorg.power import power_tost_exact, power_units
from sorg.results import Paired, Trials
from sorg.stats.location import check_alpha, location_test

_TESTS = ("mean", "wilcoxon", "t", "permutation", "bounded")


def _values_of(fa: dict, fb: dict, by: str) -> list:
    out: list = []
    for f in (fa, fb):
        v = f[by]
        out.extend(v if isinstance(v, list) else [v])
    return out


def _unit_diffs(pairs: Paired, unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-unit mean of each arm and of the difference (unit="pair": the pairs themselves)."""
    if unit == "pair" or pairs.cluster_code is None:
        return pairs.a, pairs.b, pairs.diff
    a, _ = c.per_unit(pairs.a, pairs.cluster_code)
    b, _ = c.per_unit(pairs.b, pairs.cluster_code)
    return a, b, a - b


def _relative(xa: np.ndarray, xb: np.ndarray, g: int) -> dict[str, Any]:
    """The relative gain mean(A) / mean(B) - 1 of unit means, with a 95% Fieller interval
    (the set of q whose paired t test of A - (1 + q) B does not reject at 2.5% each side)."""
    ma, mb = float(np.mean(xa)), float(np.mean(xb))
    out: dict[str, Any] = {"relative_gain": ma / mb - 1.0 if mb else None}
    if g >= 3 and mb:
        from scipy import stats as sps

        t2 = float(sps.t.ppf(0.975, g - 1)) ** 2
        va, vb = float(np.var(xa, ddof=1)) / g, float(np.var(xb, ddof=1)) / g
        cab = float(np.cov(xa, xb, ddof=1)[0, 1]) / g
        # (ma - q mb)^2 <= t2 (va - 2 q cab + q^2 vb): a quadratic in q.
        qa, qb, qc = mb * mb - t2 * vb, -2 * (ma * mb - t2 * cab), ma * ma - t2 * va
        disc = qb * qb - 4 * qa * qc
        if qa > 0 and disc >= 0:
            lo, hi = sorted(((-qb - math.sqrt(disc)) / (2 * qa), (-qb + math.sqrt(disc)) / (2 * qa)))
            out["relative_gain_ci"] = (lo - 1.0, hi - 1.0)
    return out


def _n_text(g: int, word: str, pairs: Paired, fields: Sequence[str], unit: str) -> str:
    zero = int(np.sum(np.round(pairs.diff, 12) == 0))
    bits = [f"{len(pairs)} {c.unit_text(fields)}"]
    if zero:
        bits.append(f"{zero} with zero difference")
    if pairs.unmatched:
        bits.append(f"{pairs.unmatched} unmatched trial{'s' if pairs.unmatched != 1 else ''} not tested")
    if unit == "pair":
        return f"pairs treated as independent ({', '.join(bits[1:]) or 'inference about these tasks only'})"
    return f"{word}{'s' if g != 1 else ''} ({', '.join(bits)})"


def beats(
    trials: Trials,
    a: Any,
    b: Any,
    *,
    metric: str = "quality.judge_q",
    by: str = "protocol",
    alpha: float = 0.05,
    min_effect: float = 0.0,
    min_rel_effect: float = 0.0,
    paper_rel_effect: float | None = None,
    paired: bool = True,
    test: str = "mean",
    pair_by: Sequence[str] | None = None,
    unit: str = "task",
    expected_d: float | None = None,
    bounds: tuple[float, float] | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """A beats B on `metric` by more than `min_effect` (one-sided), over units (tasks).

    `a` / `b` are values of `by` (lists of values, or dicts of filters); extra keyword
    arguments scope the claim. Pairs match task, seed and every varying design factor except
    `by` (`paired=False`: task and design factors, seeds averaged); pair differences are
    averaged per unit (`unit="task"` default, `"stream"`, or any field; `"pair"` treats pairs
    as independent, an inference about these tasks only).

    The test decides the estimand it prints (H0: estimand <= min_effect, at `alpha`):
    `test="mean"` (default) the mean difference, by exact sign flips up to 16 units and t with
    G - 1 df above (never below the sign-flip floor); "t" and "permutation" the mean by t or by
    sign flips only; "wilcoxon" the Hodges-Lehmann shift by the signed-rank test with its exact
    interval. The verdict prints the 95% interval and the (1 - 2 alpha) interval the decision
    reads (`details["decision_ci"]`: passed iff its lower end is above the null).
    `test="bounded"` (opt-in) tests the mean by betting (`sorg.stats.bounded`), valid for every
    shape of unit differences given the metric's range (`bounds=(lo, hi)`, default the known
    [0, 1] of quality.* and the rates); far less power on small effects (docs/PLUGIN.md). A design whose
    smallest attainable p (after tied units) is not below alpha is "undecidable".

    `paper_rel_effect=r` (a replication: the paper reports "+14%") keeps H0 at `min_effect`
    and adds a second statement: is r inside the 95% Fieller interval of the relative gain
    mean(A) / mean(B) - 1 (`details["compatible"]`, and a sentence in the message).
    `min_rel_effect=r` instead makes r the null: the unit differences tested are A - (1 + r) B.
    `n_boot` / `seed` are kept for compatibility and unused.
    """
    if test not in _TESTS:
        raise ValueError(f"beats(test=...) must be one of {_TESTS}, got {test!r}")
    alpha = check_alpha(alpha, "beats(alpha=...)")
    if min_rel_effect and min_effect:
        raise ValueError("beats() takes min_effect (absolute) or min_rel_effect (relative), not both")
    if not (isinstance(min_rel_effect, (int, float)) and min_rel_effect > -1.0):
        raise ValueError(f"beats(min_rel_effect=...) must be a number above -1, got {min_rel_effect!r}")
    if paper_rel_effect is not None and not (isinstance(paper_rel_effect, (int, float))
                                             and math.isfinite(paper_rel_effect)):
        raise ValueError(f"beats(paper_rel_effect=...) must be a finite number, got {paper_rel_effect!r}")
    la, lb = c.label(a), c.label(b)
    scope = f" ({c.scope_text(where)})" if where else ""
    margin_text = (f" by more than {_f(min_effect)}" if min_effect else
                   f" by at least {100 * min_rel_effect:g}% (relative)" if min_rel_effect else "")
    statement = f"{la} beats {lb} on {metric}" + margin_text + scope
    name = name or f"beats: {la} > {lb} on {metric}{scope}"
    spec = {"design": "paired", "d": expected_d, "declared": True, "test": test} if expected_d else None
    t, incomplete = c.scoped(trials, where)
    fa, fb = c.arm(by, a), c.arm(by, b)
    ta, tb = t.where(**fa), t.where(**fb)
    for arm_t, ft in ((ta, fa), (tb, fb)):
        if not len(arm_t):
            return c.missing("beats", name, statement, {**ft, **where}, alpha=alpha, spec=spec)
        vals = arm_t.values(metric)
        c.check_values(vals, metric)
        if not np.isfinite(vals).any():
            return c.skip_v("beats", name, statement, alpha=alpha, spec=spec, reason=
                            f"no {metric!r} values for {c.scope_text({**ft, **where})} in this run"
                            + (" (no judge model configured?)" if metric.startswith("quality.judge") else ""))
    ufield = c.unit_field(unit)
    word = "pair" if unit == "pair" else c.unit_word(ufield)
    if not t.has_field(ufield):
        return c.skip_v("beats", name, statement, alpha=alpha, spec=spec,
                        reason=f"trials carry no {ufield!r} field for unit={unit!r}")
    if ufield == "stream_id" and "" in t.distinct("stream_id"):
        return c.skip_v("beats", name, statement, alpha=alpha, spec=spec,
                        reason="unit='stream' needs trials from streams; some trials have no stream_id")
    union = t.where(**{by: _values_of(fa, fb, by)}) if (by in fa and by in fb) else t
    fields = c.pair_fields(union, exclude=[by, *fa, *fb], pair_by=pair_by, unit=ufield, seed=paired)
    pairs = t.pairs(fa, fb, metric, pair_by=fields, cluster_by=ufield)
    xa, xb, diff = _unit_diffs(pairs, unit)
    raw = diff
    if min_rel_effect:
        diff = xa - (1.0 + min_rel_effect) * xb
    g = int(diff.size)
    if g == 0:
        return c.skip_v("beats", name, statement, alpha=alpha, spec=spec, unmatched=pairs.unmatched, reason=
                        f"no {' x '.join(c.unit_word(f) for f in fields)} cell shared by {la} and {lb} "
                        f"({pairs.trials_a} and {pairs.trials_b} trials unmatched); "
                        f"a paired claim needs shared {word}s")
    dbounds = None
    if test == "bounded":
        lo, hi = c.known_bounds(metric, bounds, "beats")
        k = 1.0 + min_rel_effect
        dbounds = (lo - k * hi, hi - k * lo)
    res = location_test(diff, min_effect, alpha, test, bounds=dbounds)
    rel: dict[str, Any] = _relative(xa, xb, g) if (min_rel_effect or paper_rel_effect is not None) else {}
    dz = stats.cohen_dz(raw)
    dz_ci = stats.dz_ci(dz, g) if g >= 3 and math.isfinite(dz) else None
    d_margin = stats.cohen_dz(diff - min_effect) if (min_rel_effect or min_effect) else dz
    d_pow = expected_d if expected_d is not None else (d_margin if math.isfinite(d_margin) else math.nan)
    basis = (f"at expected d_z={_f(expected_d)}" if expected_d is not None else f"at observed d_z={_f(d_margin)}") + \
        f", {g} {word}s, {res.name}, alpha {alpha:g}"
    zero_note = (f"{res.n_zero} {word}s with zero difference" if res.n_zero else "")
    h0 = (f"A - {1 + min_rel_effect:g} x B <= 0" if min_rel_effect else
          f"{'difference' if res.estimand == 'mean' else res.estimand} <= {_f(min_effect)}")
    details: dict[str, Any] = {
        "a": la, "b": lb, "metric": metric, "by": by, "scope": dict(where), "incomplete": incomplete,
        "min_effect": min_effect, "min_rel_effect": min_rel_effect, **rel, "clusters": g, "unit_word": word,
        "unit_field": ufield, "pair_by": fields, "test_choice": test, "estimand": res.estimand,
        "paired": paired, "n_pairs": len(pairs), "unmatched": pairs.unmatched, "unmatched_a": pairs.unmatched_a,
        "unmatched_b": pairs.unmatched_b, "zero_units": res.n_zero, "power_basis": basis,
        "decision_ci": res.bound, "decision_level": 1 - 2 * alpha, "null": min_effect,
        "power_spec": {"design": "paired", "test": test, "d": d_pow, "n": g, "tie_share": res.n_zero / g,
                       "declared": expected_d is not None, "d_lcb": _d_lower(d_margin, g),
                       "trials_per_unit": (pairs.trials_a + pairs.trials_b - pairs.unmatched) / g},
        "pair_means": {la: float(np.mean(pairs.a)), lb: float(np.mean(pairs.b))},
        **c.floor_details(res, word),
        **c.compatibility(paper_rel_effect, rel.get("relative_gain_ci"), f"{100 * (paper_rel_effect or 0):+g}%"),
        **({"note": "; ".join(x for x in (res.note, zero_note) if x)} if (res.note or zero_note) else {}),
    }
    est_name = "difference" if res.estimand == "mean" else res.estimand
    v = Verdict(
        name=name, kind="beats", statement=statement, alpha=alpha, test=f"{res.name} (one-sided, H0: {h0})", n=g,
        unit=_n_text(g, word, pairs, fields, unit),
        means={la: float(np.mean(xa)), lb: float(np.mean(xb))},
        **({"estimate_name": "relative gain", "estimate": rel.get("relative_gain"), "ci": rel.get("relative_gain_ci"),
            "ci_method": f"Fieller interval of the paired ratio ({max(g - 1, 0)} df)"} if min_rel_effect else
           {"estimate_name": est_name, "estimate": res.estimate, "ci": res.ci,
            "ci_method": _ci_method(res)}), effect_name="d_z",
        effect=dz if math.isfinite(dz) else None,
        effect_ci=dz_ci, p=res.p, power=power_units(d_pow, g, alpha, test) if math.isfinite(d_pow) else None,
        details=details)
    if dbounds is not None:
        v = _bounded_power(v, diff, min_effect, alpha, dbounds, expected_d, d_margin)
    if res.floor >= alpha:
        return c.undecidable(v)
    return c.finish(v)


def _bounded_power(v: Verdict, diff: np.ndarray, null: float, alpha: float, bounds: tuple[float, float],
                   expected_d: float | None, d_obs: float) -> Verdict:
    """The betting test's power (not the t power) at the observed mean, or at the declared d_z
    times the observed SD."""
    g = int(diff.size)
    sd = float(np.std(diff, ddof=1)) if g > 1 else math.nan
    mean = (null + expected_d * sd) if expected_d is not None else float(np.mean(diff))
    pw, spec = c.bounded_power(mean, sd, g, null, alpha, bounds, expected_d is not None, _d_lower(d_obs, g))
    spec["trials_per_unit"] = v.details["power_spec"].get("trials_per_unit")
    basis = (f"at {'the declared d_z ' + _f(expected_d) + ' x SD' if expected_d is not None else 'the observed mean'} "
             f"{_f(mean, True)} (SD {_f(sd)}, normal, clipped to [{_f(bounds[0])}, {_f(bounds[1])}]), {g} "
             f"{v.details['unit_word']}s, {v.test.split(' (one-sided')[0]}, alpha {alpha:g}")
    return dataclasses.replace(v, power=pw, details={**v.details, "power_spec": spec, "power_basis": basis})


def _d_lower(d: float, g: int, level: float = 0.8) -> float | None:
    """One-sided `level` lower confidence bound of d_z (normal approximation), for plans."""
    if g < 3 or not math.isfinite(d):
        return None
    return stats.dz_ci(d, g, 2 * level - 1)[0]


def _ci_method(res: Any) -> str:
    if res.floor_kind == "walsh":
        return "exact Walsh-average interval of the Hodges-Lehmann shift"
    if res.floor_kind == "bounded":
        return "betting interval (inverted test; valid for any shape within the bounds)"
    if res.name.startswith("t test"):
        return f"t interval ({max(res.n - 1, 0)} df)"
    return "sign-flip interval (inverted test)"


def equivalent(
    trials: Trials,
    factor: str = "n_agents",
    low: Any = 4,
    high: Any = 256,
    *,
    margin: float,
    metric: str = "quality.judge_q",
    alpha: float = 0.05,
    pair_by: Sequence[str] | None = None,
    expected_sd: float | None = None,
    unit: str = "task",
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """No degradation: `metric` at factor=high is within +-`margin` of factor=low, over units.

    Pairs (high - low) match unit, seed and the other varying design factors; differences
    are averaged per unit and TOST runs on the G unit differences with t(G - 1). Equivalence
    is shown when both one-sided p < alpha, i.e. the printed 1 - 2 alpha t interval lies
    inside the margin (the same analysis decides and prints). Zero spread across units gives
    the sign-flip p (2**-G), never certainty; too few units for alpha skips, naming how many
    are needed. `expected_sd` (of unit differences) lets `plan` size the study before data.
    """
    if not (isinstance(margin, (int, float)) and margin > 0):
        raise ValueError(f"equivalent(margin=...) must be a positive number, got {margin!r}")
    alpha = check_alpha(alpha, "equivalent(alpha=...)")
    scope = f" ({c.scope_text(where)})" if where else ""
    statement = f"{metric} at {factor}={high} is equivalent to {factor}={low} within +-{_f(margin)}" + scope
    name = name or f"equivalent: {metric} {factor} {low} vs {high}{scope}"
    spec = {"design": "tost", "sd": expected_sd, "margin": margin, "declared": True} if expected_sd else None
    t, incomplete = c.scoped(trials, where)
    tl, th = t.where(**{factor: low}), t.where(**{factor: high})
    for arm_t, val in ((tl, low), (th, high)):
        if not len(arm_t):
            return c.missing("equivalent", name, statement, {factor: val, **where}, alpha=alpha, spec=spec)
    ll, lh = f"{factor}={low}", f"{factor}={high}"
    c.check_values(t.values(metric), metric)
    if not np.isfinite(tl.values(metric)).any() or not np.isfinite(th.values(metric)).any():
        return c.skip_v("equivalent", name, statement, alpha=alpha, spec=spec,
                        reason=f"no {metric!r} values at {ll} or {lh} in this run")
    ufield = c.unit_field(unit)
    word = "pair" if unit == "pair" else c.unit_word(ufield)
    fields = c.pair_fields(t.where(**{factor: [low, high]}), exclude=[factor], pair_by=pair_by, unit=ufield)
    pairs = t.pairs({factor: high}, {factor: low}, metric, pair_by=fields, cluster_by=ufield)
    xh, xl, diff = _unit_diffs(pairs, unit)
    g = int(diff.size)
    if g == 0:
        return c.skip_v("equivalent", name, statement, alpha=alpha, spec=spec, reason=
                        f"no {' x '.join(c.unit_word(f) for f in fields)} cell at both {ll} and {lh}")
    bad = c.design_check("equivalent", name, statement, g, alpha, word, exact=False, spec=spec,
                         what=f" ({len(pairs)} pairs; observed mean difference {_f(float(np.mean(diff)), True)})")
    if bad is not None:
        return bad
    r = tost_units(diff, margin, alpha)
    fl = c.t_floor(g)
    if r["p"] < fl.floor:
        r["note"] = (r["note"] + "; " if r["note"] else "") + f"t p {r['p']:.2g} raised to the sign-flip floor 2^-{g}"
        r["p"] = fl.floor
    ci95 = paired_units(diff, "t", "two-sided").ci
    diff_test = wilcoxon_units(diff, "two-sided")
    sd = float(np.std(diff, ddof=1))
    dz = stats.cohen_dz(diff)
    details: dict[str, Any] = {
        "factor": factor, "low": low, "high": high, "low_label": ll, "high_label": lh, "margin": margin,
        "metric": metric, "scope": dict(where), "incomplete": incomplete, "pair_by": fields, "paired": True,
        "clusters": g, "unit_word": word, "n_pairs": len(pairs), "unmatched": pairs.unmatched,
        "ci_tost": r["ci"], "p_lower": r["p_lower"], "p_upper": r["p_upper"],
        "difference_test": {"test": diff_test.name + " (two-sided)", "p": diff_test.p},
        # Post-hoc at the observed difference, as every other kind's power is at its observed
        # effect: at 0 it promised power a design with a real small difference does not have
        # (sim/paper: printed 0.86, passed 0.48 at 64 -> 256 agents).
        "power_basis": f"at the observed difference {_f(r['mean'])}, SD {_f(sd)} over {g} {word}s, alpha {alpha:g}",
        "power_spec": {"design": "tost", "sd": sd if sd > 0 else None, "margin": margin, "n": g, "diff": r["mean"],
                       "trials_per_unit": (pairs.trials_a + pairs.trials_b - pairs.unmatched) / g},
        **({"note": r["note"]} if r["note"] else {}), **c.floor_details(fl, word),
    }
    v = Verdict(name=name, kind="equivalent", statement=statement, alpha=alpha,
                test=f"TOST (two one-sided t tests on {word} means, {g - 1} df)", n=g,
                unit=_n_text(g, word, pairs, fields, unit), means={ll: float(np.mean(xl)), lh: float(np.mean(xh))},
                estimate_name="difference", estimate=r["mean"], ci=ci95, ci_method=f"t interval ({g - 1} df)",
                effect_name="d_z", effect=dz if math.isfinite(dz) else None, p=r["p"],
                power=power_tost_exact(r["mean"], sd, g, margin, alpha) if sd > 0 else None, details=details)
    return c.undecidable(v) if fl.floor >= alpha else c.finish(v)
