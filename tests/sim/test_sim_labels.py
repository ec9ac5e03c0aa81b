"""A simulated run is labelled simulated wherever its results are shown."""

from __future__ import annotations

from sorg.report.fmt import simulated_notice


def test_the_notice_names_the_simulated_models_and_says_what_they_are_not():
    notice = simulated_notice(["local/smollm2-135m", "sim/paper/closed", "sim/paper/weak"])
    assert notice.startswith("SIMULATED: sim/paper/closed, sim/paper/weak are simulated worlds")
    assert "not results about any model" in notice
    assert simulated_notice(["local/smollm2-135m", "openai/gpt-4o"]) == ""


def test_the_summary_of_a_sim_run_leads_with_the_notice():
    from sorg.report.markdown import render_md

    s = {"run_id": "r", "run": {}, "trials": 1, "status": {"ok": 1}, "calls_by_source": {"live": 3},
         "models": ["sim/paper/closed"], "model_versions": [], "prompt_versions": [], "total_cost_usd": 0.0,
         "total_tokens": 0, "judge": {}, "claims": [], "cells": []}
    md = render_md(s)
    assert md.splitlines()[2].startswith("**SIMULATED: sim/paper/closed is a simulated world")
    assert "SIMULATED" not in render_md({**s, "models": ["local/smollm2-135m"]})
