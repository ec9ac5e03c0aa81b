"""The claims table says, claim by claim, whether the sweep reaches 80% power and what it needs."""

from __future__ import annotations

import numpy as np

from sorg import claims  # noqa: E402
from sorg.pytest_plugin.verdicts import power_plan  # noqa: E402
from sorg.report.markdown import claims_table, power_need  # noqa: E402
from sorg.results import Trials  # noqa: E402
from tests.fakes.sorg_synth import make_record


def _verdict(gain: float, g: int):
    rng = np.random.default_rng(0)
    recs = []
    for i in range(g):
        b = rng.uniform(0.4, 0.7)
        recs.append(make_record(task_id=f"t{i}", protocol="coordinator", quality={"judge_q": b}))
        recs.append(make_record(task_id=f"t{i}", protocol="sequential", quality={"judge_q": b + gain + rng.normal(0, 0.05)}))
    return claims.finalize([claims.beats(Trials(recs), "sequential", "coordinator")])[0]


def test_a_small_sweep_is_called_short_with_the_units_it_needs() -> None:
    plan = power_plan(_verdict(0.02, 6))
    assert plan["short"] is True and plan["n_needed"] > 6 and plan["unit"] == "tasks"
    assert power_need(plan) == f"short: needs {plan['n_needed']} tasks"


def test_a_large_effect_reaches_the_target() -> None:
    plan = power_plan(_verdict(0.3, 12))
    assert plan["short"] is False and power_need(plan).startswith("ok (")


def test_the_table_carries_the_column_and_a_skipped_claim_reads_dash() -> None:
    skipped = claims.skip("no data")
    rows = [{"nodeid": "evals/x.py::test_a", "outcome": "passed", "verdict": _verdict(0.3, 12).to_dict(),
             "power_plan": power_plan(_verdict(0.3, 12))},
            {"nodeid": "evals/x.py::test_b", "outcome": "skipped", "verdict": skipped.to_dict(),
             "power_plan": power_plan(skipped)}]
    table = claims_table(rows)
    assert "for 80% power" in table.splitlines()[0]
    assert table.splitlines()[-1].rstrip(" |").endswith("-")
