"""A bad setting's message says, in the user's words, what was wrong, what the setting allows,
and the nearest allowed word, instead of Python's own ("invalid literal for int() ...")."""

from __future__ import annotations

import pytest

from sorg import options
from sorg.errors import SettingError


def _error(name: str, raw: str) -> str:
    spec = options._BY_NAME[name]
    with pytest.raises(SettingError) as info:
        options._value(spec, None, {spec.env: raw}, cli=False)
    return str(info.value)


def test_a_word_for_a_number_says_what_is_allowed():
    msg = _error("agents", "4,four")
    assert "invalid literal" not in msg
    assert msg.endswith("'four' is not a whole number; allowed: comma-separated whole numbers from 1 to 1024, e.g. 4,8")
    assert "not a number; allowed: a number above 0" in _error("timeout_s", "soon")


def test_a_near_miss_of_a_closed_set_suggests_the_nearest_word():
    assert "(did you mean 'new'?)" in _error("record", "nwe")
    assert "(did you mean 'none'?)" in _error("budget_usd", "nonee")
    assert "did you mean" not in _error("record", "zzzz")


def test_did_you_mean():
    assert options.did_you_mean("sequentail", ["coordinator", "sequential"]) == " (did you mean 'sequential'?)"
    assert options.did_you_mean("xyz", ["coordinator", "sequential"]) == ""


def test_a_bad_mark_value_reads_the_same():
    with pytest.raises(SettingError, match=r"'x' is not a whole number; allowed"):
        options.check_mark({"agents": ["x"]}, "t.py::test")
