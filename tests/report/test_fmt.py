"""Intervals that cannot be estimated read as such, in every renderer."""

from __future__ import annotations

import math

from sorg.report.fmt import ci_usable, est_ci, fmt_power, honest_message, no_ci


def test_est_ci_prints_a_real_interval():
    assert est_ci(0.3, [0.2, 0.4], 4) == "0.300 [0.200, 0.400]"


def test_est_ci_never_prints_a_zero_width_or_one_task_interval():
    assert est_ci(1.251, [1.251, 1.251], 1) == "1.251, no CI (1 task)"
    assert est_ci(0.5, [0.4, 0.6], 1) == "0.500, no CI (1 task)"  # one cluster: not an interval
    assert est_ci(0.0, [0.0, 0.0], 4) == "0.000, no CI (4 tasks)"
    assert est_ci(0.5, None, 1) == "0.500, no CI (1 task)"
    assert est_ci(0.5, None, None) == "0.500"
    assert est_ci(None, [0.1, 0.2], 3) == "-"


def test_ci_usable():
    assert ci_usable([0.1, 0.2]) and ci_usable([0.1, 0.2], 2)
    assert not ci_usable([0.1, 0.2], 1)
    assert not ci_usable([0.2, 0.2], 5)
    assert not ci_usable([None, 0.2]) and not ci_usable(None) and not ci_usable([math.nan, 1.0])


def test_honest_message_replaces_degenerate_intervals_only():
    msg = ("mean 0.244 at n_agents=4 vs 1 at n_agents=256 (difference +0.667, 95% CI +0.667..+0.667, "
           "90% CI +0.667..+0.667, task-clustered bootstrap over 1 tasks; margin +-0.1), p=0.96; "
           "d_z=2.309 [2.309..2.309], power 0.00")
    out = honest_message(msg, 1)
    assert out == ("mean 0.244 at n_agents=4 vs 1 at n_agents=256 (difference +0.667, no CI (1 task); "
                   "margin +-0.1), p=0.96; d_z=2.309 (no CI (1 task)), power 0.00")
    real = "(-0.151, 95% CI -0.286..-0.04, task-clustered bootstrap over 4 tasks)"
    assert honest_message(real, 4) == real
    assert honest_message("", None) == ""


def test_no_ci_and_power_text():
    assert no_ci(1) == "no CI (1 task)" and no_ci(3) == "no CI (3 tasks)" and no_ci(None) == "no CI"
    assert fmt_power(6e-07) == "0.00" and fmt_power(None) == "-" and fmt_power(0.594) == "0.59"
