"""A claim over an instrument that did not pass the gate reads "not measured"; the metric ->
instrument table; judge failures counted per arm."""

from __future__ import annotations

import dataclasses

import pytest

from sorg.claims.verdict import Verdict
from sorg.scoring.gate import Check, GateResult
from sorg.scoring.outcome import (
    COUNTED,
    METRIC_INSTRUMENTS,
    gate_verdict,
    instrument_of,
    judge_losses,
    losses_note,
)

V = Verdict(name="c", kind="beats", statement="a beats b on quality.judge_q", n=16, estimate=0.1, ci=(0.0, 0.2),
            p=0.01, p_holm=0.02, passed=True, means={"a": 0.6, "b": 0.5},
            details={"metric": "quality.judge_q", "a": "sequential", "b": "coordinator", "by": "protocol",
                     "scope": {}})
FAILED = GateResult("judge_q", "failed", (Check("monotone", 0.02, "", False),), 6, reason="tau 0.02; follows key order")
PASSED = GateResult("judge_q", "passed", (Check("monotone", 0.9, "", True),), 6, reason="tau 0.90")


def test_metric_to_instrument_is_declared():
    assert instrument_of("quality.judge_q") == "judge_q" and instrument_of("quality.coverage") == "coverage"
    assert instrument_of("abstention_rate") == "emergence.abstention" and instrument_of("rsi") == "emergence.rsi"
    assert all(instrument_of(m) is None for m in COUNTED)
    assert set(METRIC_INSTRUMENTS.values()) == {"emergence.abstention", "emergence.roles", "emergence.rsi",
                                                "emergence.links"}


def test_a_failed_instrument_makes_the_claim_not_measured_without_figures():
    v = gate_verdict(V, {"judge_q": FAILED})
    assert v.outcome == "not_measured" and v.passed is None
    assert v.skip_reason == "not measured: judge_q failed validation (tau 0.02; follows key order)"
    assert v.p is None and v.estimate is None and v.ci is None and not v.means  # no figures as a finding
    assert v.details["unvalidated"]["p"] == 0.01  # kept aside for audit
    assert v.to_dict()["outcome"] == "not_measured"


def test_a_missing_instrument_never_ran_the_gate():
    v = gate_verdict(V, {})
    assert v.skip_reason == "not measured: judge_q was not run through the gate"


def test_a_passed_instrument_or_a_counted_metric_leaves_the_claim_alone():
    ok = gate_verdict(V, {"judge_q": PASSED})
    assert ok.passed is True and ok.p == V.p and ok.outcome == ""
    assert ok.details["validated"] == "judge_q passed validation (tau 0.90)"
    cost = dataclasses.replace(V, details={**V.details, "metric": "cost_usd"})
    assert gate_verdict(cost, {}) is cost


def test_an_error_is_left_as_set_and_undecidable_yields_to_not_measured():
    err = dataclasses.replace(V, outcome="error", passed=None, skip_reason="why")
    assert gate_verdict(err, {}) is err
    und = dataclasses.replace(V, outcome="undecidable", passed=None, skip_reason="cannot be decided: 3 tasks")
    v = gate_verdict(und, {"judge_q": FAILED})
    assert v.outcome == "not_measured" and v.details["undecidable"] == "cannot be decided: 3 tasks"
    assert gate_verdict(und, {"judge_q": PASSED}).outcome == "undecidable"


def _rec(protocol, judged):
    from sorg.tasks import load_bank
    from tests.pytest_plugin.fake_trials import fake_run_trial

    r = fake_run_trial(next(iter(load_bank())), protocol, "fake/m", 2, 0)
    return dataclasses.replace(r, quality={"judge_q": 0.5} if judged else {})


def test_judge_failures_per_arm_and_the_fisher_flag():
    recs = [_rec("sequential", i >= 8) for i in range(16)] + [_rec("coordinator", True) for _ in range(16)]
    v = judge_losses(V, recs)
    info = v.details["judge_failures"]
    assert info["arms"] == {"sequential": {"lost": 8, "trials": 16}, "coordinator": {"lost": 0, "trials": 16}}
    assert info["fisher_p"] < 0.05 and info["flagged"]
    assert losses_note(v).startswith("judge failures: sequential 8/16, coordinator 0/16") and "ARMS DIFFER" in losses_note(v)


def test_equal_losses_are_counted_not_flagged():
    recs = [_rec("sequential", i != 0) for i in range(16)] + [_rec("coordinator", i != 0) for i in range(16)]
    info = judge_losses(V, recs).details["judge_failures"]
    assert not info["flagged"] and info["fisher_p"] == 1.0
    assert losses_note(judge_losses(V, [_rec("sequential", True)] * 4)) == ""


@pytest.mark.parametrize("outcome,word", [("not_measured", "NOT MEASURED"), ("undecidable", "UNDECIDABLE"),
                                          ("error", "ERROR"), ("xfailed", "XFAILED"), ("", "-")])
def test_every_outcome_reads_the_same_in_every_renderer(outcome, word):
    from types import SimpleNamespace

    from sorg.pytest_plugin.verdicts import OUTCOME_PROP, pytest_report_teststatus
    from sorg.report.fmt import outcome_word
    from sorg.report.markdown import claims_table

    row = {"nodeid": "t.py::test_c", "outcome": outcome, "message": "m",
           "verdict": gate_verdict(V, {}).to_dict() if outcome == "not_measured" else None}
    assert outcome_word(row) == word
    if outcome in ("not_measured", "undecidable"):  # the terminal's word (an error stays FAILED)
        report = SimpleNamespace(when="call", user_properties=[(OUTCOME_PROP, outcome)])
        assert pytest_report_teststatus(report, None)[2] == word
    table = claims_table([row])
    assert word in table
    if outcome == "not_measured":
        assert "0.01" not in table  # no p-value shown for a claim that measured nothing
