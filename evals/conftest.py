"""Options of the study (not of sorg): which models in a run count as open, closed or weak.

Why options and not names in the claims: the paper's open-vs-closed and capability-threshold
claims are about the models a run actually has. The committed cassettes hold one open, weak
model (the embedded SmolLM2); a user who adds a closed model says so here, and the claims that
need one are judged instead of skipped.
"""

from __future__ import annotations

import pytest

import sweep

_OPTIONS = {
    "open": ("models with open weights (comma list)", sweep.MODEL),
    "closed": ("closed models to compare the open ones with (comma list)", ""),
    "weak": ("models below the capability threshold, where the paper predicts rigid roles win (comma list)",
             sweep.MODEL),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sorg-study", "the study's model roles (evals/)")
    for key, (help_text, default) in _OPTIONS.items():
        group.addoption(f"--study-{key}-models", default=None, help=f"{help_text}; default {default or 'none'}")
        parser.addini(f"study_{key}_models", help_text, default=default)


def pytest_configure(config: pytest.Config) -> None:
    from sorg import options

    resolved = options.resolve(config)
    sweep.RUN_MODELS[:] = resolved.models
    sweep.RUN_BANK[:] = [resolved.bank]
    if sweep.simulated_run():
        sweep.size_for_simulation()
    for key in _OPTIONS:
        raw = config.getoption(f"--study-{key}-models") or config.getini(f"study_{key}_models") or ""
        sweep.MODEL_ROLES[key] = [m.strip() for m in str(raw).split(",") if m.strip()]
        if sweep.simulated_run() and not config.getoption(f"--study-{key}-models"):
            sweep.MODEL_ROLES[key] = sweep.sim_roles(sweep.RUN_MODELS, key)
    both = set(sweep.MODEL_ROLES["open"]) & set(sweep.MODEL_ROLES["closed"])
    if both:
        raise pytest.UsageError(f"--study-open-models and --study-closed-models both name {sorted(both)}")

