"""The terminal's claims table fits the terminal: columns that do not fit move to each claim's
wrapped detail line, and every outcome reads as one word, whatever outcome a verdict gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sorg.report import terminal_claims, unjudged_lines
from sorg.report.fmt import outcome_word


def _row(name: str, result: str = "passed", **v) -> dict:
    verdict = {"kind": "beats", "test": "exact Wilcoxon signed-rank (one-sided, H0: A - 1.14 x B <= 0)", "n": 16,
               "estimate": -0.0096, "ci": [-0.035, 0.017], "effect": -0.19, "effect_name": "d_z", "p": 1.0,
               "p_holm": 1.0, "power": 0.0, "passed": result == "passed", "details": {"clusters": 16}, **v}
    return {"nodeid": f"evals/test_claims.py::{name}", "outcome": result, "message": "m", "verdict": verdict,
            "power_plan": {"n_needed": 510, "unit": "tasks", "short": True}}


ROWS = [_row("test_sequential_beats_coordinator", "xfailed"), _row("test_coverage_sequential_vs_coordinator"),
        _row("test_gate", "skipped", passed=None, outcome="not_measured", kind="skip", test="",
             skip_reason="not measured: judge_q failed validation (tau 0.02; follows key order) " * 3)]


@given(st.integers(min_value=60, max_value=300))
def test_no_line_is_wider_than_the_terminal(width):
    text = terminal_claims(ROWS, width)
    assert all(len(line) <= width for line in text.splitlines()), text
    assert all(len(line) <= width for line in unjudged_lines(ROWS, width))
    # Every claim keeps its row, and nothing the wide table shows is lost: what does not fit
    # is on the detail lines.
    flat = " ".join(text.split())
    for r in ROWS:
        assert r["nodeid"].rsplit("::", 1)[-1] in text
    assert "exact Wilcoxon signed-rank" in flat and "d_z=-0.19" in flat and "needs 510 tasks" in flat


def test_at_100_columns_the_main_columns_stay_in_the_table():
    head = terminal_claims(ROWS, 100).splitlines()[0].split()
    assert head[:2] == ["claim", "outcome"] and "estimate" in head and "Holm" in head


def test_one_word_per_outcome_and_the_verdicts_own_outcome_wins():
    assert outcome_word({"outcome": "xfailed"}) == "XFAILED"
    assert outcome_word({"outcome": "skipped", "verdict": {"outcome": "not_measured"}}) == "NOT MEASURED"
    assert outcome_word({"outcome": "skipped", "verdict": {"outcome": "undecidable"}}) == "UNDECIDABLE"
    assert outcome_word({"outcome": "failed", "verdict": {"outcome": "error"}}) == "ERROR"
    lines = unjudged_lines(ROWS, 100)
    assert lines[0].startswith("NOT MEASURED evals/test_claims.py::test_gate: judge_q failed validation")
    assert " ".join(lines).count("SKIPPED") == 0 and terminal_claims(ROWS, 100).count("NOT MEASURED") == 1


def test_claims_stopped_by_the_gate_are_named_one_by_one_and_skips_grouped():
    gate = [_row(f"test_g{i}", "skipped", passed=None, outcome="not_measured", kind="skip", test="",
                 skip_reason="not measured: judge_q failed validation") for i in range(2)]
    skips = [_row(f"test_s{i}", "skipped", passed=None, kind="skip", test="", skip_reason="needs an open model")
             for i in range(2)]
    lines = unjudged_lines(gate + skips, 100)
    assert lines == ["NOT MEASURED evals/test_claims.py::test_g0: judge_q failed validation",
                     "NOT MEASURED evals/test_claims.py::test_g1: judge_q failed validation",
                     "SKIPPED 2 claims: needs an open model",
                     "  evals/test_claims.py::test_s0", "  evals/test_claims.py::test_s1"]


def test_a_skip_reason_is_said_once():
    row = _row("test_s", "skipped", passed=None, kind="skip", test="", skip_reason="needs an open model")
    row["message"] = "SKIPPED skipped claim: needs an open model"
    (line,) = unjudged_lines([row], 100)
    assert line == "SKIPPED evals/test_claims.py::test_s: needs an open model"
