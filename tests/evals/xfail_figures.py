"""The figures an xfail reason quotes, checked against the verdict the replay computes.

Why: a claim that does not hold on our model is `xfail(strict=True)` with the measured figures
in its reason. strict=True guards the outcome, not the figures: when the sweep grew, or the Holm
family did, a reason kept quoting the old p, Holm p and power beside a verdict that said
otherwise. Each figure a reason labels the way the verdict does is compared here, at the
precision the reason shows it.
"""

from __future__ import annotations

import re
from typing import Any

# label in the reason -> how the verdict (or its power plan) holds the same figure
_NUMBER = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"
_FIGURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("p", re.compile(r"(?<![\w.])p=" + _NUMBER)),
    ("p_holm", re.compile(r"\bHolm " + _NUMBER)),
    ("power", re.compile(r"\bpower " + _NUMBER)),
    ("d_z", re.compile(r"\bd_z " + _NUMBER)),
    ("n_needed", re.compile(r"\b(\d+) (?:tasks|protocols)[^;)]*?would give 80%")),
)


def _shown(text: str) -> int:
    """Decimals a figure is shown with (an exponent form is compared to 2 significant digits)."""
    if "e" in text:
        return -1
    return len(text.split(".")[1]) if "." in text else 0


def _same(text: str, value: float) -> bool:
    decimals = _shown(text)
    if decimals < 0:
        return f"{value:.1e}" == f"{float(text):.1e}"
    return round(value, decimals) == round(float(text), decimals)


def stale_figures(reason: str, verdict: dict[str, Any], power_plan: dict[str, Any] | None) -> list[str]:
    """Each labelled figure of `reason` that the verdict does not bear out, described."""
    actual: dict[str, float | None] = {
        "p": verdict.get("p"), "p_holm": verdict.get("p_holm"), "power": verdict.get("power"),
        "d_z": verdict.get("effect") if verdict.get("effect_name") == "d_z" else None,
        "n_needed": (power_plan or {}).get("n_needed"),
    }
    stale = []
    for name, pattern in _FIGURES:
        for found in pattern.findall(reason):
            value = actual[name]
            if value is None:
                stale.append(f"{name} {found}: the verdict has no {name}")
            elif not _same(found, float(value)):
                stale.append(f"{name} {found}: the verdict says {value:.4g}")
    return stale
