"""The paper's figures live once, in evals/paper.py: docs/STUDY.md states the same numbers, the
derived thresholds are what the figures give, and every claim judges at the threshold derived
from them (a claim with a typed-in threshold fails here).

Each figure also says where it comes from: every constant's `#:` comment cites its source (the
paper's table or figure, or "no table") and its condition ("condition not reported" where the
reading of the paper gives none), and docs/STUDY.md "Where each figure comes from" cites the same
tables. Why: a figure without its condition (model, level, team size) invites comparing a
replication with a number measured under other conditions."""

from __future__ import annotations

import ast
import re

import pytest

from tests.evals.study_files import ROOT, load

paper = load("paper")
DOC = (ROOT / "docs" / "STUDY.md").read_text(encoding="utf-8")
PAPER_SRC = (ROOT / "evals" / "paper.py").read_text(encoding="utf-8")
#: "Table IV", "Tables V, VI", "Figure 3", "Figures 2 and 5": a reference to the paper's tables or figures.
REF = re.compile(r"\b(Tables?|Figures?) ((?:[IVXL]+|\d+)(?:(?:, | and )(?:[IVXL]+|\d+))*)\b")


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


def _refs(text: str) -> set[str]:
    """The paper's tables and figures `text` cites, one by one ("Tables V, VI" -> Table V, Table VI)."""
    found = set()
    for kind, nums in REF.findall(text):
        word = "Figure" if kind.startswith("Figure") else "Table"
        found |= {f"{word} {n}" for n in re.split(r", | and ", nums)}
    return found


def _citations() -> dict[str, str]:
    """Each public constant of evals/paper.py -> the `#:` comment block right above its assignment."""
    lines = PAPER_SRC.splitlines()
    cited = {}
    for node in ast.parse(PAPER_SRC).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names = [n.id for t in targets for n in (t.elts if isinstance(t, ast.Tuple) else [t]) if isinstance(n, ast.Name)]
        if not names or names[0].startswith("_"):
            continue
        i, block = node.lineno - 2, []
        while i >= 0 and lines[i].startswith("#:"):
            block.insert(0, lines[i][2:].strip())
            i -= 1
        cited.update(dict.fromkeys(names, " ".join(block)))
    return cited


def _source_and_condition(comment: str) -> tuple[str, str]:
    """The "Source: ..." and "Condition: ..." parts of a constant's comment ("" where absent)."""
    m = re.search(r"Source:(.*?)(?:Condition:(.*))?$", comment)
    return (m.group(1).strip(), (m.group(2) or "").strip()) if m else ("", "")


def _docs_sources() -> dict[str, tuple[str, str]]:
    """docs/STUDY.md "Where each figure comes from": each constant named in a row -> (source, condition)."""
    part = DOC.split("## Where each figure comes from", 1)
    assert len(part) == 2, "docs/STUDY.md has no '## Where each figure comes from' section"
    rows = {}
    for line in part[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("figure", "---"):
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[3]):
            assert name not in rows, f"docs/STUDY.md cites {name} in two rows"
            rows[name] = (cells[1], cells[2])
    return rows


CITED = _citations()


def test_refs_reads_each_table_and_figure() -> None:
    assert _refs("Tables V, VI (which of the two)") == {"Table V", "Table VI"}
    assert _refs("Table IV, Claude's row") == {"Table IV"}
    assert _refs("Figures 2 and 5; Table VIII.") == {"Figure 2", "Figure 5", "Table VIII"}
    assert _refs("no table (the metrics the paper reports)") == set()


def test_the_citation_check_sees_every_constant() -> None:
    assert {"PILOT_Q", "TOKENS_8", "TOKENS_64", "SEQ_OVER_COORD_ALPHA", "Q_RANGE"} <= set(CITED)
    assert set(CITED) == {n for n in vars(paper) if n.isupper()}, "a constant of evals/paper.py escapes the check"


@pytest.mark.parametrize("name", sorted(CITED))
def test_each_constant_cites_its_source_and_condition(name: str) -> None:
    """Each figure in evals/paper.py says where it comes from: "Source:" a table or figure of the paper (or
    "no table"), then "Condition:" (model, level, team size, protocols, N of tasks, or "condition not reported")."""
    source, condition = _source_and_condition(CITED[name])
    assert source, f"evals/paper.py: {name}'s #: comment has no 'Source:' (a table/figure, or 'no table')"
    assert _refs(source) or "no table" in source, (
        f"evals/paper.py: {name}'s source {source!r} names no table or figure and does not say 'no table'")
    assert condition, f"evals/paper.py: {name}'s #: comment has no 'Condition:' (or 'condition not reported')"


@pytest.mark.parametrize("name", sorted(CITED))
def test_docs_cite_each_constant_as_its_comment_does(name: str) -> None:
    """docs/STUDY.md's table of sources and each constant's comment name the same tables, and a condition the
    docs call not reported is not reported in the comment either."""
    rows = _docs_sources()
    assert name in rows, f"docs/STUDY.md 'Where each figure comes from' has no row naming `{name}` (evals/paper.py)"
    doc_source, doc_condition = rows[name]
    source, condition = _source_and_condition(CITED[name])
    assert _refs(doc_source) == _refs(source), (
        f"{name}: docs/STUDY.md cites {sorted(_refs(doc_source))}, evals/paper.py cites {sorted(_refs(source))}")
    assert ("no table" in doc_source) == ("no table" in source), f"{name}: 'no table' in one citation only"
    if "not reported" in doc_condition:
        assert "condition not reported" in condition, (
            f"{name}: docs/STUDY.md says part of its condition is not reported; evals/paper.py's comment does not")


def test_docs_say_how_the_claims_are_stated() -> None:
    """The section on how claims are stated names the declared margins with their values, the interaction and
    the claims that are sorg's hypotheses rather than the paper's."""
    part = DOC.split("## How sorg states the claims", 1)
    assert len(part) == 2, "docs/STUDY.md has no '## How sorg states the claims' section"
    text, claims_mod = part[1], load("test_claims")
    for needle in ("`TOKEN_MARGIN`", f"{claims_mod.TOKEN_MARGIN}x", "`OPEN_SHARE_MARGIN`",
                   f"{claims_mod.OPEN_SHARE_MARGIN:.2f}", "`PRICE_MARGIN`", f"{claims_mod.PRICE_MARGIN:g}x",
                   f"p < {paper.SEQ_OVER_COORD_ALPHA}", "compatible with", "interaction", "sorg's hypothes", "RSI"):
        assert needle in text, f"docs/STUDY.md 'How sorg states the claims' does not state {needle!r}"
