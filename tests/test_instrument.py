"""The report's instrument table: per-protocol quality, judge dimensions, answer sizes and the
length-quality rank correlation, computed from records alone."""

from __future__ import annotations

import pytest
from scipy import stats as sps

from sorg import instrument
from sorg.tasks import load_bank
from tests.pytest_plugin.fake_trials import fake_run_trial


@pytest.mark.parametrize("x,y", [([1, 2, 3, 4], [1, 3, 2, 4]), ([1, 1, 2, 5, 9], [3, 3, 1, 0, 2]),
                                 ([0.1, 0.5, 0.5, 0.9], [1, 2, 2, 3])])
def test_spearman_matches_scipy(x, y):
    assert instrument.spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)


def test_spearman_is_undefined_on_constants_and_tiny_samples():
    assert instrument.spearman([1, 2, 3], [5, 5, 5]) is None and instrument.spearman([1, 2], [1, 2]) is None


def test_rows_per_protocol_and_pooled_with_length_correlation():
    import dataclasses

    tasks = load_bank().select(per_level=1)
    recs = []
    for i, t in enumerate(tasks * 2):
        r = fake_run_trial(t, "sequential" if i % 2 else "coordinator", "fake/m", 4, i)
        recs.append(dataclasses.replace(r, answer_chars=100 * (i + 1), quality={"coverage": i / 10},
                                        judge={"accuracy": 2, "completeness": 3, "coherence": 1,
                                               "actionability": 4, "mission_relevance": 2, "self_judged": True}))
    rows = {r["protocol"]: r for r in instrument.rows(recs)}
    assert set(rows) == {"coordinator", "sequential", instrument.ALL}
    assert rows[instrument.ALL]["trials"] == 8 and rows[instrument.ALL]["rho_length_coverage"] == pytest.approx(1.0)
    assert rows["sequential"]["accuracy"] == 2 and rows["sequential"]["self_judged"] == 4
    assert "rho(length, coverage)" in instrument.table(list(rows.values()))
    assert instrument.dimension_counts(recs)["actionability"] == {"1": 0, "2": 0, "3": 0, "4": 8}
