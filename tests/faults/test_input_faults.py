"""Bad input stops before any paid call (issue 28, items 11-13).

Before: a bank regex with a nested quantifier (`(?:[^!]{1,5})+!`) passed validation and hung
scoring (10.6 s on a 28-character answer); a bank of `[` x 100,000 gave INTERNALERROR
(RecursionError)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sorg.errors import TaskBankError
from sorg.tasks import load_bank


def _bank(tmp_path: Path, patterns: list[str]) -> Path:
    task = {"id": "t-1", "level": 1, "title": "T", "prompt": "Plan the whole event for us, please.",
            "rubric": {"elements": [{"id": "e", "description": "d", "patterns": patterns}]}}
    (tmp_path / "d.json").write_text(json.dumps({"domain": "d", "tasks": [task]}))
    return tmp_path


@pytest.mark.parametrize("pattern", [r"(?:[^!]{1,5})+!", r"(a+)*b", r"(\w+ )+x", r"((?:ab|c)*d)+"])
def test_a_regex_that_backtracks_exponentially_is_refused(tmp_path, pattern):
    with pytest.raises(TaskBankError, match="nested quantifier"):
        load_bank(_bank(tmp_path, [pattern]))


@pytest.mark.parametrize("pattern", [r"(ab)+", r"\d+(,\d{3})*", r"(?:foo|bar)s?", r"(x{2})+", r"[(+]+a"])
def test_ordinary_regexes_still_load(tmp_path, pattern):
    assert len(list(load_bank(_bank(tmp_path, [pattern])))) == 1


def test_deep_json_is_a_task_bank_error(tmp_path):
    (tmp_path / "d.json").write_text("[" * 100_000)
    with pytest.raises(TaskBankError, match="nested too deep"):
        load_bank(tmp_path)
    (tmp_path / "d.json").write_text("[" * 40 + "]" * 40)
    with pytest.raises(TaskBankError, match="deeper than 32"):
        load_bank(tmp_path)
