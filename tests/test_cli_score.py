"""`sorg score TASK_ID ANSWER_FILE`: every deterministic scorer's verdict on one answer, as JSON,
and errors that name what is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sorg import cli
from sorg.scoring import SCORERS

REPO = Path(__file__).resolve().parents[1]
ANSWER = "Venue: the city hall.\n\nLunch: a buffet.\n\nAgenda:\n- welcome talk\n- workshop\n- discussion\n"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_score_prints_every_deterministic_scorer(tmp_path: Path, capsys) -> None:
    f = tmp_path / "answer.txt"
    f.write_text(ANSWER, encoding="utf-8")
    rc, out, err = _run(capsys, "score", "evt-l2-01", str(f))
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["task_id"] == "evt-l2-01" and doc["answer_chars"] == len(ANSWER)
    expected = {name for name, s in SCORERS.items() if not s.needs_model}
    assert "coverage" in expected and set(doc["scores"]) == expected
    cov = doc["scores"]["coverage"]
    assert cov["value"] == 1.0
    assert cov["details"]["answer_chars"] == doc["scored_chars"] == len(ANSWER.strip())  # the view
    assert cov["details"]["passed"] == ["venue", "catering", "agenda", "agenda_items"]


def test_score_pads_nothing_for_a_long_pile(tmp_path: Path, capsys) -> None:
    f = tmp_path / "pile.txt"
    f.write_text(ANSWER + "\n\n" + "\n\n".join(f"Point {i}: we agree." for i in range(400)), encoding="utf-8")
    rc, out, _ = _run(capsys, "score", "evt-l2-01", str(f))
    assert rc == 0
    assert json.loads(out)["scores"]["coverage"]["value"] < 0.5


def test_unknown_task_names_it_and_near_matches(tmp_path: Path, capsys) -> None:
    f = tmp_path / "a.txt"
    f.write_text(ANSWER, encoding="utf-8")
    rc, out, err = _run(capsys, "score", "evt-l2-1", str(f))
    assert rc != 0 and out == ""
    assert "'evt-l2-1'" in err and "evt-l2-01" in err
    rc, _, err = _run(capsys, "score", "nothing-like-it", str(f))
    assert rc != 0 and "'nothing-like-it'" in err and "known ids" in err


@pytest.mark.parametrize("kind", ["missing", "directory", "binary"])
def test_unreadable_answer_file_names_it(tmp_path: Path, capsys, kind: str) -> None:
    path = tmp_path / "answer.txt"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00bad")
    rc, out, err = _run(capsys, "score", "evt-l2-01", str(path))
    assert rc != 0 and out == ""
    assert str(path) in err


def test_score_runs_as_a_command(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Use POST /users with a JSON body holding email and password. It returns 201 Created, or 400 Bad Request.",
                 encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "sorg.cli", "score", "sw-l1-02", str(f)],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["scores"]["coverage"]["value"] == 1.0
    piped = subprocess.run([sys.executable, "-m", "sorg.cli", "score", "sw-l1-02", "-"], input="Use POST /users.",
                           capture_output=True, text=True, cwd=REPO)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["answer_chars"] == len("Use POST /users.")
    bad = subprocess.run([sys.executable, "-m", "sorg.cli", "score", "sw-l1-02", str(tmp_path / "no.txt")],
                         capture_output=True, text=True, cwd=REPO)
    assert bad.returncode != 0 and "no.txt" in bad.stderr


def test_score_reads_a_bank_of_your_own(tmp_path: Path, capsys) -> None:
    from tests.pytest_plugin.user_project import BANK

    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "garden.json").write_text(BANK, encoding="utf-8")
    f = tmp_path / "answer.txt"
    f.write_text("Sow peas and radishes.", encoding="utf-8")
    rc, out, err = _run(capsys, "score", "gdn-l1-01", str(f), "--bank", str(tmp_path / "bank"))
    assert rc == 0, err
    assert json.loads(out)["scores"]["coverage"]["details"]["passed"] == ["veg"]
    rc, out, err = _run(capsys, "score", "gdn-l1-01", str(f), "--bank", str(tmp_path / "nowhere"))
    assert rc == 2 and "no such task file or directory" in err


def test_version_and_a_closed_pipe() -> None:
    """`sorg --version` names the version; `sorg ... | head` ends quietly (no BrokenPipe traceback)."""
    import sorg

    v = subprocess.run([sys.executable, "-m", "sorg.cli", "--version"], capture_output=True, text=True, cwd=REPO)
    assert v.returncode == 0 and v.stdout.strip() == f"sorg {sorg.__version__}"
    # A reader that closes at once: the first write (the JSON) meets a closed pipe.
    proc = subprocess.Popen([sys.executable, "-m", "sorg.cli", "score", "sw-l1-02", "-"], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.close()
    proc.stdin.write(b"Use POST /users. " * 2000)
    proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait() == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_score_reads_the_projects_bank_and_scorers(tmp_path: Path) -> None:
    """In a project, `sorg score` uses what `pytest` there would: the sorg_bank ini key (relative
    to the rootdir) and the scorers its conftest.py registers, from any subdirectory."""
    from tests.pytest_plugin.user_project import BANK, SCORER
    from tests.subproc import HANG_S, pythonpath

    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "garden.json").write_text(BANK, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nsorg_bank = bank\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text("from sorg.scoring import register_scorer\n\n"
                                          + SCORER.replace("def words", "@register_scorer('words')\ndef words"),
                                          encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Sow peas and radishes.", encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SORG_")}
    env["PYTHONPATH"] = pythonpath()
    out = subprocess.run([sys.executable, "-m", "sorg.cli", "score", "gdn-l1-01", "a.txt"], capture_output=True,
                         text=True, cwd=tmp_path / "sub", env=env, timeout=HANG_S)
    assert out.returncode == 0, out.stderr
    scores = json.loads(out.stdout)["scores"]
    assert scores["coverage"]["details"]["passed"] == ["veg"] and scores["words"]["value"] == 4 / 50
