"""Which instrument each metric comes from, and the "not measured" verdict of a claim over one
that did not pass the gate.

Why declared here, in one table: a claim names a metric (``quality.judge_q``,
``abstention_rate``), not an instrument; to say "not measured" the plugin must know which
scorer or emergence measure produced that metric, and a guess from the name would silently
let a new metric through. ``quality.<name>`` comes from the scorer ``<name>``; the emergence
metrics come from the measures `sorg.emergence_checks` validates; every other metric (cost,
tokens, answer length, calls) is a count the run makes itself, with nothing to validate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sorg.claims.verdict import Verdict

__all__ = ["COUNTED", "METRIC_INSTRUMENTS", "gate_verdict", "instrument_of"]

#: Emergence metrics -> the emergence measure whose validity checks they depend on.
METRIC_INSTRUMENTS: dict[str, str] = {
    "abstention_rate": "emergence.abstention",
    "unique_roles": "emergence.roles",
    "role_entropy": "emergence.roles",
    "roles": "emergence.roles",
    "rsi": "emergence.rsi",
    "hierarchy_depth": "emergence.links",
}
#: Metrics the run counts itself (no instrument to validate).
COUNTED = ("cost_usd", "prompt_tokens", "completion_tokens", "calls", "latency_s", "max_prompt_tokens",
           "tokens_per_agent", "answer_chars", "work_chars", "parse_failure_rate", "tokens")


def instrument_of(metric: str) -> str | None:
    """The instrument `metric` comes from (a scorer name, or an ``emergence.*`` measure), or
    None for a metric the run counts itself."""
    if metric.startswith("quality."):
        return metric[len("quality."):]
    return METRIC_INSTRUMENTS.get(metric)


def gate_verdict(v: Verdict, results: Mapping[str, Any]) -> Verdict:
    """`v` when its metric needs no instrument; naming the instrument and its checks
    (``details["validated"]``) when it passed the gate; otherwise
    the same claim as "not measured", naming the instrument and why, its figures kept aside in
    ``details["unvalidated"]`` (never shown as a finding). `results` maps an instrument to an
    object with `passed` and `sentence()` (a `GateResult`); a missing one never ran the gate.
    A claim that errored or skipped is left alone; an "undecidable" one over an instrument that
    did not pass reads "not measured" (the instrument comes first: a design that could decide
    it would still decide nothing), its reason kept in ``details["undecidable"]``."""
    if v.outcome == "error" or (not v.outcome and v.passed is None and v.skip_reason) or \
            v.outcome not in ("", "undecidable"):
        return v
    metric = str(v.details.get("metric") or "")
    inst = instrument_of(metric) if metric else None
    if inst is None:
        return v
    res = results.get(inst)
    if res is not None and res.passed:  # the claim names the instrument and the checks it passed
        return dataclasses.replace(v, details={**v.details, "instrument": inst, "validated": res.sentence()})
    why = res.sentence() if res is not None else f"{inst} was not run through the gate"
    kept = {k: getattr(v, k) for k in ("estimate", "ci", "p", "p_holm", "effect", "effect_ci", "power",
                                       "passed", "means")}
    extra = {"undecidable": v.skip_reason} if v.outcome == "undecidable" else {}
    return dataclasses.replace(
        v, passed=None, outcome="not_measured", skip_reason=f"not measured: {why}",
        estimate=None, ci=None, p=None, p_holm=None, effect=None, effect_ci=None, power=None, means={},
        details={**v.details, "instrument": inst, "unvalidated": kept, **extra})


#: The declared test for "the arms lost trials to judge failures at different rates".
LOSS_ALPHA = 0.05


def _arms(d: Mapping[str, Any]) -> tuple[str, dict[str, list[Any]]] | None:
    """The claim's arms as (field, {label: values}) from its details, or None."""
    if d.get("by") and d.get("a") is not None and d.get("b") is not None:
        return d["by"], {str(d["a"]): str(d["a"]).split("+"), str(d["b"]): str(d["b"]).split("+")}
    if d.get("factor") and d.get("low") is not None and d.get("high") is not None:
        return d["factor"], {str(d["low"]): [d["low"]], str(d["high"]): [d["high"]]}
    if d.get("by") and d.get("num_label") is not None:
        return d["by"], {str(d["num_label"]): [d["num_label"]], str(d["den_label"]): [d["den_label"]]}
    return None


def _matches(value: Any, want: Any) -> bool:
    if isinstance(want, (list, tuple)):
        return any(_matches(value, w) for w in want)
    return value == want or str(value) == str(want)


def judge_losses(v: Verdict, records: Any) -> Verdict:
    """`v` with ``details["judge_failures"]``: per arm, the run's ok trials in the claim's scope
    whose judge failed (no ``quality.<judge>``), and Fisher's exact p (two arms; with more,
    the arms with the highest and lowest loss rates) flagged below LOSS_ALPHA. Basis: the
    verdict records its arms and scope, not a claim's own pre-filtering of the trials, so the
    counts are over the run's trials in those arms and scope (said in ``basis``)."""
    from sorg.scoring.base import SCORERS

    d = v.details
    metric = str(d.get("metric") or "")
    name = instrument_of(metric) if metric.startswith("quality.") else None
    if name is None or name not in SCORERS or not SCORERS[name].needs_model or v.passed is None and v.skip_reason:
        return v
    arms = _arms(d)
    if arms is None:
        return v
    field, labels = arms
    scope = {k: w for k, w in (d.get("scope") or {}).items() if k != field}
    counts: dict[str, list[int]] = {lab: [0, 0] for lab in labels}
    for r in records:
        if r.status != "ok" or not all(_matches(getattr(r, k, None), w) for k, w in scope.items()):
            continue
        for lab, values in labels.items():
            if _matches(getattr(r, field, None), values):
                counts[lab][0] += name not in r.quality
                counts[lab][1] += 1
    if not any(n for _, n in counts.values()):
        return v
    rates = {lab: (lost / n if n else 0.0) for lab, (lost, n) in counts.items()}
    hi, lo = max(rates, key=lambda k: (rates[k], k)), min(rates, key=lambda k: (rates[k], k))
    p = 1.0
    if hi != lo and rates[hi] > rates[lo]:
        from scipy.stats import fisher_exact

        (lh, nh), (ll, nl) = counts[hi], counts[lo]
        p = float(fisher_exact([[lh, nh - lh], [ll, nl - ll]])[1])
    info = {"arms": {lab: {"lost": c[0], "trials": c[1]} for lab, c in counts.items()},
            "fisher_p": p, "flagged": p < LOSS_ALPHA, "test": f"Fisher's exact (two-sided) at {LOSS_ALPHA}",
            "basis": f"the run's ok trials in the claim's scope, by {field}"}
    return dataclasses.replace(v, details={**d, "judge_failures": info})


def losses_note(v: Verdict) -> str:
    """"judge failures: sequential 4/16, coordinator 1/16 (Fisher p=0.33)", with "ARMS DIFFER" when
    flagged; "" when the claim lost no trial to its judge."""
    info = v.details.get("judge_failures") or {}
    arms = info.get("arms") or {}
    if not any(a["lost"] for a in arms.values()):
        return ""
    parts = ", ".join(f"{lab} {a['lost']}/{a['trials']}" for lab, a in arms.items())
    flag = " - ARMS DIFFER: the comparison may be biased" if info.get("flagged") else ""
    return f"judge failures: {parts} (Fisher p={info['fisher_p']:.3g}){flag}"
