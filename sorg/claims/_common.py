"""What every claim kind shares: scoping, arms, units, the design check, skipping.

The unit is what a claim generalises over (tasks by default). Trials are first averaged
within cells and cells within units, so the test sees one number per unit. One reachability
rule: a claim whose test cannot give a p below its alpha (after tied units, and in `finalize`
after Holm) is `undecidable`; replication claims add a `compatibility` statement.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sorg.claims.verdict import Verdict
from sorg.results import Trials

#: Design factors that, when they vary inside a comparison, are matched like for like.
DESIGN_FACTORS = ("model", "protocol", "n_agents")

#: Names a claim may give its unit, and the trial field each means.
UNIT_FIELDS = {"task": "task_id", "stream": "stream_id", "pair": "task_id"}

_UNIT_NAMES = {"task_id": "task", "seed": "seed", "model": "model", "protocol": "protocol", "n_agents": "team size",
               "level": "level", "domain": "domain", "stream_id": "stream"}


def scope_text(filters: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v!r}" for k, v in filters.items())


def skip_v(kind: str, name: str, statement: str, reason: str, *, alpha: float = 0.05,
           spec: Mapping[str, Any] | None = None, **details: Any) -> Verdict:
    """A skipped verdict that keeps alpha and any declared effect, so `plan` still works."""
    if spec:
        details["power_spec"] = dict(spec)
    return Verdict(name=name, kind=kind, statement=statement, alpha=alpha, skip_reason=reason, details=details)


def missing(kind: str, name: str, statement: str, what: Mapping[str, Any], extra: str = "", *,
            alpha: float = 0.05, spec: Mapping[str, Any] | None = None) -> Verdict:
    """Skipped for missing data, naming the filters that found nothing."""
    reason = (f"no trials for {scope_text(what)} in this run" if what else "no trials in this run") + (
        f" ({extra})" if extra else "")
    return skip_v(kind, name, statement, reason, alpha=alpha, spec=spec, missing=dict(what))


def arm(by: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {by: list(value) if isinstance(value, (list, tuple, set)) else value}


def label(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return "+".join(str(v) for v in value)
    return str(value)


def scoped(trials: Trials, where: Mapping[str, Any]) -> tuple[Trials, int]:
    """Scope to the claim's filters; returns ok trials and the count of incomplete ones."""
    t = trials.where(**where) if where else trials
    ok = t.only_ok()
    return ok, len(t) - len(ok)


def unit_field(unit: str) -> str:
    """The trial field a claim's unit names ("task" -> task_id, "stream" -> stream_id)."""
    return UNIT_FIELDS.get(unit, unit)


def unit_word(field: str) -> str:
    return _UNIT_NAMES.get(field, field)


def pair_fields(t: Trials, exclude: Sequence[str], pair_by: Sequence[str] | None, unit: str = "task_id",
                seed: bool = True) -> list[str]:
    """Fields trials are matched on: the unit, the seed, every design factor that varies."""
    if pair_by is not None:
        return list(pair_by)
    fields = [unit] + (["task_id"] if unit != "task_id" else []) + (["seed"] if seed and unit != "seed" else [])
    for f in DESIGN_FACTORS:
        if f not in exclude and f not in fields and len(t.distinct(f)) > 1:
            fields.append(f)
    return fields


def unit_text(fields: Sequence[str], what: str = "pairs") -> str:
    return " x ".join(unit_word(f) for f in fields) + f" {what}"


def per_unit(values: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of `values` per unit code (units in sorted code order) and the unit codes."""
    if values.size == 0:
        return values, codes
    uniq, inv = np.unique(codes, return_inverse=True)
    return np.bincount(inv, weights=values) / np.bincount(inv), uniq


def design_check(kind: str, name: str, statement: str, g: int, alpha: float, word: str, *,
                 exact: bool = True, spec: Mapping[str, Any] | None = None, what: str = "") -> Verdict | None:
    """None when g units can reach p < alpha; else an "undecidable" verdict naming the units needed.

    The same rule as every claim's own floor check (and Holm's, in `finalize`): no test here
    gives a one-sided p below 2**-g with g units (sign flips, and t capped there), and a t test
    needs 2 units to see any spread. `exact` is kept for callers; the floor is the same."""
    from sorg.stats.location import sign_floor

    if g >= 2:  # judged, then held to its floor by the claim itself (so its figures are kept)
        return None
    details: dict[str, Any] = {"units": g, **floor_details(Floor(g, g, sign_floor(g)), word)}
    if spec:
        details["power_spec"] = dict(spec)
    if what:
        details["observed"] = what.strip().strip("()")
    return undecidable(Verdict(name=name, kind=kind, statement=statement, alpha=alpha, details=details))


def finish(v: Verdict) -> Verdict:
    """Decide `passed` from the raw p (before Holm) and the criteria."""
    return dataclasses.replace(v, passed=decide(v, v.p))


def decide(v: Verdict, p: float | None) -> bool | None:
    if v.skip_reason:
        return None
    ok_p = True if p is None else (p < v.alpha)
    ok_c = True if v.criteria_met is None else bool(v.criteria_met)
    return bool(ok_p and ok_c)


# --------------------------------------------------------------------------- reachability


@dataclasses.dataclass(frozen=True)
class Floor:
    """The reachability facts of a test that is not a `LocationResult` (t on a ratio, a slope,
    TOST, Friedman): its units, the non-zero ones and its smallest attainable p."""

    n: int
    nonzero: int
    floor: float
    floor_kind: str = "sign"


def t_floor(g: int, nonzero: int | None = None) -> Floor:
    """No t-based p below the sign-flip floor of the units (issue 27 item 4)."""
    from sorg.stats.location import sign_floor

    nz = g if nonzero is None else nonzero
    return Floor(g, nz, sign_floor(nz))


def floor_details(res: Any, word: str, groups: int = 2) -> dict[str, Any]:
    """What `finalize` needs to redo the reachability check under Holm: the test's floor and
    how it depends on the non-zero units (`sorg.stats.location.floor_p`)."""
    return {"p_floor": res.floor, "floor_kind": res.floor_kind, "nonzero_units": res.nonzero,
            "zero_units": res.n - res.nonzero, "floor_groups": groups, "unit_word": word,
            **({"floor_ratio": res.floor_ratio} if getattr(res, "floor_ratio", 1.0) != 1.0 else {})}



def smallest_n(ok: Callable[[int], bool], limit: int = 100_000) -> int | None:
    """Smallest n >= 1 with ok(n), for ok monotone in n (False, ..., False, True, ...); None
    when even `limit` fails."""
    hi = 1
    while not ok(hi):
        if hi >= limit:
            return None
        hi = min(2 * hi, limit)
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def units_to_reach(kind: str, alpha: float, zeros: int = 0, groups: int = 2, limit: int = 100_000,
                   ratio: float = 1.0) -> int | None:
    """Fewest non-zero units for which the test's floor is below alpha (None: never)."""
    from sorg.stats.location import floor_p

    return smallest_n(lambda n: floor_p(kind, n, zeros, groups, ratio=ratio) < alpha, limit)


def undecidable(v: Verdict, need: int | None = None, holm: tuple[float, int] | None = None,
                family: int = 1) -> Verdict:
    """The claim's design cannot reach its alpha (after ties, Holm and the test's floor): a
    declared outcome with power 0, no pass/fail and no plan built on a power it cannot have.

    `need`: the non-zero units that would make it decidable (default: its own floor below its
    alpha; `finalize` passes the count at the Holm step it would be compared at, `family`
    claims with a test). `holm`: (the best Holm-adjusted p, family size) when Holm is what
    makes it unreachable now. The reason also converts `need` into units at the observed
    share of tied units, since ties never count (a plan must count them)."""
    d = dict(v.details)
    if need is None:
        need = units_to_reach(d.get("floor_kind", "sign"), v.alpha, int(d.get("zero_units", 0)),
                              int(d.get("floor_groups", 2)), ratio=float(d.get("floor_ratio", 1.0)))
    if holm is None and d.get("holm_reach"):
        holm = (float(d["holm_reach"][0]), int(d["holm_reach"][1]))
    word = d.get("unit_word", "task")
    has = int(d.get("nonzero_units", 0))
    zeros = int(d.get("zero_units", 0))
    ties = zeros / (has + zeros) if has + zeros else 0.0
    total = units_with_ties(need, ties)
    if need is None:
        need_text = "no number of units suffices"
    else:
        need_text = f"needs {need} non-zero {word}s, has {has}"
        if total is not None and total != need:
            need_text += f" (about {total} {word}s at the observed {100 * ties:.0f}% tied)"
        if family > 1:
            need_text += f"; counted at its Holm step across {family} claims, each other at its floor"
    after = f", {holm[0]:.3g} after Holm across {holm[1]} claims," if holm else ""
    reason = (f"cannot be decided with this design: {need_text} (smallest attainable p "
              f"{d.get('p_floor', 1.0):.3g}{after} is not below alpha {v.alpha:.3g})")
    d.update(units_needed=need, units_needed_total=total, holm_reach=list(holm) if holm else None,
             reach_family=family)
    return dataclasses.replace(v, passed=None, power=0.0, skip_reason=reason, outcome="undecidable", details=d)


def units_with_ties(nonzero: int | None, tie_share: float) -> int | None:
    """Units a design needs for `nonzero` non-zero ones at the observed share of tied units."""
    if nonzero is None or not 0 <= tie_share < 1:
        return None
    return int(math.ceil(nonzero / (1 - tie_share) - 1e-9))


#: Metrics whose range is known: every scorer's quality is in [0, 1] (sorg.scoring.base), and so
#: are the rates.
_UNIT_RANGE = ("abstention_rate", "parse_failure_rate")


def known_bounds(metric: str, bounds: Any, where: str) -> tuple[float, float]:
    """The declared (lo, hi) of `metric`, or its known range; one clear error when neither."""
    from sorg.stats.bounded import check_bounds

    if bounds is not None:
        return check_bounds(bounds, f"{where}(bounds=...)")
    if metric.startswith("quality.") or metric in _UNIT_RANGE:
        return (0.0, 1.0)
    raise ValueError(f"{where}(test='bounded') needs bounds=(lo, hi) for {metric!r}: its range is not known "
                     "(known: quality.* and the rates, in [0, 1])")


def bounded_power(mean: float, sd: float, g: int, null: float, alpha: float, bounds: tuple[float, float],
                  declared: bool, d_lcb: float | None) -> tuple[float | None, dict[str, Any]]:
    """Power of the betting test at the observed (or declared) mean, normal units of SD `sd`
    clipped to the bounds; and the spec `plan` and Holm's step recompute it from."""
    from sorg.stats.bounded import power_bounded

    if not (math.isfinite(mean) and math.isfinite(sd)):
        return None, {}
    spec = {"design": "bounded", "mean": mean, "sd": sd, "n": g, "null": null, "bounds": list(bounds),
            "declared": declared, "mean_lcb": None if d_lcb is None else null + d_lcb * sd}
    return power_bounded(mean, sd, g, null, alpha, *bounds), spec


def check_values(values: np.ndarray, metric: str) -> None:
    """Infinite metric values are a broken scorer, never silently dropped: one clear error."""
    if np.isinf(values).any():
        raise ValueError(f"metric {metric!r} has {int(np.isinf(values).sum())} infinite value(s) in this run; "
                         "a metric must be finite or missing (NaN)")


# --------------------------------------------------------------------------- replication


def compatibility(paper: float | None, ci: tuple[float, float] | None, label: str) -> dict[str, Any]:
    """details for a claim stated with the paper's figure: is the figure inside the 95%
    interval of the estimate? A second statement beside significance, never part of `passed`."""
    if paper is None:
        return {}
    ok = None if ci is None or not all(np.isfinite(ci)) else bool(ci[0] <= paper <= ci[1])
    return {"paper_value": paper, "paper_label": label, "compatible": ok, "compatible_ci": ci}


_NO_VALUES = re.compile(r"^no '([^']+)' values for ")


def unjudgeable(v: Verdict, trials: Trials) -> Verdict:
    """`v`, or an error verdict (outcome "error") when the claim cannot be judged at all.

    Why: a claim skipped for "no trials" or "no values" reads as a green test, yet a misspelt
    protocol, a model the run never had, or a metric no trial carries will never be judged by
    any run: that is an error of the claim, not a missing piece of data. A claim that needs a
    model the run may lack says so itself (`claims.skip("needs a closed model")`), and stays
    a skip. Other missing filters (a team size, a level) stay skips: the sweep's coverage
    judges those.
    """
    if v.passed is not None or v.outcome or not v.skip_reason:
        return v
    cause = ""
    missing_what = v.details.get("missing") or {}
    if "protocol" in missing_what:
        have = set(trials.distinct("protocol")) if len(trials) else set()
        unknown = [p for p in _listed(missing_what["protocol"]) if p not in have and p not in _registered()]
        if unknown:
            cause = (f"unknown protocol(s) {unknown}: not registered and not in this run "
                     f"(run has {sorted(map(str, have)) or 'no trials'})")
    if not cause and "model" in missing_what:
        have = set(trials.distinct("model")) if len(trials) else set()
        absent = [m for m in _listed(missing_what["model"]) if m not in have]
        if absent:
            cause = (f"model(s) {absent} not in this run (run has {sorted(map(str, have)) or 'no trials'}); a claim "
                     f"that needs a model the run may lack declares it with claims.skip(...)")
    m = _NO_VALUES.match(v.skip_reason)
    if not cause and m:
        cause = f"every trial in scope lacks the metric {m.group(1)!r}"
    if not cause:
        return v
    return dataclasses.replace(v, outcome="error", skip_reason=f"cannot be judged: {cause}")


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def _registered() -> set[str]:
    try:
        from sorg.protocols import PROTOCOLS

        return set(PROTOCOLS)
    except Exception:  # a broken registry is reported at start-up; here it only means "unknown"
        return set()
