"""The session: Holm across all declared claims (one family, each against its own alpha),
reachability, and planning.

Plans count units (tasks): the claims test unit means, so the number of tasks is what power
depends on (trials per task shrink within-task noise but never add units). They use the
test the claim runs (exact signed-rank, t with G - 1 df, exact TOST) at alpha / family size
(the first Holm step), and never promise fewer units than the design needs to reach alpha.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sorg import stats
from sorg.claims._common import decide, undecidable, units_to_reach
from sorg.claims.verdict import Verdict
from sorg.power import n_for_power, power_tost_exact, power_units, units_for_power, units_for_tost
from sorg.stats.blocked import power_friedman


def finalize(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """Holm-adjust the p-values of all declared claims as ONE family and decide pass/fail,
    each adjusted p against its own alpha.

    Why one family: families keyed by the alpha value let ten null claims at 0.0500..0.0491
    each hold their own 5% (familywise error 40%). Holm over all claims, each compared with its
    own alpha, keeps the familywise error at most the largest alpha (the first true null to
    fall needs p below alpha_i / m0).

    Reachability first (Tarone's idea): a claim whose Holm-adjusted p cannot fall below its
    alpha even if every claim reached its test's floor (the smallest attainable p after ties)
    is "undecidable" (passed None, power 0, no plan) and leaves the family, which cannot make a
    false rejection; the check repeats until no claim leaves. Skipped claims are left alone;
    descriptive claims (no p) keep their criteria decision and join no family. Returns new
    verdicts in the same order; idempotent.
    """
    out = list(verdicts)
    for i, v in enumerate(out):
        if not isinstance(v, Verdict):
            raise TypeError(f"finalize: item {i} is a {type(v).__name__}, not a Verdict (did the claim return it?)")
    idx = [i for i, v in enumerate(out) if not v.skip_reason and v.p is not None]
    # Every claim with a test (judged, or undecidable by its own floor): the family a claim
    # would join once its design can reach its alpha, so "needs N" counts its Holm step.
    tested = [i for i, v in enumerate(out) if i in idx or (v.outcome == "undecidable" and "p_floor" in v.details)]
    cut_at: dict[int, tuple[float, int] | None] = {}
    while idx:
        floors = [_floor(out[i]) for i in idx]
        best = stats.holm(floors)
        cut = [(i, f, b) for i, f, b in zip(idx, floors, best) if b >= out[i].alpha]
        if not cut:
            break
        for i, f, b in cut:
            cut_at[i] = (b, len(idx)) if b > f else None
            out[i] = undecidable(out[i], holm=cut_at[i])
        idx = [i for i in idx if not out[i].skip_reason]
    if len(tested) > 1:
        for i in tested:
            if out[i].outcome == "undecidable":
                others = [_floor(out[j]) for j in tested if j != i]
                out[i] = undecidable(out[i], _holm_need(out[i], others), holm=cut_at.get(i), family=len(tested))
    if idx:
        adj = stats.holm([out[i].p for i in idx])  # type: ignore[misc]
        names = [out[i].name for i in idx]
        # The Holm step each claim is compared at in this run: the k-th smallest p (from 0)
        # faces alpha / (m - k). Power is the power at that step, not at the first (alpha / m),
        # which no claim but the smallest p ever faces (a claim that passes at its step would
        # otherwise print a power of 0).
        by_p = sorted(idx, key=lambda i: (out[i].p, i))
        step = {i: len(idx) - k for k, i in enumerate(by_p)}
        for i, p_adj in zip(idx, adj):
            v = out[i]
            fam = _family_power(v, step[i])
            det = {**(fam.pop("details", None) or v.details), "holm_family": names}
            out[i] = dataclasses.replace(v, p_holm=p_adj, n_family=len(idx), passed=decide(v, p_adj),
                                         details=det, **fam)
    return _descriptive(out)


def _floor(v: Verdict) -> float:
    return float(v.details.get("p_floor", 0.0))


def _holm_need(v: Verdict, others: Sequence[float]) -> int | None:
    """Fewest non-zero units for which `v`'s Holm-adjusted floor, beside the others' floors, is
    below its alpha: the reachability rule of `finalize`, solved for the claim's units (a
    Holm-adjusted p is monotone in each raw p, so the search is a bisection)."""
    from sorg.claims._common import smallest_n
    from sorg.stats.location import floor_p

    d = v.details
    kind, zeros, groups = d.get("floor_kind", "sign"), int(d.get("zero_units", 0)), int(d.get("floor_groups", 2))
    ratio = float(d.get("floor_ratio", 1.0))
    return smallest_n(lambda n: stats.holm([*others, floor_p(kind, n, zeros, groups, ratio=ratio)])[-1] < v.alpha)


def _family_power(v: Verdict, m: int) -> dict:
    """Post-hoc power recomputed at alpha / m, the Holm step the claim is compared at (m: the
    claims not yet rejected when Holm reaches it)."""
    spec = v.details.get("power_spec") or {}
    if m <= 1 or v.power is None or not spec.get("n"):
        return {}
    a = v.alpha / m
    if spec.get("design") == "paired" and spec.get("d") is not None and math.isfinite(spec["d"]):
        pw = power_units(spec["d"], int(spec["n"]), a / int(spec.get("sides", 1)), spec.get("test", "t"))
    elif spec.get("design") == "friedman" and spec.get("effects"):
        pw = power_friedman(spec["effects"], int(spec["n"]), a)
    elif spec.get("design") == "bounded":
        pw = _power_bounded(spec, spec["mean"], int(spec["n"]), a)
    elif spec.get("design") == "tost" and spec.get("sd"):
        pw = power_tost_exact(float(spec.get("diff") or 0.0), spec["sd"], int(spec["n"]), spec["margin"], a)
    else:
        return {}
    raw = str(v.details.get("power_basis_raw", v.details.get("power_basis", "")))
    basis = raw.replace(f"alpha {v.alpha:g}", f"alpha {v.alpha:g}/{m} (Holm)")
    return {"power": pw, "details": {**v.details, "power_basis_raw": raw, "power_basis": basis}}


def _descriptive(out: list[Verdict]) -> list[Verdict]:
    """Claims without a p keep their criteria decision and belong to no Holm family."""
    for i, v in enumerate(out):
        if v.p is None and not v.skip_reason:
            out[i] = dataclasses.replace(v, n_family=0, passed=decide(v, None))
    return out


@dataclass(frozen=True)
class Plan:
    """How many units a claim needs for a target power at its (Holm-adjusted) alpha.

    `unit` says what `n_needed` counts (tasks, or trials per group for a two-sample design);
    `trials_needed` is the trials that means at the pilot's trials per unit (None if unknown).
    """

    name: str
    design: str
    unit: str
    n_now: int
    n_needed: int | None
    trials_needed: int | None
    effect: float | None
    alpha: float
    power_target: float
    basis: str = ""
    note: str = ""

    @property
    def enough(self) -> bool | None:
        """Whether the current n already reaches the target (None if unknown)."""
        return None if self.n_needed is None else self.n_now >= self.n_needed


def _power_bounded(spec: dict, mean: float, n: int, alpha: float) -> float:
    from sorg.stats.bounded import power_bounded

    return power_bounded(mean, spec["sd"], n, spec["null"], alpha, *spec["bounds"])


def _plan_friedman(spec: dict, effect: float | None, alpha: float, power: float,
                   note: str) -> tuple[np.ndarray | None, int | None, str]:
    """Friedman's plan: group effects from a given d_z of best vs worst, the declared ones,
    or the lower 80% bound of the pilot's; tasks for `power`, scaled by the tied share."""
    from sorg.stats.blocked import contrast_effects

    eff = spec.get("effects")
    if effect is not None and eff:
        eff = contrast_effects(effect, len(eff))
    elif eff and not spec.get("declared"):
        eff = spec.get("effects_lcb")
        if eff is None:
            note = (note + "; " if note else "") + ("the observed group effects' lower confidence bound is 0: "
                                                    "declare expected_d to plan")
    if not eff:
        if not spec.get("effects") and "expected_d" not in note:
            note = (note + "; " if note else "") + "list the groups in the claim's scope to plan it before data"
        return None, None, note
    arr = np.asarray(eff, dtype=float)
    n_min = units_to_reach("friedman", alpha, groups=arr.size) or 2
    need = n_for_power(lambda n: power_friedman(arr, n, alpha), power, n_min=max(2, n_min))
    ties = float(spec.get("tie_share") or 0.0)
    if need is not None and 0 < ties < 1:
        need = int(math.ceil(need / (1 - ties)))
        note = (note + "; " if note else "") + f"counts {100 * ties:.0f}% of units tied, as observed"
    return arr, need, note


def required_n(design: str, *, alpha: float, effect: float | None = None, power: float = 0.8,
               test: str = "mean", sd: float | None = None, margin: float | None = None,
               n_family: int = 1) -> int | None:
    """Units needed for `power` at `alpha / n_family`, before any data exist.

    design "paired" (effect = d_z of unit differences; units, exact test power), "two_sample"
    (pooled d; trials per group), "tost" (sd of unit differences, margin, effect = true
    difference, default 0; units). None when the effect is zero or in the wrong direction.
    """
    a = alpha / max(n_family, 1)
    if design == "paired":
        return units_for_power(effect, a, power, test)
    if design == "two_sample":
        t = "mannwhitney" if test in ("wilcoxon", "mannwhitney") else "t"
        return stats.n_two_sample_for_power(effect, a, power, t) if effect is not None else None
    if design == "tost":
        if not (sd and margin and sd > 0 and margin > 0):
            raise ValueError("required_n('tost') needs sd > 0 and margin > 0")
        return units_for_tost(sd, margin, a, power, effect or 0.0)
    raise ValueError(f"required_n: unknown design {design!r} (paired, two_sample, tost)")


def plan(verdict: Verdict, *, power: float = 0.8, effect: float | None = None, n_family: int | None = None) -> Plan:
    """Units a claim needs for `power` at alpha / `n_family` (default: the claim's family).

    Uses `effect` if given, else the declared expected effect, else the pilot's observed one.
    Works on a skipped verdict when the claim declared its expected effect. n_needed is None
    when the effect is zero, in the wrong direction, or unknown.
    """
    if verdict.outcome == "undecidable":  # no power, no plan built on one: the reason says what it needs
        return Plan(verdict.name, "none", verdict.details.get("unit_word", "task") + "s", 0,
                    None, None, None, verdict.alpha, power, "", verdict.skip_reason)
    spec = dict(verdict.details.get("power_spec") or {})
    m = n_family if n_family is not None else max(verdict.n_family, 1)
    alpha = verdict.alpha / max(m, 1)
    design = spec.get("design", "none")
    n_now = 0 if verdict.skip_reason else int(spec.get("n_units") or spec.get("n") or verdict.n)
    basis = ("given effect" if effect is not None else "declared expected effect" if spec.get("declared")
             else "observed effect" if spec else "")
    note = f"no data: {verdict.skip_reason}" if verdict.skip_reason else ""
    per_unit = spec.get("trials_per_unit")
    need: int | None = None
    d: float | None = effect
    word = verdict.details.get("unit_word", "task") + "s"
    if design in ("paired", "two_sample"):
        d = effect if effect is not None else spec.get("d")
        if effect is None and not spec.get("declared") and spec.get("d_lcb") is not None:
            # a pilot's observed effect overstates the truth about half the time (plans from it
            # deliver < 80% power in half the pilots): plan from its lower 80% confidence bound
            d = spec["d_lcb"]
            basis = f"lower 80% confidence bound of the observed effect (d_z {spec['d_lcb']:.3g})"
            if not (d is not None and math.isfinite(d) and d > 0):
                note = (note + "; " if note else "") + ("the observed effect's lower confidence bound is not "
                                                        "above 0: declare expected_d to plan")
        sides = int(spec.get("sides", 1))
        need = required_n(design, alpha=alpha / sides, effect=d, power=power, test=spec.get("test", "mean"))
        ties = float(spec.get("tie_share") or 0.0)
        if need is not None and 0 < ties < 1 and design == "paired":
            # the exact tests count non-zero units only: plan for the observed share of ties
            need = int(math.ceil(need / (1 - ties)))
            note = (note + "; " if note else "") + f"counts {100 * ties:.0f}% of units tied, as observed"
        unit = word if design == "paired" else "trials per group"
    elif design == "bounded":
        mean = spec.get("mean") if spec.get("declared") or spec.get("mean_lcb") is None else spec["mean_lcb"]
        if effect is not None:
            mean = spec["null"] + effect * spec["sd"]
        elif not spec.get("declared") and spec.get("mean_lcb") is not None:
            basis = "lower 80% confidence bound of the observed mean"
        if mean is not None and mean > spec["null"]:
            need = n_for_power(lambda n: _power_bounded(spec, mean, n, alpha), power)
        d = None if mean is None or not spec.get("sd") else (mean - spec["null"]) / spec["sd"]
        unit = word
    elif design == "friedman":
        eff, need, note = _plan_friedman(spec, effect, alpha, power, note)
        if eff is not None and spec.get("effects_lcb") is not None and effect is None and not spec.get("declared"):
            basis = "lower 80% confidence bound of the observed group effects"
        d = float(np.ptp(eff)) / math.sqrt(2) if eff is not None else None  # d_z of best vs worst
        unit = word
    elif design == "tost":
        sd, margin = spec.get("sd"), spec.get("margin")
        d = effect if effect is not None else 0.0
        if sd and math.isfinite(sd) and sd > 0:
            need = required_n("tost", alpha=alpha, effect=d, power=power, sd=sd, margin=margin)
        else:
            note = (note + "; " if note else "") + "no variance observed across units: declare expected_sd"
        unit = word
    else:
        unit = verdict.unit or "n/a"
        if not note:
            note = ("no power model for this claim's test (unblocked omnibus)" if verdict.p is not None
                    else "descriptive claim: no test, no power")
        elif not spec:
            note += "; declare expected_d (or run a pilot) to plan it"
    trials = int(math.ceil(need * per_unit)) if need is not None and per_unit else None
    return Plan(verdict.name, design, unit, n_now, need, trials, d, alpha, power, basis, note)
