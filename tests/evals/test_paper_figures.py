"""The paper's figures live once, in evals/paper.py: docs/STUDY.md states the same numbers, the
derived thresholds are what the figures give, and every claim judges at the threshold derived
from them (a claim with a typed-in threshold fails here)."""

from __future__ import annotations

import pytest

from tests.evals.study_files import ROOT, load

paper = load("paper")
DOC = (ROOT / "docs" / "STUDY.md").read_text(encoding="utf-8")


def _paper_part() -> str:
    return DOC.split("## How sorg implements it", 1)[0]


@pytest.mark.parametrize("text", [
    *(f"{q:.3f}" for q in paper.PILOT_Q.values()),
    f"d = {paper.PILOT_D}",
    f"+{round(100 * paper.SEQ_OVER_COORD)}%",
    *(f"{v:.3f}" for pair in paper.TABLE_IV.values() for v in pair),
    f"p < {paper.SEQ_OVER_COORD_ALPHA}",
    f"{paper.TOKENS_8:,} -> {paper.TOKENS_64:,}",
    f"+{100 * paper.TOKEN_GROWTH_8_TO_64:.1f}%",
    f"about {paper.Q_AT_SCALE}",
    f"H = {paper.NO_DEGRADATION_H}, p = {paper.NO_DEGRADATION_P}",
    f"about {round(100 * paper.ABSTENTION_256)}%",
    f"{paper.UNIQUE_ROLES:,} from {paper.UNIQUE_ROLES_TEAM} agents",
    f"{paper.STUDY_TASKS:,}+ tasks",
    *(f"{v:.3f}" for pair in paper.FREE_VS_FIXED.values() for v in pair),
    f"{round(100 * paper.OPEN_QUALITY_SHARE)}% of",
    f"{paper.OPEN_PRICE_FACTOR:g}x lower",
    f"[{paper.Q_RANGE[0]}, {paper.Q_RANGE[1]:g}]",
])
def test_docs_state_the_figure(text: str) -> None:
    assert text in _paper_part(), f"docs/STUDY.md's reading of the paper does not state {text!r} (evals/paper.py)"


def test_derived_thresholds_are_the_figures() -> None:
    assert paper.PILOT_SPREAD == 0.44  # 0.724 / 0.503 - 1: the "44% spread"
    assert paper.SEQ_OVER_COORD == 0.14  # 0.875 / 0.767 - 1: "+14%"
    assert paper.TOKEN_GROWTH_8_TO_64 == 0.118  # 3,537 / 3,164 - 1: "+11.8%"
    assert max(paper.PILOT_Q, key=paper.PILOT_Q.__getitem__) == "sequential"
    assert min(paper.PILOT_Q, key=paper.PILOT_Q.__getitem__) == "shared"
    claude, glm = paper.FREE_VS_FIXED["claude"], paper.FREE_VS_FIXED["glm-5"]
    assert claude[0] > claude[1] and glm[0] < glm[1]  # the weaker model reverses


def test_docs_list_each_claims_threshold() -> None:
    """The claims section of docs/STUDY.md names the thresholds the claims use."""
    part = DOC.split("## The claims sorg judges", 1)
    assert len(part) == 2, "docs/STUDY.md has no '## The claims sorg judges' section"
    text = part[1]
    claims_mod = load("test_claims")
    for needle in (f"{round(100 * paper.SEQ_OVER_COORD)}%", f"p < {paper.SEQ_OVER_COORD_ALPHA}",
                   f"{round(100 * paper.PILOT_SPREAD)}%", f"d {paper.PILOT_D}", f"p < {paper.PILOT_ALPHA:g}",
                   f"alpha {claims_mod.RANKING_ALPHA}", f"+{round(100 * paper.PILOT_RANKING_GAIN)}%",
                   f"+{100 * paper.TOKEN_GROWTH_8_TO_64:.1f}%", f"{1 + paper.TOKEN_GROWTH_8_TO_64:.3f}",
                   f"at most {claims_mod.TOKEN_MARGIN}", f"+-{claims_mod.MARGIN}",
                   f"{claims_mod.ABSTENTION_BAND[0]:.2f}..{claims_mod.ABSTENTION_BAND[1]:.2f}",
                   f"({claims_mod.HIERARCHY_BAND[0]:g}, {claims_mod.HIERARCHY_BAND[1]:g}]",
                   f"at least {claims_mod.OPEN_SHARE_MARGIN:.2f}", f"{paper.OPEN_QUALITY_SHARE}",
                   f"at least {claims_mod.PRICE_MARGIN:g}", f"{paper.OPEN_PRICE_FACTOR:g}"):
        assert needle in text, f"docs/STUDY.md's claims section does not state {needle!r}"
