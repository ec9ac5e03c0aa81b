"""The eight coordination protocols across tasks of all four levels (the study's main table).

Parametrized by the plugin from the `--sorg-*` options: every model x protocol x team size x
task x seed is one test; the trial record it returns is gathered for the claims in
`test_claims.py` and the report. Defaults (pyproject): team sizes 4 and 8, one task per
level from four domains, three seeds.
"""

from __future__ import annotations


def test_protocol(sorg_trial, task, protocol, n_agents, model, seed):
    record = sorg_trial(task, protocol, model, n_agents, seed)
    # A trial cut short by the budget is an incomplete cell (shown so in the report), not a
    # failure; any other error is a real failure of the protocol or the model door.
    assert record.status in ("ok", "budget"), record.error
    assert 0.0 <= record.quality["rubric"] <= 1.0
    assert record.calls >= 1
