"""Claims: statistical assertions a researcher writes as pytest tests.

A claim function takes `trials` (a `sorg.results.Trials` of the session) and returns a
`Verdict` from one of the claim kinds below. The plugin evaluates every claim once, after
all trials, then calls `finalize` so the p-values are Holm-adjusted across the session's
claims before anything is declared passed. Why this shape:

- Paired by default: arms share tasks and seeds, so A and B are compared like for like
  (same task, seed, model, team size), which removes task difficulty from the comparison.
- Clustered by task: every interval resamples tasks, not trials; three seeds of one task
  are not three tasks.
- Equivalence is shown, not assumed: "no degradation" is a two one-sided tests claim within
  a margin the researcher declares.
- Missing data never passes: a claim with no trials for an arm is skipped with a reason
  naming the arm.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

from sorg import stats
from sorg.results import Trials

F = TypeVar("F", bound=Callable[..., Any])

#: Design factors that, when they vary inside a comparison, are matched like for like.
DESIGN_FACTORS = ("model", "protocol", "n_agents")

_UNIT_NAMES = {"task_id": "task", "seed": "seed", "model": "model", "protocol": "protocol", "n_agents": "team size", "level": "level", "domain": "domain"}


# --------------------------------------------------------------------------- the decorator


def claim(fn: F) -> F:
    """Mark a pytest test function as a claim (`fn.__sorg_claim__`, mark `sorg_claim`).

    The plugin collects marked functions, runs them once on the controller after every
    trial of the session, and reports their verdicts like tests.
    """
    import pytest

    fn.__sorg_claim__ = True  # type: ignore[attr-defined]
    return pytest.mark.sorg_claim(fn)


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Verdict:
    """The judged claim: everything a reviewer needs to accept or reject it.

    `estimate` is the claim's headline number (a difference of means, a gap, a slope, a
    ratio, a count) named by `estimate_name`, with its `ci` (95%, `ci_method`). `p` is the
    raw p-value of `test`; `p_holm` is set by `finalize` across `n_family` claims. `passed`
    is True / False, or None for a skipped claim (`skip_reason` says why).
    `criteria_met` holds the non-p criteria (minimum effect, gap, d...); `passed` requires
    both the (adjusted) p below `alpha` and the criteria.
    """

    name: str
    kind: str
    statement: str = ""
    test: str = ""
    n: int = 0
    unit: str = ""
    means: Mapping[str, float] = field(default_factory=dict)
    estimate_name: str = ""
    estimate: float | None = None
    ci: tuple[float, float] | None = None
    ci_method: str = ""
    effect_name: str = ""
    effect: float | None = None
    effect_ci: tuple[float, float] | None = None
    p: float | None = None
    p_holm: float | None = None
    n_family: int = 0
    alpha: float = 0.05
    power: float | None = None
    criteria_met: bool | None = None
    criteria: str = ""
    passed: bool | None = None
    skip_reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> float | None:
        """Alias of `estimate` (for `beats` and `equivalent` it is a difference of means)."""
        return self.estimate

    @property
    def skipped(self) -> bool:
        return self.passed is None

    def named(self, name: str) -> "Verdict":
        """The same verdict under another name (the plugin uses the test's node id)."""
        return dataclasses.replace(self, name=name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: tuples become lists, non-finite floats become None."""
        d = dataclasses.asdict(self)
        d["means"] = dict(self.means)
        d["details"] = _jsonable(dict(self.details))
        d["message"] = self.message
        return _jsonable(d)

    @property
    def message(self) -> str:
        """One paragraph a reviewer would accept: what, how tested, numbers, verdict."""
        if self.passed is None and self.skip_reason:
            return f"SKIPPED {self.statement or self.name}: {self.skip_reason}"
        return _MESSAGES.get(self.kind, _msg_generic)(self)

    def __str__(self) -> str:
        return self.message


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    return x


# --------------------------------------------------------------------------- formatting


def _f(x: float | None, signed: bool = False) -> str:
    """Short, readable number: 0.513, 1.163, 23.89, 699, 3.2e-05."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    ax = abs(x)
    if ax == 0:
        s = "0"
    elif ax < 0.001 or ax >= 1e6:
        s = f"{x:.3g}"
    elif ax >= 1000:
        s = f"{x:.0f}"
    elif ax >= 1:
        s = f"{x:.4g}"
    else:
        s = f"{x:.3f}".rstrip("0").rstrip(".")
    if signed and x >= 0 and not s.startswith("+"):
        s = "+" + s
    return s


def _fp(p: float | None) -> str:
    if p is None:
        return "n/a"
    if p < 1e-300:
        return "<1e-300"
    if p < 1e-4:
        return f"{p:.1e}"
    if p < 0.001:
        return f"{p:.5f}".rstrip("0")
    return f"{p:.4f}".rstrip("0").rstrip(".") if p < 1 else "1"


def _eq(p: float) -> str:
    s = _fp(p)
    return s if s.startswith("<") else "=" + s


def _ci(ci: tuple[float, float] | None, signed: bool = False) -> str:
    if ci is None:
        return "n/a"
    return f"{_f(ci[0], signed)}..{_f(ci[1], signed)}"


def _decision(v: Verdict) -> str:
    """The p part and the verdict, e.g. 'p=0.0004 (Holm-adjusted 0.0021 across 7 claims)
    < alpha 0.001? no -> FAILED'."""
    parts = []
    if v.p is not None:
        if v.p_holm is not None:
            adj = f"Holm-adjusted {_fp(v.p_holm)} across {v.n_family} claim{'s' if v.n_family != 1 else ''}"
            used = v.p_holm
        else:
            adj = "not yet Holm-adjusted"
            used = v.p
        parts.append(f"p{_eq(v.p)} ({adj}) < alpha {_fp(v.alpha)}? {'yes' if used < v.alpha else 'no'}")
    if v.criteria:
        parts.append(f"{v.criteria}? {'yes' if v.criteria_met else 'no'}")
    verdict = "PASSED" if v.passed else "FAILED"
    return "; ".join(parts) + f" -> {verdict}"


def _tail(v: Verdict) -> str:
    bits = []
    if v.effect is not None and v.effect_name:
        bits.append(f"{v.effect_name}={_f(v.effect)} [{_ci(v.effect_ci)}]")
    if v.power is not None and not math.isnan(v.power):
        basis = v.details.get("power_basis", "")
        bits.append(f"power {v.power:.2f}" + (f" ({basis})" if basis else ""))
    if v.details.get("note"):
        bits.append(str(v.details["note"]))
    inc = v.details.get("incomplete", 0)
    if inc:
        bits.append(f"{inc} incomplete trial{'s' if inc != 1 else ''} (error/budget) excluded")
    return ("; " + ", ".join(bits)) if bits else ""


def _clus(v: Verdict) -> str:
    k = v.details.get("clusters")
    return f"{v.ci_method} over {k} tasks" if k else v.ci_method


def _msg_beats(v: Verdict) -> str:
    a, b = v.details["a"], v.details["b"]
    ma, mb = v.means.get(a), v.means.get(b)
    return (
        f"{v.statement}: mean {_f(ma)} vs {_f(mb)} ({_f(v.estimate, True)}, 95% CI {_ci(v.ci, True)}, "
        f"{_clus(v)}), {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_spread(v: Verdict) -> str:
    d = v.details
    means = ", ".join(f"{k} {_f(m)}" for k, m in sorted(v.means.items(), key=lambda kv: -kv[1]))
    return (
        f"{v.statement}: means {means}; best-worst gap {d['best']} - {d['worst']} = {_f(v.estimate, True)} "
        f"({_f(100 * d['rel_gap'], True)}% of the worst), 95% CI {_ci(v.ci, True)} ({_clus(v)}); "
        f"{v.test} across {d['n_groups']} groups on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_equivalent(v: Verdict) -> str:
    d = v.details
    return (
        f"{v.statement}: mean {_f(v.means.get(d['low_label']))} at {d['factor']}={d['low']} vs "
        f"{_f(v.means.get(d['high_label']))} at {d['factor']}={d['high']} (difference {_f(v.estimate, True)}, "
        f"95% CI {_ci(v.ci, True)}, {100 * (1 - 2 * v.alpha):.0f}% CI {_ci(d['ci_tost'], True)}, {_clus(v)}; "
        f"margin +-{_f(d['margin'])}), {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_growth(v: Verdict) -> str:
    d = v.details
    g = d.get("growth")
    grow = f"; mean {d['metric']} {_f(g, True)}% from {d['factor']}={d['lo']} to {d['hi']}" if g is not None else ""
    return (
        f"{v.statement}: slope of log {d['metric']} on log {d['factor']} = {_f(v.estimate)} "
        f"(95% CI {_ci(v.ci)}, {_clus(v)}){grow}; {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_ratio(v: Verdict) -> str:
    d = v.details
    return (
        f"{v.statement}: mean {d['metric']} {_f(v.means.get(d['num_label']))} vs {_f(v.means.get(d['den_label']))}, "
        f"ratio {_f(v.estimate)} (95% CI {_ci(v.ci)}, {_clus(v)}); {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_count(v: Verdict) -> str:
    d = v.details
    ci = f" (95% CI {_ci(v.ci)}, {_clus(v)})" if v.ci else ""
    how = f"{v.test} on {v.n} {v.unit}, " if v.test else f"over {v.n} {v.unit}, "
    return f"{v.statement}: {d['agg_label']} = {_f(v.estimate)}{ci}; {how}{_decision(v)}{_tail(v)}"


def _msg_generic(v: Verdict) -> str:
    return f"{v.statement or v.name}: {v.estimate_name} {_f(v.estimate)}; {_decision(v)}{_tail(v)}"


_MESSAGES: dict[str, Callable[[Verdict], str]] = {
    "beats": _msg_beats,
    "spread": _msg_spread,
    "equivalent": _msg_equivalent,
    "growth": _msg_growth,
    "ratio": _msg_ratio,
    "count": _msg_count,
}


# --------------------------------------------------------------------------- helpers


def _scope_text(filters: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v!r}" for k, v in filters.items())


def _missing(kind: str, name: str, statement: str, what: Mapping[str, Any], extra: str = "", *,
             alpha: float = 0.05, spec: Mapping[str, Any] | None = None) -> Verdict:
    """Skipped for missing data; keeps alpha and any declared effect so `plan` still works."""
    reason = (f"no trials for {_scope_text(what)} in this run" if what else "no trials in this run") + (
        f" ({extra})" if extra else "")
    return _skip_v(kind, name, statement, reason, alpha=alpha, spec=spec, missing=dict(what))


def _skip_v(kind: str, name: str, statement: str, reason: str, *, alpha: float = 0.05,
            spec: Mapping[str, Any] | None = None, **details: Any) -> Verdict:
    if spec:
        details["power_spec"] = dict(spec)
    return Verdict(name=name, kind=kind, statement=statement, alpha=alpha, skip_reason=reason, details=details)


def _arm(by: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {by: list(value) if isinstance(value, (list, tuple, set)) else value}


def _label(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return "+".join(str(v) for v in value)
    return str(value)


def _scoped(trials: Trials, where: Mapping[str, Any]) -> tuple[Trials, int]:
    """Scope to the claim's filters; returns ok trials and the count of incomplete ones."""
    t = trials.where(**where) if where else trials
    ok = t.only_ok()
    return ok, len(t) - len(ok)


def _pair_fields(t: Trials, exclude: Sequence[str], pair_by: Sequence[str] | None) -> list[str]:
    if pair_by is not None:
        return list(pair_by)
    fields = ["task_id", "seed"]
    for f in DESIGN_FACTORS:
        if f not in exclude and len(t.distinct(f)) > 1:
            fields.append(f)
    return fields


def _unit(fields: Sequence[str], what: str = "pairs") -> str:
    return " x ".join(_UNIT_NAMES.get(f, f) for f in fields) + f" {what}"


def _finish(v: Verdict) -> Verdict:
    """Decide `passed` from the raw p (before Holm) and the criteria."""
    return dataclasses.replace(v, passed=_decide(v, v.p))


def _decide(v: Verdict, p: float | None) -> bool | None:
    if v.skip_reason:
        return None
    ok_p = True if p is None else (p < v.alpha)
    ok_c = True if v.criteria_met is None else bool(v.criteria_met)
    return bool(ok_p and ok_c)


def _power_basis(expected: float | None, observed: float, name: str) -> tuple[float, str]:
    if expected is not None:
        return expected, f"at expected {name}={_f(expected)}"
    return observed, f"at observed {name}={_f(observed)}"


# --------------------------------------------------------------------------- claim kinds


def beats(
    trials: Trials,
    a: Any,
    b: Any,
    *,
    metric: str = "quality.rubric",
    by: str = "protocol",
    alpha: float = 0.05,
    min_effect: float = 0.0,
    paired: bool = True,
    test: str = "wilcoxon",
    pair_by: Sequence[str] | None = None,
    unit: str = "pair",
    expected_d: float | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """A beats B on `metric` (one-sided), optionally by at least `min_effect`.

    `a` / `b` are values of `by` (or lists of values, or dicts of filters); extra keyword
    arguments scope the claim (e.g. `model="openai/gpt-4o"`). Paired (default): trials are
    matched on task and seed, plus every design factor that varies (model, protocol, team
    size) except `by`; the test is Wilcoxon signed-rank (`test="wilcoxon"`) or the paired t
    (`test="t"`) on the pair differences. With `unit="task"` the test runs on per-task mean
    differences instead (fewer, independent units: stricter). Without pairs (or
    `paired=False`): Mann-Whitney U (`test="wilcoxon"`) or Welch t (`test="t"`).
    The p-value tests the sharp null on these tasks; the 95% CI of the difference resamples
    tasks, generalising to tasks like these. Passes when the (Holm-adjusted) p < alpha and
    the mean difference exceeds `min_effect`.
    """
    if test not in ("wilcoxon", "t"):
        raise ValueError(f"beats(test=...) must be 'wilcoxon' or 't', got {test!r}")
    if unit not in ("pair", "task"):
        raise ValueError(f"beats(unit=...) must be 'pair' or 'task', got {unit!r}")
    la, lb = _label(a), _label(b)
    scope = f" ({_scope_text(where)})" if where else ""
    statement = f"{la} beats {lb} on {metric}" + (f" by more than {_f(min_effect)}" if min_effect else "") + scope
    name = name or f"beats: {la} > {lb} on {metric}{scope}"
    spec = ({"design": "paired" if paired else "two_sample", "d": expected_d, "declared": True,
             "test": test if paired else ("mannwhitney" if test == "wilcoxon" else "t")} if expected_d else None)
    t, incomplete = _scoped(trials, where)
    fa, fb = _arm(by, a), _arm(by, b)
    ta, tb = t.where(**fa), t.where(**fb)
    for arm, ft in ((ta, fa), (tb, fb)):
        if not len(arm):
            return _missing("beats", name, statement, {**ft, **where}, alpha=alpha, spec=spec)
    va, vb = ta.values(metric), tb.values(metric)
    for arm_vals, ft in ((va, fa), (vb, fb)):
        if not np.isfinite(arm_vals).any():
            return _skip_v("beats", name, statement, alpha=alpha, spec=spec, reason=
                           f"no {metric!r} values for {_scope_text({**ft, **where})} in this run"
                           + (" (no judge model configured?)" if metric.startswith("quality.judge") else ""))
    union = t.where(**{by: _values_of(fa, fb, by)}) if (by in fa and by in fb) else t
    fields = _pair_fields(union, exclude=[by, *fa, *fb], pair_by=pair_by)
    pairs = t.pairs(fa, fb, metric, pair_by=fields) if paired else None
    base: dict[str, Any] = dict(
        name=name, kind="beats", statement=statement, alpha=alpha,
        means={la: float(np.nanmean(va)), lb: float(np.nanmean(vb))},
        estimate_name="difference",
        criteria=f"difference > {_f(min_effect)}" if min_effect else "",
    )
    details: dict[str, Any] = {"a": la, "b": lb, "metric": metric, "by": by, "scope": dict(where),
                               "incomplete": incomplete, "min_effect": min_effect}
    if pairs is not None and len(pairs) >= 2:
        diff = pairs.diff
        clusters = pairs.cluster
        n_clusters = len(set(clusters.tolist()))
        if unit == "task":
            codes, k = stats.cluster_codes(clusters)
            diff = np.bincount(codes, weights=diff, minlength=k) / np.bincount(codes, minlength=k)
            clusters = np.arange(k)
            unit_name = "tasks (mean pair difference per task)"
        else:
            unit_name = _unit(fields)
        res = stats.wilcoxon_paired(diff) if test == "wilcoxon" else stats.paired_t(diff)
        est = float(np.mean(pairs.diff))
        ci = stats.boot_mean_ci(pairs.diff, pairs.cluster, n_boot=n_boot, seed=seed)
        dz = stats.cohen_dz(diff)
        dz_ci = stats.boot_dz_ci(diff, clusters, n_boot=n_boot, seed=seed) if math.isfinite(dz) else (math.nan, math.nan)
        d_for_power, basis = _power_basis(expected_d, dz, "d_z")
        power = stats.power_paired(d_for_power, len(diff), alpha, test)
        # what an analysis treating pairs as independent would report (normal interval: a
        # bootstrap over thousands of pairs would cost more than the claim itself)
        sd_pairs = float(np.std(pairs.diff, ddof=1))
        half = 1.959963984540054 * sd_pairs / math.sqrt(len(pairs))
        naive = (est - half, est + half)
        details.update(
            clusters=n_clusters, pair_by=fields, paired=True, naive_ci=naive,
            pair_means={la: float(pairs.a.mean()), lb: float(pairs.b.mean())},
            power_basis=basis,
            power_spec={"design": "paired", "test": test, "d": d_for_power, "n": len(diff)},
            n_needed_80=stats.n_paired_for_power(d_for_power, alpha, 0.8, test),
        )
        v = Verdict(**base, test=res.name + (" (one-sided)"), n=len(diff), unit=unit_name,
                    estimate=est, ci=ci, ci_method="task-clustered bootstrap",
                    effect_name="d_z", effect=dz, effect_ci=dz_ci, p=res.p, power=power,
                    criteria_met=(est > min_effect) if min_effect else None, details=details)
        return _finish(v)
    # unpaired fallback
    ok_a, ok_b = np.isfinite(va), np.isfinite(vb)
    xa, xb = va[ok_a], vb[ok_b]
    if xa.size < 2 or xb.size < 2:
        return _skip_v("beats", name, statement, alpha=alpha, spec=spec, reason=
                       f"too few trials to test: {xa.size} with {la}, {xb.size} with {lb} (need 2 each)")
    ca = np.asarray(ta.column("task_id"), dtype=object)[ok_a]
    cb = np.asarray(tb.column("task_id"), dtype=object)[ok_b]
    res = stats.mann_whitney(xa, xb) if test == "wilcoxon" else stats.welch_t(xa, xb)
    est = float(xa.mean() - xb.mean())
    ci = stats.boot_diff_ci(xa, ca, xb, cb, n_boot=n_boot, seed=seed)
    d = stats.cohen_d(xa, xb)
    d_ci = stats.boot_d_ci(xa, ca, xb, cb, n_boot=n_boot, seed=seed) if math.isfinite(d) else (math.nan, math.nan)
    d_for_power, basis = _power_basis(expected_d, d, "d")
    power = stats.power_two_sample(d_for_power, xa.size, xb.size, alpha, "mannwhitney" if test == "wilcoxon" else "t")
    why = "paired=False" if not paired else f"no {' x '.join(fields)} pairs shared by both arms"
    details.update(
        clusters=len(set(ca.tolist()) | set(cb.tolist())), paired=False, unpaired_reason=why,
        power_basis=basis,
        power_spec={"design": "two_sample", "test": "mannwhitney" if test == "wilcoxon" else "t", "d": d_for_power,
                    "n": int(min(xa.size, xb.size))},
        n_needed_80=stats.n_two_sample_for_power(d_for_power, alpha, 0.8, "mannwhitney" if test == "wilcoxon" else "t"),
    )
    v = Verdict(**base, test=res.name + f" (one-sided, unpaired: {why})", n=int(xa.size + xb.size),
                unit=f"trials ({xa.size} vs {xb.size})", estimate=est, ci=ci, ci_method="task-clustered bootstrap",
                effect_name="d", effect=d, effect_ci=d_ci, p=res.p, power=power,
                criteria_met=(est > min_effect) if min_effect else None, details=details)
    return _finish(v)


def _values_of(fa: Mapping[str, Any], fb: Mapping[str, Any], by: str) -> list:
    out = []
    for f in (fa, fb):
        v = f[by]
        out.extend(v if isinstance(v, list) else [v])
    return out


def spread(
    trials: Trials,
    by: str = "protocol",
    metric: str = "quality.rubric",
    *,
    min_gap: float | None = None,
    min_rel_gap: float | None = None,
    min_d: float | None = None,
    alpha: float = 0.05,
    test: str = "kruskal",
    expected_d: float | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """Groups of `by` differ on `metric`: Kruskal-Wallis across groups, plus the gap between
    the best and worst group (absolute and relative to the worst, with a task-clustered CI)
    and Cohen's d between those extremes. Passes when the (Holm-adjusted) p < alpha and the
    gap / relative gap / d reach `min_gap` / `min_rel_gap` / `min_d` where given.

    `test="friedman"` blocks by task and seed (and the other design factors that vary):
    each block's groups are compared within the block, so task difficulty drops out, as in
    the paired `beats`. Only complete blocks (every group present) count; needs >= 3 groups.
    """
    if test not in ("kruskal", "friedman"):
        raise ValueError(f"spread(test=...) must be 'kruskal' or 'friedman', got {test!r}")
    scope = f" ({_scope_text(where)})" if where else ""
    statement = f"{metric} differs across {by}" + scope
    name = name or f"spread: {metric} across {by}{scope}"
    spec = {"design": "two_sample", "test": "mannwhitney", "d": expected_d, "declared": True} if expected_d else None
    t, incomplete = _scoped(trials, where)
    if not len(t):
        return _missing("spread", name, statement, dict(where), alpha=alpha, spec=spec)
    groups = {}
    for key, g in t.groups(by).items():
        vals = g.values(metric)
        ok = np.isfinite(vals)
        if ok.any():
            groups[str(key)] = (vals[ok], np.asarray(g.column("task_id"), dtype=object)[ok])
    if len(groups) < 2:
        return _skip_v("spread", name, statement, alpha=alpha, spec=spec, reason=
                       f"need at least 2 {by} groups with {metric!r} values in this run, found {sorted(groups) or 'none'}")
    extra: dict[str, Any] = {}
    if test == "friedman":
        if len(groups) < 3:
            return _skip_v("spread", name, statement, alpha=alpha, spec=spec, reason=
                           f"Friedman needs at least 3 {by} groups, found {sorted(groups)}; use test='kruskal' or beats()")
        fields = _pair_fields(t, exclude=[by], pair_by=None)
        matrix = _block_matrix(t, by, metric, fields, list(groups))
        res = stats.friedman(matrix)
        n_units, unit_name = int(matrix.shape[0]), _unit(fields, "blocks")
        if matrix.shape[0]:
            extra["kendall_w"] = float(res.statistic / (matrix.shape[0] * (len(groups) - 1))) if math.isfinite(res.statistic) else None
        extra["block_by"] = fields
    else:
        res = stats.kruskal([v for v, _ in groups.values()])
        n_units, unit_name = int(sum(v.size for v, _ in groups.values())), "trials"
    means = {k: float(v.mean()) for k, (v, _) in groups.items()}
    best = max(means, key=means.__getitem__)
    worst = min((k for k in means if k != best), key=means.__getitem__)
    (xb, cb), (xw, cw) = groups[best], groups[worst]
    gap = means[best] - means[worst]
    rel = gap / means[worst] if means[worst] else math.inf
    ci = stats.boot_diff_ci(xb, cb, xw, cw, n_boot=n_boot, seed=seed)
    d = stats.cohen_d(xb, xw)
    d_ci = stats.boot_d_ci(xb, cb, xw, cw, n_boot=n_boot, seed=seed) if math.isfinite(d) else (math.nan, math.nan)
    crit, met = [], []
    if min_gap is not None:
        crit.append(f"gap >= {_f(min_gap)}")
        met.append(gap >= min_gap)
    if min_rel_gap is not None:
        crit.append(f"relative gap >= {_f(100 * min_rel_gap)}%")
        met.append(rel >= min_rel_gap)
    if min_d is not None:
        crit.append(f"d >= {_f(min_d)}")
        met.append(math.isfinite(d) and d >= min_d)
    d_for_power, basis = _power_basis(expected_d, d, "d")
    n_min = int(min(xb.size, xw.size))
    power = stats.power_two_sample(d_for_power, xb.size, xw.size, alpha, "mannwhitney")
    clusters = len({c for _, cl in groups.values() for c in cl.tolist()})
    v = Verdict(
        name=name, kind="spread", statement=statement, test=res.name, n=n_units, unit=unit_name,
        means=means, estimate_name="gap", estimate=gap, ci=ci, ci_method="task-clustered bootstrap",
        effect_name=f"d({best} vs {worst})", effect=d, effect_ci=d_ci, p=res.p, alpha=alpha, power=power,
        criteria=" and ".join(crit), criteria_met=all(met) if met else None,
        details={"by": by, "metric": metric, "best": best, "worst": worst, "rel_gap": rel, "n_groups": len(groups),
                 "clusters": clusters, "statistic": res.statistic, "scope": dict(where), "incomplete": incomplete,
                 "power_basis": basis + " (extremes contrast, Mann-Whitney approx.)",
                 "power_spec": {"design": "two_sample", "test": "mannwhitney", "d": d_for_power, "n": n_min},
                 "n_needed_80": stats.n_two_sample_for_power(d_for_power, alpha, 0.8), **extra},
    )
    return _finish(v)


def _block_matrix(t: Trials, by: str, metric: str, fields: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """(complete blocks x groups) matrix of block means; blocks keyed on `fields`."""
    per = []
    for key, g in t.groups(by).items():
        if str(key) in labels:
            uk, means, _ = g._key_means(list(fields), metric, "task_id")
            per.append((labels.index(str(key)), uk, means))
    per.sort(key=lambda x: x[0])
    common = per[0][1]
    for _, uk, _ in per[1:]:
        common = np.intersect1d(common, uk, assume_unique=True)
    cols = [means[np.searchsorted(uk, common)] for _, uk, means in per]
    return np.column_stack(cols) if cols else np.zeros((0, 0))


def equivalent(
    trials: Trials,
    factor: str = "n_agents",
    low: Any = 4,
    high: Any = 256,
    *,
    margin: float,
    metric: str = "quality.rubric",
    alpha: float = 0.05,
    pair_by: Sequence[str] | None = None,
    expected_sd: float | None = None,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """No degradation: `metric` at factor=high is within +-`margin` of factor=low.

    Two one-sided tests (TOST) on paired differences (high - low; matched on task, seed and
    the other design factors that vary), or Welch TOST when nothing pairs. Equivalence is
    shown when the TOST p (the larger one-sided p) is below alpha, i.e. the 1 - 2 alpha CI
    lies inside the margin. The margin must be declared: a p > 0.05 from a difference test is
    not evidence of no difference, and the verdict reports that p only for comparison.
    """
    if not (isinstance(margin, (int, float)) and margin > 0):
        raise ValueError(f"equivalent(margin=...) must be a positive number, got {margin!r}")
    scope = f" ({_scope_text(where)})" if where else ""
    statement = f"{metric} at {factor}={high} is equivalent to {factor}={low} within +-{_f(margin)}" + scope
    name = name or f"equivalent: {metric} {factor} {low} vs {high}{scope}"
    spec = {"design": "tost", "sd": expected_sd, "margin": margin, "declared": True} if expected_sd else None
    t, incomplete = _scoped(trials, where)
    tl, th = t.where(**{factor: low}), t.where(**{factor: high})
    for arm, val in ((tl, low), (th, high)):
        if not len(arm):
            return _missing("equivalent", name, statement, {factor: val, **where}, alpha=alpha, spec=spec)
    ll, lh = f"{factor}={low}", f"{factor}={high}"
    vl, vh = tl.values(metric), th.values(metric)
    if not np.isfinite(vl).any() or not np.isfinite(vh).any():
        return _skip_v("equivalent", name, statement, alpha=alpha, spec=spec, reason=f"no {metric!r} values at {ll} or {lh} in this run")
    fields = _pair_fields(t.where(**{factor: [low, high]}), exclude=[factor], pair_by=pair_by)
    pairs = t.pairs({factor: high}, {factor: low}, metric, pair_by=fields)
    details: dict[str, Any] = {"factor": factor, "low": low, "high": high, "low_label": ll, "high_label": lh,
                               "margin": margin, "metric": metric, "scope": dict(where), "incomplete": incomplete}
    means = {ll: float(np.nanmean(vl)), lh: float(np.nanmean(vh))}
    if len(pairs) >= 2:
        diff = pairs.diff
        r = stats.tost_paired(diff, margin, alpha)
        diff_test = stats.wilcoxon_paired(diff, alternative="two-sided")
        ci = stats.boot_mean_ci(diff, pairs.cluster, n_boot=n_boot, seed=seed)
        ci_tost = stats.boot_mean_ci(diff, pairs.cluster, n_boot=n_boot, seed=seed, level=1 - 2 * alpha)
        dz = stats.cohen_dz(diff)
        dz_ci = stats.boot_dz_ci(diff, pairs.cluster, n_boot=n_boot, seed=seed) if math.isfinite(dz) else (math.nan, math.nan)
        sd = float(np.std(diff, ddof=1))
        power = stats.power_tost(0.0, sd, len(diff), margin, alpha)
        n, unit_name, test = len(diff), _unit(fields), "TOST (two one-sided paired t tests)"
        clusters = len(set(pairs.cluster.tolist()))
        eff_name, eff, eff_ci = "d_z", dz, dz_ci
        details.update(pair_by=fields, paired=True,
                       n_needed_80=stats.n_for_power(lambda k: stats.power_tost(0.0, sd, k, margin, alpha), 0.8)
                       if sd > 0 else 2)
        details["power_spec"] = {"design": "tost", "sd": sd, "margin": margin, "n": n}
        details["difference_test"] = {"test": diff_test.name + " (two-sided)", "p": diff_test.p}
    else:
        xl, xh = vl[np.isfinite(vl)], vh[np.isfinite(vh)]
        cl = np.asarray(tl.column("task_id"), dtype=object)[np.isfinite(vl)]
        ch = np.asarray(th.column("task_id"), dtype=object)[np.isfinite(vh)]
        r = stats.tost_welch(xh, xl, margin, alpha)
        diff_test = stats.mann_whitney(xh, xl, alternative="two-sided")
        ci = stats.boot_diff_ci(xh, ch, xl, cl, n_boot=n_boot, seed=seed)
        ci_tost = stats.boot_diff_ci(xh, ch, xl, cl, n_boot=n_boot, seed=seed, level=1 - 2 * alpha)
        d = stats.cohen_d(xh, xl)
        eff_name, eff = "d", d
        eff_ci = stats.boot_d_ci(xh, ch, xl, cl, n_boot=n_boot, seed=seed) if math.isfinite(d) else (math.nan, math.nan)
        sd = float(np.sqrt((np.var(xh, ddof=1) + np.var(xl, ddof=1)) / 2)) if min(xh.size, xl.size) > 1 else math.nan
        n = int(xh.size + xl.size)
        power = stats.power_tost(0.0, sd * math.sqrt(2), n // 2, margin, alpha) if math.isfinite(sd) else math.nan
        unit_name, test = f"trials ({xl.size} vs {xh.size}, unpaired)", "TOST (two one-sided Welch t tests)"
        clusters = len(set(cl.tolist()) | set(ch.tolist()))
        details.update(paired=False, power_spec={"design": "tost", "sd": sd * math.sqrt(2), "margin": margin, "n": n // 2})
        details["difference_test"] = {"test": diff_test.name + " (two-sided)", "p": diff_test.p}
    details.update(clusters=clusters, ci_tost=ci_tost, ci_tost_t=r["ci"], p_lower=r["p_lower"], p_upper=r["p_upper"],
                   power_basis="if the true difference were 0")
    v = Verdict(name=name, kind="equivalent", statement=statement, test=test, n=n, unit=unit_name, means=means,
                estimate_name="difference", estimate=r["mean"], ci=ci, ci_method="task-clustered bootstrap",
                effect_name=eff_name, effect=eff, effect_ci=eff_ci, p=r["p"], alpha=alpha, power=power,
                details=details)
    return _finish(v)


def growth(
    trials: Trials,
    factor: str = "n_agents",
    metric: str = "cost_usd",
    *,
    below: float = 1.0,
    alpha: float = 0.05,
    within: Sequence[str] = ("task_id", "protocol", "model"),
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """`metric` grows slower than factor**`below`: slope of log metric on log factor < below.

    below=1.0 is "sub-linear". The slope is estimated within cells (`within`: task,
    protocol, model fixed effects), so it measures how one cell's cost grows with team size
    rather than comparing protocols. Test: one-sided t on the slope with a task-clustered
    (CR1) standard error; CI: task-clustered bootstrap. Also reports the growth of the mean
    metric from the smallest to the largest factor value (the study's "+11.8% from 8 to 256").
    """
    scope = f" ({_scope_text(where)})" if where else ""
    statement = f"{metric} grows slower than {factor}^{_f(below)}" + (" (sub-linear)" if below == 1.0 else "") + scope
    name = name or f"growth: {metric} vs {factor}{scope}"
    t, incomplete = _scoped(trials, where)
    if not len(t):
        return _missing("growth", name, statement, dict(where), alpha=alpha)
    levels = sorted(v for v in t.distinct(factor))
    if len(levels) < 2:
        return _skip_v("growth", name, statement, alpha=alpha, reason=
                       f"need trials at 2 or more values of {factor} in this run, found {levels}")
    x = t.values(factor)
    y = t.values(metric)
    cl = np.asarray(t.column("task_id"), dtype=object)
    key, _ = t._key([w for w in within if w != factor]) if within else (np.zeros(len(t), dtype=np.int64), None)
    r = stats.loglog_slope(x, y, cl, within=key, below=below, n_boot=n_boot, seed=seed)
    if not math.isfinite(r["slope"]):
        return _skip_v("growth", name, statement, alpha=alpha, reason=
                       f"cannot fit a slope: {r['n']} trials with positive {metric!r} ({r['dropped']} dropped as <= 0 or missing)")
    lo, hi = levels[0], levels[-1]
    m_lo = float(np.nanmean(t.where(**{factor: lo}).values(metric)))
    m_hi = float(np.nanmean(t.where(**{factor: hi}).values(metric)))
    means = {f"{factor}={lv}": float(np.nanmean(t.where(**{factor: lv}).values(metric))) for lv in levels}
    grow = 100.0 * (m_hi / m_lo - 1.0) if m_lo else None
    power = stats.power_z(below - r["slope"], r["se"], alpha) if math.isfinite(r["se"]) else None
    v = Verdict(
        name=name, kind="growth", statement=statement,
        test=f"one-sided t on the log-log slope (task-clustered SE, {r['clusters'] - 1} df)",
        n=r["n"], unit=f"trials in {r['clusters']} tasks", means=means, estimate_name="slope", estimate=r["slope"],
        ci=r["ci"], ci_method="task-clustered bootstrap", p=r["p"], alpha=alpha, power=power,
        details={"factor": factor, "metric": metric, "below": below, "lo": lo, "hi": hi, "growth": grow,
                 "clusters": r["clusters"], "se": r["se"], "dropped": r["dropped"], "within": list(within),
                 "scope": dict(where), "incomplete": incomplete, "power_basis": "at the observed slope",
                 "power_spec": {"design": "z", "delta": below - r["slope"], "se": r["se"], "n": r["clusters"]}},
    )
    return _finish(v)


def ratio(
    trials: Trials,
    num: Any,
    den: Any,
    metric: str = "quality.rubric",
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    by: str = "model",
    alpha: float = 0.05,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """mean(metric | num) / mean(metric | den) is at least `at_least` (and/or at most `at_most`).

    E.g. open models' quality >= 0.95 x closed quality; closed cost >= 24 x open cost. Only
    tasks both arms ran are compared (a ratio over different task mixes measures the mix).
    Test: delta method on the log ratio with a task-clustered variance (one-sided z); when
    both bounds are given, the larger of the two one-sided p-values. CI: task-clustered
    bootstrap of the ratio.
    """
    if at_least is None and at_most is None:
        raise ValueError("ratio() needs at_least=... and/or at_most=...")
    ln, ld = _label(num), _label(den)
    scope = f" ({_scope_text(where)})" if where else ""
    bounds = []
    if at_least is not None:
        bounds.append(f">= {_f(at_least)}")
    if at_most is not None:
        bounds.append(f"<= {_f(at_most)}")
    statement = f"{metric} ratio {ln} / {ld} {' and '.join(bounds)}" + scope
    name = name or f"ratio: {metric} {ln}/{ld}{scope}"
    t, incomplete = _scoped(trials, where)
    fn, fd = _arm(by, num), _arm(by, den)
    tn, td = t.where(**fn), t.where(**fd)
    for arm, ft in ((tn, fn), (td, fd)):
        if not len(arm):
            return _missing("ratio", name, statement, {**ft, **where}, alpha=alpha)
    vn, vd = tn.values(metric), td.values(metric)
    cn = np.asarray(tn.column("task_id"), dtype=object)
    cd = np.asarray(td.column("task_id"), dtype=object)
    common = set(cn[np.isfinite(vn)].tolist()) & set(cd[np.isfinite(vd)].tolist())
    if not common:
        return _skip_v("ratio", name, statement, alpha=alpha, reason=f"no task with {metric!r} values for both {ln} and {ld} in this run")
    kn = np.isfinite(vn) & np.isin(cn, list(common))
    kd = np.isfinite(vd) & np.isin(cd, list(common))
    xn, xd, cn, cd = vn[kn], vd[kd], cn[kn], cd[kd]
    ps: list[float] = []
    powers: list[float] = []
    res: dict[str, Any] | None = None
    for thr, alt in ((at_least, "greater"), (at_most, "less")):
        if thr is None:
            continue
        res = stats.log_ratio_test(xn, cn, xd, cd, thr, alternative=alt)
        ps.append(res["p"])
        delta = (math.log(res["ratio"]) - math.log(thr)) if res["ratio"] > 0 else math.nan
        powers.append(stats.power_z(delta if alt == "greater" else -delta, res["se_log"], alpha))
    if res is None:  # unreachable: at_least or at_most was checked above
        raise ValueError("ratio() needs at_least=... and/or at_most=...")
    est = float(xn.mean() / xd.mean()) if xd.mean() else math.nan
    ci = stats.boot_ratio_ci(xn, cn, xd, cd, n_boot=n_boot, seed=seed)
    log_r = math.log(est) if est and est > 0 else math.nan
    se = res["se_log"]
    v = Verdict(
        name=name, kind="ratio", statement=statement,
        test=("two one-sided z tests" if len(ps) == 2 else "one-sided z")
        + " on the log ratio (delta method, task-clustered variance)",
        n=len(common), unit=f"tasks ({xn.size} vs {xd.size} trials)",
        means={ln: float(xn.mean()), ld: float(xd.mean())}, estimate_name="ratio", estimate=est, ci=ci,
        ci_method="task-clustered bootstrap", effect_name="log ratio", effect=log_r,
        effect_ci=(log_r - 1.96 * se, log_r + 1.96 * se) if math.isfinite(se) and math.isfinite(log_r) else None,
        p=max(ps), alpha=alpha, power=min(powers) if all(math.isfinite(p) for p in powers) else None,
        details={"num_label": ln, "den_label": ld, "metric": metric, "by": by, "at_least": at_least,
                 **({"note": "fewer than 2 shared tasks: no variance estimate, p = 1"} if len(common) < 2 else {}),
                 "at_most": at_most, "clusters": len(common), "se_log": se, "scope": dict(where),
                 "incomplete": incomplete, "dropped_unshared": int((~kn).sum() + (~kd).sum()),
                 "power_basis": "at the observed ratio",
                 "power_spec": {"design": "z", "delta": (log_r - math.log(at_least)) if at_least and math.isfinite(log_r) else None,
                                "se": se, "n": len(common)}},
    )
    return _finish(v)


_ROLE_METRICS = ("unique_roles", "roles")


def count(
    trials: Trials,
    metric: str = "unique_roles",
    *,
    at_least: float,
    agg: str | None = None,
    alpha: float = 0.05,
    name: str | None = None,
    n_boot: int = stats.DEFAULT_BOOT,
    seed: int = stats.DEFAULT_SEED,
    **where: Any,
) -> Verdict:
    """Emergence counts: distinct roles invented, how often agents abstain.

    `agg`:
    - "distinct" (default for unique_roles): distinct role names across all trials in scope
      (the study's "5,006 unique roles"); descriptive, passes when >= at_least (no p-value,
      so it does not enter Holm).
    - "mean" (default otherwise, e.g. abstention_rate): mean per trial with a task-clustered
      CI; passes when a one-sided t test on per-task means shows mean > at_least.
    - "any": number of trials with metric > 0 (e.g. trials where someone abstained);
      descriptive, passes when >= at_least.
    - "sum": total over trials; descriptive.
    """
    agg = agg or ("distinct" if metric in _ROLE_METRICS else "mean")
    if agg not in ("distinct", "mean", "any", "sum"):
        raise ValueError(f"count(agg=...) must be distinct, mean, any or sum, got {agg!r}")
    scope = f" ({_scope_text(where)})" if where else ""
    labels = {"distinct": f"distinct {'roles' if metric in _ROLE_METRICS else metric}",
              "mean": f"mean {metric} per trial", "any": f"trials with {metric} > 0", "sum": f"total {metric}"}
    op = ">" if agg == "mean" else ">="
    statement = f"{labels[agg]} {op} {_f(at_least)}" + scope
    name = name or f"count: {labels[agg]}{scope}"
    t, incomplete = _scoped(trials, where)
    if not len(t):
        return _missing("count", name, statement, dict(where), alpha=alpha)
    details: dict[str, Any] = {"metric": metric, "agg": agg, "agg_label": labels[agg], "at_least": at_least,
                               "scope": dict(where), "incomplete": incomplete}
    tasks = t.distinct("task_id")
    if agg == "distinct":
        if metric in _ROLE_METRICS:
            roles: set[str] = set()
            for r in t:
                roles.update(x for x in r.roles if x)
            value = float(len(roles))
            details["mean_per_trial"] = float(np.mean(t.values("unique_roles")))
            details["examples"] = sorted(roles)[:10]
        else:
            vals = t.values(metric)
            value = float(len(set(vals[np.isfinite(vals)].tolist())))
        v = Verdict(name=name, kind="count", statement=statement, test="", n=len(t), unit=f"trials in {len(tasks)} tasks",
                    estimate_name=labels[agg], estimate=value, alpha=alpha, criteria=f"{value:g} >= {_f(at_least)}",
                    criteria_met=value >= at_least, details={**details, "clusters": len(tasks)})
        return _finish(v)
    vals = t.values(metric)
    ok = np.isfinite(vals)
    if not ok.any():
        return _skip_v("count", name, statement, alpha=alpha, reason=f"no {metric!r} values in this run")
    x = vals[ok]
    cl = np.asarray(t.column("task_id"), dtype=object)[ok]
    if agg in ("any", "sum"):
        value = float((x > 0).sum()) if agg == "any" else float(x.sum())
        v = Verdict(name=name, kind="count", statement=statement, n=int(x.size), unit=f"trials in {len(tasks)} tasks",
                    estimate_name=labels[agg], estimate=value, alpha=alpha, criteria=f"{value:g} >= {_f(at_least)}",
                    criteria_met=value >= at_least, details={**details, "clusters": len(tasks)})
        return _finish(v)
    codes, k = stats.cluster_codes(cl)
    task_means = np.bincount(codes, weights=x, minlength=k) / np.bincount(codes, minlength=k)
    res = stats.paired_t(task_means, alternative="greater", popmean=at_least)
    ci = stats.boot_mean_ci(x, cl, n_boot=n_boot, seed=seed)
    sd = float(np.std(task_means, ddof=1)) if k > 1 else math.nan
    mean = float(x.mean())
    power = stats.power_z(mean - at_least, sd / math.sqrt(k), alpha) if k > 1 and sd > 0 else None
    v = Verdict(name=name, kind="count", statement=statement,
                test=f"one-sided one-sample t on {k} per-task means", n=k, unit=f"tasks ({x.size} trials)",
                estimate_name=labels[agg], estimate=mean, ci=ci, ci_method="task-clustered bootstrap",
                p=res.p, alpha=alpha, power=power,
                details={**details, "clusters": k, "power_basis": "at the observed mean",
                         "power_spec": {"design": "z", "delta": mean - at_least, "se": sd / math.sqrt(k) if k > 1 else None, "n": k}})
    return _finish(v)


def skip(reason: str, name: str = "skipped claim", statement: str = "") -> Verdict:
    """A verdict that is neither passed nor failed, with the reason shown in the report."""
    if not reason:
        raise ValueError("skip() needs a reason")
    return Verdict(name=name, kind="skip", statement=statement or name, skip_reason=reason)


# --------------------------------------------------------------------------- the session


def finalize(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """Holm-adjust the p-values of all judged claims together and decide pass/fail.

    Skipped claims are left alone; descriptive claims (no p-value) keep their criteria
    decision but are not part of the family. Returns new verdicts in the same order.
    Idempotent: finalizing twice gives the same result.
    """
    out = list(verdicts)
    for i, v in enumerate(out):
        if not isinstance(v, Verdict):
            raise TypeError(f"finalize: item {i} is a {type(v).__name__}, not a Verdict (did the claim return it?)")
    idx = [i for i, v in enumerate(out) if not v.skip_reason and v.p is not None]
    adj = stats.holm([out[i].p for i in idx])  # type: ignore[misc]
    m = len(idx)
    for i, p_adj in zip(idx, adj):
        v = out[i]
        out[i] = dataclasses.replace(v, p_holm=p_adj, n_family=m, passed=_decide(v, p_adj))
    for i, v in enumerate(out):
        if i not in idx and not v.skip_reason:
            out[i] = dataclasses.replace(v, n_family=m, passed=_decide(v, None))
    return out


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Plan:
    """How many units a claim needs for a target power at its (Holm-adjusted) alpha.

    `unit` says what `n_needed` counts (pairs, trials per group, tasks); `trials_needed` is
    the number of trials that means (both arms), or None where it depends on the design
    (tasks x trials per task). `basis` says which effect it assumed.
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


def required_n(design: str, *, alpha: float, effect: float | None = None, power: float = 0.8,
               test: str = "wilcoxon", sd: float | None = None, margin: float | None = None,
               n_family: int = 1) -> int | None:
    """Units needed for `power` at `alpha / n_family`, before any data exist.

    design "paired" (effect = d_z; pairs), "two_sample" (effect = pooled d; trials per
    group), "tost" (sd of paired differences, margin, effect = true difference, default 0;
    pairs). None when the effect is zero or in the wrong direction.
    """
    a = alpha / max(n_family, 1)
    if design == "paired":
        return stats.n_paired_for_power(effect, a, power, test) if effect is not None else None
    if design == "two_sample":
        t = "mannwhitney" if test in ("wilcoxon", "mannwhitney") else "t"
        return stats.n_two_sample_for_power(effect, a, power, t) if effect is not None else None
    if design == "tost":
        if not (sd and margin and sd > 0 and margin > 0):
            raise ValueError("required_n('tost') needs sd > 0 and margin > 0")
        d0 = effect or 0.0
        if abs(d0) >= margin:
            return None
        return stats.n_for_power(lambda k: stats.power_tost(d0, sd, k, margin, a), power)
    raise ValueError(f"required_n: unknown design {design!r} (paired, two_sample, tost)")


def plan(verdict: Verdict, *, power: float = 0.8, effect: float | None = None, n_family: int | None = None) -> Plan:
    """Units (pairs / trials per group / tasks) a claim needs for `power`.

    Uses the effect the claim was judged at (declared `expected_d` if given, else the
    observed effect of a pilot) unless `effect` is given, and the claim's alpha divided by
    `n_family` (Bonferroni: the worst Holm step; defaults to the verdict's family size) so
    the plan holds after adjustment. Works on a skipped verdict (no data yet) when the claim
    declared its expected effect. n_needed is None when the effect is zero or in the wrong
    direction, or when nothing is known about it.
    """
    spec = dict(verdict.details.get("power_spec") or {})
    m = n_family if n_family is not None else max(verdict.n_family, 1)
    alpha = verdict.alpha / max(m, 1)
    design = spec.get("design", "none")
    n_now = 0 if verdict.skip_reason else int(spec.get("n") or verdict.n)
    basis = ("given effect" if effect is not None else "declared expected effect" if spec.get("declared")
             else "observed effect" if spec else "")
    note = f"no data: {verdict.skip_reason}" if verdict.skip_reason else ""
    need: int | None = None
    trials: int | None = None
    d: float | None = effect
    if design in ("paired", "two_sample"):
        d = effect if effect is not None else spec.get("d")
        need = required_n(design, alpha=alpha, effect=d, power=power, test=spec.get("test", "wilcoxon"))
        unit = "pairs" if design == "paired" else "trials per group"
        trials = 2 * need if need is not None else None
    elif design == "tost":
        sd, margin = spec.get("sd"), spec.get("margin")
        d = effect if effect is not None else 0.0
        if sd and math.isfinite(sd) and sd > 0:
            need = required_n("tost", alpha=alpha, effect=d, power=power, sd=sd, margin=margin)
        else:
            need, note = 2, (note + "; " if note else "") + "no variance observed"
        unit = "pairs"
        trials = 2 * need if need is not None else None
    elif design == "z":
        delta, se = spec.get("delta"), spec.get("se")
        d = delta
        if delta is not None and se and n_now > 0 and delta > 0:
            sd_unit = se * math.sqrt(n_now)  # se shrinks as 1/sqrt(clusters)
            need = stats.n_for_power(lambda k: stats.power_z(delta, sd_unit / math.sqrt(k), alpha), power)
        unit = "tasks"
    else:
        unit = verdict.unit or "n/a"
        if not note:
            note = "descriptive claim: no test, no power"
        elif not spec:
            note += "; declare expected_d (or run a pilot) to plan it"
    return Plan(verdict.name, design, unit, n_now, need, trials, d, alpha, power, basis, note)
