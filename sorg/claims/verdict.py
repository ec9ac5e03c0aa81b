"""The verdict a claim returns, and the sentences it reads as.

(The package docstring, `sorg.claims`, says how claims are judged.)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

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
    ratio, a count) named by `estimate_name`, with its `ci` (95%, `ci_method`, from the same
    analysis as `p`; None where the data give none, e.g. one task or no spread). `n` counts
    the units the test ran on (tasks by default; `unit` says what, with pairs and dropped
    trials). `p` is the raw p-value of `test`; `p_holm` is set by `finalize` across the
    `n_family` claims sharing this alpha. `passed` is True / False, or None for a skipped
    claim (`skip_reason` says why).
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
    outcome: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> float | None:
        """Alias of `estimate` (for `beats` and `equivalent` it is a difference of means)."""
        return self.estimate

    @property
    def skipped(self) -> bool:
        return self.passed is None

    def named(self, name: str) -> Verdict:
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
        if self.outcome == "error":  # cannot be judged at all: the plugin fails the claim
            return f"ERROR {self.statement or self.name}: {self.skip_reason}"
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
    if ci is None or any(c is None or (isinstance(c, float) and math.isnan(c)) for c in ci):
        return "n/a"
    return f"{_f(ci[0], signed)}..{_f(ci[1], signed)}"


def _units_word(v: Verdict) -> str:
    k = v.details.get("clusters")
    word = v.details.get("unit_word", "task")
    return f"{k} {word}{'s' if k != 1 else ''}" if k is not None else "these units"


def _ci95(v: Verdict, signed: bool = False) -> str:
    """'95% CI a..b (method over k tasks)' or 'no CI (1 task)' when the data give none."""
    if v.ci is None or not all(c is not None and math.isfinite(c) for c in v.ci):
        return f"no CI ({_units_word(v)})"
    return f"95% CI {_ci(v.ci, signed)}, {_clus(v)}"


def _decision(v: Verdict) -> str:
    """The p part and the verdict, e.g. 'p=0.0004 (Holm-adjusted 0.0021 across 7 claims)
    < alpha 0.001? no -> FAILED'."""
    parts = []
    if v.p is not None:
        if v.p_holm is not None:
            adj = (f"Holm-adjusted {_fp(v.p_holm)} across {v.n_family} claim{'s' if v.n_family != 1 else ''}"
                   f" at alpha {_fp(v.alpha)}")
            used = v.p_holm
        else:
            adj = "not yet Holm-adjusted"
            used = v.p
        parts.append(f"p{_eq(v.p)} ({adj}) < alpha {_fp(v.alpha)}? {'yes' if used < v.alpha else 'no'}")
    if v.criteria:
        parts.append(f"{v.criteria}? {'yes' if v.criteria_met else 'no'}")
    verdict = "PASSED" if v.passed else "FAILED"
    rep = replication_sentence(v)
    return "; ".join(parts) + f" -> {verdict}" + (f"; {rep}" if rep else "")


def replication_sentence(v: Verdict) -> str:
    """The second statement of a claim stated with the paper's figure: significance (the
    claim's own test at its alpha, after Holm) and whether the 95% interval holds the figure."""
    d = v.details
    if "paper_label" not in d or v.p is None:
        return ""
    used = v.p_holm if v.p_holm is not None else v.p
    lab, comp, ci = d["paper_label"], d.get("compatible"), d.get("compatible_ci")
    where = f"95% CI {_ci(ci, str(lab).startswith(('+', '-')))}" if ci is not None else "no interval"
    if used < v.alpha:
        if comp is True:
            return f"replicated: significant, compatible with {lab}"
        if comp is False:
            return f"significant, not compatible with {lab} ({where})"
        return f"significant; compatibility with {lab} not judged ({where})"
    if comp is None:
        return "not significant"
    return f"not significant ({where} {'contains' if comp else 'excludes'} {lab})"


def _tail(v: Verdict) -> str:
    bits = []
    if v.effect is not None and v.effect_name:
        bits.append(f"{v.effect_name}={_f(v.effect)}" + (f" [{_ci(v.effect_ci)}]" if v.effect_ci else ""))
    if v.power is not None and not math.isnan(v.power):
        basis = v.details.get("power_basis", "")
        bits.append(f"post-hoc power {v.power:.2f}" + (f" ({basis})" if basis else ""))
    if v.details.get("note"):
        bits.append(str(v.details["note"]))
    inc = v.details.get("incomplete", 0)
    if inc:
        bits.append(f"{inc} incomplete trial{'s' if inc != 1 else ''} (error/budget) excluded")
    return ("; " + ", ".join(bits)) if bits else ""


def _clus(v: Verdict) -> str:
    return f"{v.ci_method} over {_units_word(v)}" if v.details.get("clusters") else v.ci_method


def _msg_beats(v: Verdict) -> str:
    a, b = v.details["a"], v.details["b"]
    ma, mb = v.means.get(a), v.means.get(b)
    if v.details.get("min_rel_effect"):
        return (f"{v.statement}: mean {_f(ma)} vs {_f(mb)} over the tested pairs (relative gain "
                f"{_f(v.estimate, True)}, {_ci95(v, True)}), {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}")
    return (
        f"{v.statement}: mean {_f(ma)} vs {_f(mb)} over the tested pairs ({_f(v.estimate, True)}, {_ci95(v, True)}), "
        f"{v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_spread(v: Verdict) -> str:
    d = v.details
    means = ", ".join(f"{k} {_f(m)}" for k, m in sorted(v.means.items(), key=lambda kv: -kv[1]))
    rel = _f(100 * d["rel_gap"], True) + "% of the worst" if d.get("rel_gap") is not None else "relative gap n/a"
    return (
        f"{v.statement}: means {means}; {d['gap_kind']} {d['best']} - {d['worst']} = {_f(v.estimate, True)} "
        f"({rel}), {d['ci_label']} {_ci(v.ci, True) if v.ci else 'n/a'} ({_clus(v)}); "
        f"{v.test} across {d['n_groups']} groups on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_equivalent(v: Verdict) -> str:
    d = v.details
    lvl = f"{100 * (1 - 2 * v.alpha):.0f}% CI {_ci(d['ci_tost'], True)}, " if d.get("ci_tost") else ""
    return (
        f"{v.statement}: mean {_f(v.means.get(d['low_label']))} at {d['factor']}={d['low']} vs "
        f"{_f(v.means.get(d['high_label']))} at {d['factor']}={d['high']} over the tested pairs (difference "
        f"{_f(v.estimate, True)}, {_ci95(v, True)}, {lvl}margin +-{_f(d['margin'])}), {v.test} on {v.n} {v.unit}, "
        f"{_decision(v)}{_tail(v)}"
    )


def _msg_growth(v: Verdict) -> str:
    d = v.details
    g = d.get("growth")
    grow = f"; mean {d['metric']} {_f(g, True)}% from {d['factor']}={d['lo']} to {d['hi']}" if g is not None else ""
    return (
        f"{v.statement}: slope of log {d['metric']} on log {d['factor']} = {_f(v.estimate)} "
        f"({_ci95(v)}){grow}; {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_ratio(v: Verdict) -> str:
    d = v.details
    return (
        f"{v.statement}: mean {d['metric']} {_f(v.means.get(d['num_label']))} vs {_f(v.means.get(d['den_label']))} "
        f"over matched cells, ratio {_f(v.estimate)} ({_ci95(v)}); {v.test} on {v.n} {v.unit}, {_decision(v)}{_tail(v)}"
    )


def _msg_count(v: Verdict) -> str:
    d = v.details
    ci = f" ({_ci95(v)})" if d.get("agg") == "mean" else ""
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


