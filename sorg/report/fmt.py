"""Number formatting shared by the markdown, HTML and diff renderers.

Why one place: an interval that cannot be estimated (one task, one cluster, a zero-width
bootstrap) must read the same everywhere, as "no CI (1 task)", never as a precise-looking
"[1.251, 1.251]"; and every renderer must round the same numbers the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any


def fmt(x: Any, digits: int = 3) -> str:
    """A number for a table: fixed digits, scientific below the last digit, '-' for none."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        if x != 0 and abs(x) < 10 ** -digits:
            return f"{x:.1e}"
        return f"{x:.{digits}f}"
    return str(x)


def fmt_p(x: Any) -> str:
    """A p-value: 4 decimals, scientific below 0.001, '<1e-300' for an underflow."""
    if x is None:
        return "-"
    return "<1e-300" if x == 0 else (f"{x:.2e}" if x < 0.001 else f"{x:.4f}")


def no_ci(clusters: int | None) -> str:
    """The text for an interval that cannot be estimated from `clusters` tasks."""
    if clusters is None:
        return "no CI"
    return f"no CI ({clusters} task{'s' if clusters != 1 else ''})"


def ci_usable(ci: Sequence[Any] | None, clusters: int | None = None) -> bool:
    """Whether `ci` is a real interval: two finite bounds, not equal, from >= 2 clusters."""
    if not ci or len(ci) != 2 or any(c is None for c in ci):
        return False
    lo, hi = float(ci[0]), float(ci[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    if clusters is not None and clusters < 2:
        return False
    return hi > lo


def est_ci(est: Any, ci: Sequence[Any] | None, clusters: int | None = None, digits: int = 3) -> str:
    """'0.300 [0.200, 0.400]', or '1.251, no CI (1 task)' where the interval is degenerate."""
    if est is None:
        return "-"
    s = fmt(est, digits)
    if ci_usable(ci, clusters):
        assert ci is not None
        return f"{s} [{fmt(ci[0], digits)}, {fmt(ci[1], digits)}]"
    if ci is not None or (clusters is not None and clusters < 2):
        return f"{s}, {no_ci(clusters)}"
    return s


def fmt_power(x: Any) -> str:
    """Power as a probability with two decimals ('0.00', never '6.0e-07')."""
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(x):
        return "-"
    return f"{x:.2f}"


def outcome_word(row: Mapping[str, Any]) -> str:
    """The one word a claim row reads as, in every renderer (terminal, summary.md, HTML).

    A verdict's own `outcome` ("not_measured", "undecidable", "error", or any later one)
    wins over the test outcome pytest reported (passed, failed, skipped, xfailed, xpassed),
    so a claim that was never measured never reads as merely "SKIPPED"."""
    v = row.get("verdict") or {}
    word = str(v.get("outcome") or row.get("outcome") or "")
    return word.replace("_", " ").upper() or "-"


def outcome_class(row: Mapping[str, Any]) -> str:
    """The outcome as a CSS class / data value ('not-measured', 'passed', ...)."""
    return outcome_word(row).lower().replace(" ", "-")


def verdict_clusters(v: Mapping[str, Any]) -> int | None:
    """How many tasks (clusters) a verdict's interval resampled, when it says."""
    k = (v.get("details") or {}).get("clusters")
    return int(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else None


_NUM = r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
_DEGENERATE = re.compile(rf"(?:\d+% CI )?({_NUM})\.\.({_NUM})")


def honest_message(message: str, clusters: int | None) -> str:
    """A verdict sentence with each zero-width interval 'x..x' (and its '95% CI ' label)
    replaced by 'no CI (k tasks)'. The sentence is written by `sorg.claims`; this keeps its
    wording and only stops a degenerate interval from reading as a precise one."""

    def sub(m: re.Match[str]) -> str:
        if float(m.group(1)) != float(m.group(2)):
            return m.group(0)
        return no_ci(clusters)

    out = _DEGENERATE.sub(sub, message or "")
    if out == message:
        return out
    # One "no CI" where a 95% and a 90% interval both collapsed, and no bootstrap named
    # for an interval that was not computed.
    out = re.sub(r"(no CI(?: \([^)]*\))?)(?:, no CI(?: \([^)]*\))?)+", r"\1", out)
    out = re.sub(r"(no CI(?: \([^)]*\))?), [^,;()]*bootstrap over \d+ tasks?", r"\1", out)
    return re.sub(r"\[(no CI(?: \([^)]*\))?)\]", r"(\1)", out)


def simulated_notice(models: Sequence[str]) -> str:
    """The line every renderer puts first when a run's models include simulated worlds
    (`sim/...`): their trials check sorg against a declared truth and are never a result about
    a model. "" when no model is simulated."""
    sims = [m for m in models if str(m).split("/", 1)[0] == "sim"]
    if not sims:
        return ""
    return (f"SIMULATED: {', '.join(sims)} {'is a' if len(sims) == 1 else 'are'} simulated world"
            f"{'' if len(sims) == 1 else 's'} (sorg.sim, docs/SIM.md): these trials check sorg against planted "
            "truths; they are not results about any model")
