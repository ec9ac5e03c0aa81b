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

__all__ = ["COUNTED", "METRIC_INSTRUMENTS", "OUTCOME_WORDS", "gate_verdict", "instrument_of"]

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
#: How each non-empty `Verdict.outcome` reads in the terminal and the reports.
OUTCOME_WORDS = {"not_measured": "NOT MEASURED", "undecidable": "UNDECIDABLE", "error": "ERROR"}


def instrument_of(metric: str) -> str | None:
    """The instrument `metric` comes from (a scorer name, or an ``emergence.*`` measure), or
    None for a metric the run counts itself."""
    if metric.startswith("quality."):
        return metric[len("quality."):]
    return METRIC_INSTRUMENTS.get(metric)


def gate_verdict(v: Verdict, results: Mapping[str, Any]) -> Verdict:
    """`v` unchanged when its metric's instrument passed the gate (or needs none); otherwise
    the same claim as "not measured", naming the instrument and why, its figures kept aside in
    ``details["unvalidated"]`` (never shown as a finding). `results` maps an instrument to an
    object with `passed` and `sentence()` (a `GateResult`); a missing one never ran the gate.
    A claim already skipped or with another outcome is left alone."""
    if v.outcome or v.passed is None and v.skip_reason:
        return v
    metric = str(v.details.get("metric") or "")
    inst = instrument_of(metric) if metric else None
    if inst is None:
        return v
    res = results.get(inst)
    if res is not None and res.passed:
        return v
    why = res.sentence() if res is not None else f"{inst} was not run through the gate"
    kept = {k: getattr(v, k) for k in ("estimate", "ci", "p", "p_holm", "effect", "effect_ci", "power",
                                       "passed", "means")}
    return dataclasses.replace(
        v, passed=None, outcome="not_measured", skip_reason=f"not measured: {why}",
        estimate=None, ci=None, p=None, p_holm=None, effect=None, effect_ci=None, power=None, means={},
        details={**v.details, "instrument": inst, "unvalidated": kept})
