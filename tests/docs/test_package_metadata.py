"""The package's metadata says what it is to an index and to pip: authors, a licence, and
classifiers that place it (a pytest plugin: "Framework :: Pytest")."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_metadata_names_authors_and_classifiers():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["authors"] and all(a.get("name") for a in project["authors"])
    cls = project["classifiers"]
    assert "Framework :: Pytest" in cls and "Typing :: Typed" in cls
    assert len(cls) == len(set(cls))
    # Each "Python :: 3.x" it claims is at least the version it requires.
    floor = tuple(int(x) for x in project["requires-python"].lstrip(">=").split("."))
    claimed = [tuple(int(x) for x in c.rsplit(" ", 1)[-1].split(".")) for c in cls
               if c.startswith("Programming Language :: Python :: 3.")]
    assert claimed and min(claimed) >= floor
    # An entry point of group pytest11 is what "Framework :: Pytest" promises.
    assert "sorg" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
