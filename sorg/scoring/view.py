"""The one bounded view of an answer that every scorer sees, whatever the protocol.

Why: a protocol without a synthesis step hands in its agents' work (`protocols.base.collate`),
so answers differ in size with the team: 8 contributions run to a few thousand characters, 256
to tens of thousands, a Coordinator's synthesis to about 1,300. A judge has a bounded context,
and any score that volume can move would rank protocols by length. The fix is at measurement,
not by rewriting the team's work: every answer, of any protocol (a user's too), is shown to the
scorers as the same deterministic view, and the record keeps the whole answer beside it.

The view, from the answer's text alone (it never sees a protocol's name):
1. sections: the answer split at blank lines; within a section, runs of spaces and tabs become
   one space and lines are stripped;
2. unique: a section whose text (case and whitespace aside) appeared earlier is dropped;
3. bounded by water-filling: if the sections fit `VIEW_CHARS` they are kept whole; otherwise
   every section keeps its first `level` characters, with `level` the largest that fits the
   budget, so short sections stay whole and only the longest are cut, each to the same length.

Why water-filling and not "the first sections up to the budget": with a budget cut at a fixed
point, the order of concatenation decides what is kept, so a protocol whose best work comes
first would score higher for its order alone, and padding an early section would push later
work out. Under water-filling the kept text of each section depends only on the set of section
lengths: reordering sections keeps the same texts; duplicating a section changes nothing
(step 2); adding filler anywhere can only lower `level`, so it never brings in text that was cut
(tests/scoring/test_view.py checks these as properties, for any scorer that credits what the
text shows, and for the real coverage scorer). One limit, found by those properties: a scorer
whose check can pass on a prefix of a section and fail on the whole of it can gain from a cut.
Coverage has two such checks: echo masking (a copied 4-word run of the prompt is blanked whole,
and a cut can leave fewer than 4 of its words) and upper bounds on a section's total (a cut
section sums less). Keeping whole sections instead (choosing them by length) was tried and is
worse: padding one section pushes it out and lets another in, so padding can buy a section.
The price is that at very large teams every section is cut short; the record says how much was
cut (`scored_chars`, `scored_cut`), and the report's instrument table shows the share of cut
views per protocol. A claim across team sizes reads views of different fidelity when the budget
binds at one size only, so the budget follows the judge (`view_budget`: a judge that reads more
is shown more) and is a setting (`--sorg-view-chars`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sorg.sim_defaults import SIM_VIEW_CHARS, is_simulated

#: The view's budget in characters (about 1,000 tokens): it fits the judge's prompt with the
#: mission and rubric in a 2,048-token context, and holds a Coordinator's synthesis (at most
#: 320 tokens) or eight typical contributions whole.
VIEW_CHARS = 4000
SEPARATOR = "\n\n"

_BLANK = re.compile(r"\n[ \t]*\n")
_SPACES = re.compile(r"[ \t]+")
_ANY_SPACE = re.compile(r"\s+")


def view_budget(judge_model: str) -> int:
    """The view's budget when the run does not set one (`--sorg-view-chars`): `VIEW_CHARS`, the
    embedded judge's context (and so a safe default for any judge), or `SIM_VIEW_CHARS` for a
    simulated judge. Why it follows the judge: the view exists because a judge reads a bounded
    context; a judge that reads more should be shown more, and every protocol still sees the same
    rule. A run with a large-context judge can raise it with the setting."""
    return SIM_VIEW_CHARS if is_simulated(judge_model) else VIEW_CHARS


@dataclass(frozen=True)
class View:
    """What the scorers see (`text`), and how it was made from the answer."""

    text: str
    cut: bool  # whether any section was shortened to fit the budget


def sections(answer: str) -> list[str]:
    """The answer's unique sections, in order (steps 1 and 2 of the module docstring)."""
    out: list[str] = []
    seen: set[str] = set()
    for block in _BLANK.split(answer.replace("\r\n", "\n").replace("\r", "\n")):
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in block.split("\n")).strip()
        key = _ANY_SPACE.sub(" ", text).casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def level_for(lengths: list[int], budget: int) -> int:
    """The largest per-section length `level` with sum(min(length, level)) <= budget."""
    if sum(lengths) <= budget:
        return max(lengths, default=0)
    left, rest = budget, sorted(lengths)
    for i, n in enumerate(rest):
        share = left // (len(rest) - i)
        if n > share:
            return share
        left -= n
    return rest[-1]  # pragma: no cover - the sum exceeded the budget, so some section is cut


def scored_view(answer: str, budget: int = VIEW_CHARS) -> View:
    """The bounded, protocol-blind view of `answer` every scorer sees (see the module docstring)."""
    if budget < 1:
        raise ValueError(f"the view's budget must be at least 1 character, got {budget}")
    text = answer if isinstance(answer, str) else ""
    parts = sections(text)
    level = level_for([len(p) for p in parts], budget)
    kept = [p[:level].rstrip() for p in parts]
    return View(SEPARATOR.join(k for k in kept if k), any(len(p) > level for p in parts))
