"""A claim's per-unit evidence is recomputed from the trial records and the verdict's details,
and reproduces the verdict (its unit count and estimate) when the claim saw the same trials;
where it did not, `agrees` is False and the page says so."""

from __future__ import annotations

from sorg import claims
from sorg.report.evidence import per_unit
from sorg.results import Trials

from .synth import records


def _trials() -> Trials:
    return Trials(records(protocols=("sequential", "coordinator", "shared"), tasks=5, seeds=2))


def test_beats_units_reproduce_the_verdict():
    t = _trials()
    v = claims.beats(t, "sequential", "coordinator", metric="quality.rubric", test="t").to_dict()
    ev = per_unit(v, t)
    assert ev is not None and ev["agrees"] and ev["mode"] == "difference"
    assert [u["unit"] for u in ev["units"]] == sorted(t.distinct("task_id"))
    assert all(u["filter"]["protocol"] == ["sequential", "coordinator"] for u in ev["units"])
    mean = sum(u["value"] for u in ev["units"]) / len(ev["units"])
    assert abs(mean - v["estimate"]) < 1e-9


def test_units_from_other_trials_than_the_claims_do_not_agree():
    t = _trials()
    v = claims.beats(t.where(task_id=["t1", "t2", "t3"]), "sequential", "coordinator", metric="quality.rubric",
                     test="t").to_dict()
    ev = per_unit(v, t)  # the claim's test function chose three tasks; the verdict does not say so
    assert ev is not None and not ev["agrees"] and len(ev["units"]) == 5


def test_a_skipped_claim_or_an_unknown_kind_has_no_units():
    t = _trials()
    assert per_unit(claims.skip("no data").to_dict(), t) is None
    assert per_unit({"kind": "mystery", "estimate": 1.0, "passed": True, "details": {"metric": "x"}}, t) is None
