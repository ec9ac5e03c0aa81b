"""Closed sets of values are Literal aliases defined once (issue 15): the trial statuses a
record may carry, the kinds of turn, the record modes; a stored record outside them is refused."""

from __future__ import annotations

from types import SimpleNamespace
from typing import get_args

import pytest

from sorg import options
from sorg.model.types import RecordMode
from sorg.record import TRIAL_STATUSES, TrialRecord, TrialStatus
from tests.pytest_plugin.fake_trials import fake_run_trial


def _record_dict() -> dict:
    task = SimpleNamespace(id="t1", level=1, domain="d")
    return fake_run_trial(task, "sequential", "fake/m", 4, 0).to_dict()


def test_the_sets_are_defined_once() -> None:
    assert TRIAL_STATUSES == get_args(TrialStatus)
    assert options.RECORD_MODES == get_args(RecordMode)


@pytest.mark.parametrize("status", TRIAL_STATUSES)
def test_every_status_round_trips(status: str) -> None:
    d = {**_record_dict(), "status": status}
    assert TrialRecord.from_dict(d).status == status


def test_a_status_outside_the_set_is_refused() -> None:
    d = {**_record_dict(), "status": "okay"}
    with pytest.raises(TypeError, match=r"status 'okay' is not one of ok, error, budget"):
        TrialRecord.from_dict(d)
