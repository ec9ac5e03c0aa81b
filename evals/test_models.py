"""The same protocols across every configured model: the capability-threshold and
open-versus-closed questions.

With only the embedded model configured these cells coincide with `test_protocols.py`'s
(same trial ids, so nothing is run twice); run with `--sorg-models=a,b,...` and the claims in
`test_claims.py` compare the models.
"""

from __future__ import annotations

import pytest

MODEL_PROTOCOLS = ["sequential", "coordinator", "fixed_roles", "shared"]


@pytest.mark.sorg(protocols=MODEL_PROTOCOLS, agents=[4])
def test_model(sorg_trial, task, protocol, n_agents, model, seed):
    record = sorg_trial(task, protocol, model, n_agents, seed)
    assert record.status in ("ok", "budget"), record.error
    assert 0.0 <= record.quality["rubric"] <= 1.0
