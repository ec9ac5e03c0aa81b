"""docs/STUDY.md carries the project's newest reading of the paper (../shared/STUDY.md) whole."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "STUDY.md"


@pytest.mark.skipif(not SHARED.exists(), reason="no ../shared/STUDY.md beside this checkout")
def test_docs_study_contains_every_section_of_the_shared_reading():
    ours = (ROOT / "docs" / "STUDY.md").read_text(encoding="utf-8")
    theirs = SHARED.read_text(encoding="utf-8")
    body = theirs.split("## Set-up", 1)[1]
    assert "## Set-up" + body.rstrip() in ours
