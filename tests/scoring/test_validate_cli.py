"""`sorg validate`: each scorer's gate result printed, written with --out; a bank without
references says so."""

from __future__ import annotations

import json
import shutil

from sorg.cli import main
from sorg.scoring.ladder import references_dir


def test_validate_prints_and_writes_each_scorers_result(tmp_path, capsys):
    out = tmp_path / "gate.json"
    assert main(["validate", "--scorers", "coverage", "--tasks", "all", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("coverage: PASSED over 48 tasks - monotone 0.9")
    doc = json.loads(out.read_text())
    assert doc["results"][0]["status"] == "passed" and doc["results"][0]["tasks"] == 48


def test_a_judge_never_recorded_is_not_run_and_strict_fails(tmp_path, capsys):
    code = main(["validate", "--scorers", "judge_q", "--model", "nowhere/model", "--cassette-dir", str(tmp_path),
                 "--cache-dir", "none", "--strict"])
    assert code == 1
    assert "judge_q [nowhere/model]: NOT RUN - CassetteMiss" in capsys.readouterr().out


def test_a_bank_without_references_says_so(tmp_path, capsys):
    bank = tmp_path / "bank"
    bank.mkdir()
    shutil.copy(references_dir().parent / "curriculum.json", bank / "curriculum.json")
    assert main(["validate", "--scorers", "coverage", "--bank", str(bank)]) == 0
    got = capsys.readouterr()
    assert "the bank has no reference answers" in got.err
    assert "coverage: NOT RUN - no task of the bank has a reference answer" in got.out


def test_unknown_scorer_is_a_usage_error(capsys):
    assert main(["validate", "--scorers", "nope"]) == 2
    assert "unknown scorer" in capsys.readouterr().err
