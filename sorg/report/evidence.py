"""A claim's evidence, unit by unit: what the page's forest plot draws under each claim.

Why recomputed here and not stored by the claim: the verdict already says what it compared
(`details`: arms, the field they differ on, the metric, the pairing fields, the unit, the
scope); the per-unit numbers follow from those and the run's trial records, through the same
`Trials.pairs` / `Trials.where` the claims use. So there is one source of truth (the
records), no second copy in claims.json to drift, and a report rebuilt from files shows the
same units the claim saw. A claim kind whose details do not say enough gets no per-unit view
(said so on the page) rather than a guess.

Each unit: its value (arm A minus arm B, or the relative gain A/B - 1 for a relative claim,
the ratio for a ratio claim, the unit's mean for a count over a mean), the pairs behind it,
and a filter that lists its trials on the page; units with a zero difference under a
signed-rank test are marked as dropped (ties), units with trials but no pair as unmatched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sorg.results import Trials

_UNIT_FIELDS = {"task": "task_id", "stream": "stream_id", "pair": "task_id"}


def _arm(value: Any, known: Sequence[Any]) -> Any:
    """An arm's values from its label ("broadcast+shared" names two values when both exist)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    parts = str(value).split("+")
    strs = {str(k): k for k in known}
    if value not in known and str(value) not in strs and len(parts) > 1 and all(p in strs for p in parts):
        return [strs[p] for p in parts]
    return strs.get(str(value), value)


def _spec(v: Mapping[str, Any], t: Trials) -> dict[str, Any] | None:
    """(A filter, B filter, metric, pairing, unit field, how a unit reads) from a verdict, or None."""
    d = v.get("details") or {}
    kind = v.get("kind")
    metric = d.get("metric")
    if not metric:
        return None
    ufield = d.get("unit_field") or _UNIT_FIELDS.get(str(d.get("unit_word") or "task"), d.get("unit_word") or "task_id")
    if kind == "beats" and d.get("by") and "a" in d and "b" in d:
        by, a, b = d["by"], d["a"], d["b"]
        mode = "relative" if d.get("min_rel_effect") not in (None, 0, 0.0, "0.0") else "difference"
    elif kind == "equivalent" and d.get("factor"):
        by, a, b, mode = d["factor"], d.get("high"), d.get("low"), "difference"
    elif kind == "spread" and d.get("by") and isinstance(d.get("contrast"), list) and len(d["contrast"]) == 2:
        by, (a, b), mode = d["by"], d["contrast"], "difference"
    elif kind == "ratio" and d.get("by") and d.get("num_label") is not None:
        by, a, b, mode = d["by"], d["num_label"], d["den_label"], "ratio"
    elif kind == "count" and d.get("agg") == "mean":
        return {"metric": metric, "unit": ufield, "mode": "mean", "by": None}
    else:
        return None
    known = t.distinct(by) if t.has_field(by) else []
    pair_by = d.get("pair_by") or d.get("match_on") or ["task_id", "seed"]
    if ufield not in pair_by and mode != "ratio":
        pair_by = [ufield, *pair_by]
    return {"metric": metric, "unit": ufield, "mode": mode, "by": by, "a": _arm(a, known), "b": _arm(b, known),
            "pair_by": list(pair_by)}


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def per_unit(v: Mapping[str, Any], trials: Trials) -> dict[str, Any] | None:
    """The per-unit evidence of one verdict over the run's trials, or None (not derivable)."""
    if v.get("passed") is None and not v.get("estimate"):
        return None
    d = v.get("details") or {}
    got = d.get("scope")
    scope: Mapping[str, Any] = got if isinstance(got, Mapping) else {}
    try:
        t = (trials.where(**scope) if scope else trials).only_ok()
        spec = _spec(v, t)
        if spec is None or not len(t) or not t.has_field(spec["unit"]):
            return None
        return _units(v, t, spec, scope)
    except (KeyError, ValueError, TypeError):  # a detail that does not name a field of these trials
        return None


def _units(v: Mapping[str, Any], t: Trials, spec: dict[str, Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    metric, ufield, mode = spec["metric"], spec["unit"], spec["mode"]
    units: list[dict[str, Any]] = []
    base_filter = {k: (list(x) if isinstance(x, (list, tuple)) else [x]) for k, x in scope.items()}
    if mode == "mean":
        for u, sub in sorted(t.groups(ufield).items(), key=lambda kv: str(kv[0])):
            vals = sub.values(metric)
            vals = vals[np.isfinite(vals)]
            if vals.size:
                units.append({"unit": str(u), "value": _num(float(vals.mean())), "n": int(vals.size),
                              "filter": {**base_filter, ufield: [u]}})
        return _out(v, spec, units, [])
    by, a, b = spec["by"], spec["a"], spec["b"]
    arms = [x for arm in (a, b) for x in (arm if isinstance(arm, list) else [arm])]
    pairs = t.pairs({by: a}, {by: b}, metric, spec["pair_by"], cluster_by=ufield)
    by_unit: dict[Any, list[int]] = {}
    for i, u in enumerate(pairs.cluster):
        by_unit.setdefault(u, []).append(i)
    test = str(v.get("test") or "").lower()
    details = v.get("details") or {}
    # A unit with a zero difference carries no sign: a signed-rank test drops it, a sign-flip
    # test gets nothing from it (the verdict counts them: zero_units / nonzero_units).
    tie_why = ("tie: a zero difference, dropped by the signed-rank test" if "wilcoxon" in test or "signed-rank" in test
               else "tie: a zero difference, no sign for the test"
               if details.get("zero_units") or "nonzero_units" in details or "sign-flip" in test else "")
    for u in sorted(by_unit, key=str):
        idx = by_unit[u]
        ma, mb = float(np.mean(pairs.a[idx])), float(np.mean(pairs.b[idx]))
        if mode == "ratio" or mode == "relative":
            val = (ma / mb) if mode == "ratio" and mb else (ma / mb - 1.0) if mb else math.nan
        else:
            val = ma - mb
        row: dict[str, Any] = {"unit": str(u), "value": _num(val), "a": _num(ma), "b": _num(mb), "n": len(idx),
                               "filter": {**base_filter, ufield: [u], by: arms}}
        if tie_why and mode == "difference" and ma == mb:
            row["dropped"] = tie_why
        units.append(row)
    unmatched = []
    for u in sorted(set(t.where(**{by: arms}).distinct(ufield)) - set(by_unit), key=str):
        unmatched.append({"unit": str(u), "dropped": "no pair: the unit has trials of one arm only",
                          "filter": {**base_filter, ufield: [u], by: arms}})
    return _out(v, spec, units, unmatched, unmatched_trials=pairs.unmatched)


def _out(v: Mapping[str, Any], spec: Mapping[str, Any], units: list[dict[str, Any]], unmatched: list[dict[str, Any]],
         unmatched_trials: int = 0) -> dict[str, Any]:
    mode = spec["mode"]
    label = {"difference": "A - B", "relative": "A / B - 1", "ratio": "A / B", "mean": "mean"}[mode]
    null = 1.0 if mode == "ratio" else 0.0
    out = {"mode": mode, "value_label": label, "metric": spec["metric"], "unit_field": spec["unit"],
           "units": units, "unmatched_units": unmatched, "unmatched_trials": int(unmatched_trials), "null": null}
    if spec.get("by"):
        out.update(by=spec["by"], a=spec["a"], b=spec["b"])
    out["agrees"] = _agrees(v, mode, [u for u in units if u.get("value") is not None])
    return out


def _agrees(v: Mapping[str, Any], mode: str, units: list[dict[str, Any]]) -> bool:
    """Whether these units are the claim's: as many as its n, and (where the estimate is a
    plain function of them) giving its estimate. A claim's test function may select trials
    (a chunk, a level) beyond the scope its verdict records; then the units here are the
    run's, not the claim's, and the page says so instead of passing them off as its."""
    est = v.get("estimate")
    if not units or len(units) != v.get("n") or not isinstance(est, (int, float)):
        return False
    if mode == "difference" or mode == "mean":
        got = math.fsum(u["value"] for u in units) / len(units)
    elif mode == "relative":
        mb = math.fsum(u["b"] for u in units)
        got = math.fsum(u["a"] for u in units) / mb - 1.0 if mb else math.nan
    else:
        return True  # a ratio's estimate is not a plain mean of unit ratios: the count agrees
    return math.isclose(got, float(est), rel_tol=1e-6, abs_tol=1e-9)
