"""Programmatic rubric scoring: a deterministic quality in [0, 1] for any text.

Why sections: an answer assembled by a team is a pile of contributions whose order depends on
the protocol. A score that changed when two paragraphs swapped places, or that dropped when an
agent added a correct paragraph, would measure the protocol's ordering rather than the answer's
quality. So every check here is an *existence* check over the answer's **sections**:

- A section is a maximal run of non-blank lines; a markdown heading line (``# ...``) also
  starts a new section. The answer is therefore a multiset of sections, and reordering
  sections cannot change it.
- An element passes when any of its patterns matches inside some section (regex,
  case-insensitive, ``^``/``$`` per line).
- A constraint passes when some section (or, for ``range``, some line) satisfies it; the one
  exception is a ``count`` with ``scope: "answer"`` and no upper bound, which counts over the
  whole answer and is monotone because counts only grow.

Adding a section can only add satisfying sections, so the score is monotone in added sections
(text added *as its own section*, after a blank line; text glued onto an existing section
changes that section), and it does not depend on their order. The property tests in tests/tasks prove both.

Why echo masking: small models often restate the task ("We need to plan a 3-day conference
with a budget of $120,000, a venue, catering ..."), and the task's own words would satisfy its
rubric (measured on this bank: the bare prompt scored 0.56-0.75 on average per level). So,
before any check, every run of at least ``ECHO_NGRAM`` (4) consecutive words that also occurs
in the task prompt is blanked out of the section. Writing "the venue is the city hall" still
counts; copying "name a venue, a catering option" does not. Masking is a function of the
section and the prompt alone, so it keeps both properties above.

Score = sum(weight of passed elements and constraints) / sum(all weights). Element and
constraint weights come from the task file (default 1.0 each); a task with elements
``[1, 1, 1]`` and one constraint of weight 2 gives that constraint 40% of the score.

The constraint kinds (``sum``, ``count``, ``range``) and their ``params`` are described in
`sorg.tasks.checks`, which holds every check; sections are `sorg.tasks.sections`, echo masking
`sorg.tasks.echo`. This module turns the checks' verdicts into a score and a report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sorg.tasks.checks import (
    CONSTRAINT_KINDS,
    REGEX_FLAGS,
    UNITS,
    answer_count_items,
    answer_count_lines,
    answer_count_passes,
    compile_pattern,
    constraint_in_section,
    constraint_passes,
    element_in_section,
    element_passes,
    is_answer_scope,
)
from sorg.tasks.echo import ECHO_NGRAM, mask_echo, mask_grams, phrase_grams
from sorg.tasks.quantities import extract_amounts, extract_percents, line_hours
from sorg.tasks.sections import split_sections
from sorg.tasks.task import Task

# The checks, sections and echo masking used to live here; their names stay importable from
# this module, where callers have always found them.
__all__ = [
    "ItemResult",
    "RubricResult",
    "CONSTRAINT_KINDS",
    "REGEX_FLAGS",
    "UNITS",
    "score_rubric",
    "score_details",
    "split_sections",
    "extract_amounts",
    "extract_percents",
    "line_hours",
    "compile_pattern",
    "mask_echo",
    "mask_grams",
    "phrase_grams",
    "element_in_section",
    "constraint_in_section",
    "answer_count_items",
    "answer_count_lines",
    "answer_count_passes",
    "is_answer_scope",
    "ECHO_NGRAM",
]


@dataclass(frozen=True)
class ItemResult:
    """One rubric item's verdict: an element or a constraint, with the evidence for reports."""

    id: str
    type: str  # "element" | "constraint"
    passed: bool
    weight: float
    description: str
    detail: str = ""


@dataclass(frozen=True)
class RubricResult:
    """The score and every item's verdict, so a report can say *why* a score is what it is."""

    task_id: str
    score: float
    items: tuple[ItemResult, ...]

    @property
    def elements(self) -> tuple[ItemResult, ...]:
        return tuple(i for i in self.items if i.type == "element")

    @property
    def constraints(self) -> tuple[ItemResult, ...]:
        return tuple(i for i in self.items if i.type == "constraint")

    @property
    def passed(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.passed)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if not i.passed)

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "score": self.score, "items": [asdict(i) for i in self.items]}


def _weighted(items: Iterable[ItemResult]) -> float:
    items = list(items)
    total = math.fsum(i.weight for i in items)
    if total <= 0:
        return 0.0
    got = math.fsum(i.weight for i in items if i.passed)
    return min(1.0, max(0.0, got / total))


def score_details(task: Task, answer: str, *, mask_prompt_echo: bool = True) -> RubricResult:
    """Score `answer` against `task`'s rubric and say which elements and constraints passed.

    Deterministic and total: any str (empty, huge, binary-looking) gives a result; a non-str
    answer (None from a failed trial) scores 0. ``mask_prompt_echo=False`` turns echo masking
    off (for diagnostics: how much of a score is parroted prompt).
    """
    text = answer if isinstance(answer, str) else ""
    sections = split_sections(text)
    if mask_prompt_echo:
        sections = [m for s in sections if (m := mask_echo(s, task.prompt)).strip()]
    # Identical sections carry no extra information; deduplicating keeps huge repetitive
    # answers cheap and changes no verdict (every check is "some section satisfies").
    sections = list(dict.fromkeys(sections))
    items: list[ItemResult] = []
    for e in task.rubric.elements:
        ok = bool(sections) and element_passes(e, sections)
        items.append(ItemResult(e.id, "element", ok, float(e.weight), e.description))
    for c in task.rubric.constraints:
        if sections:
            ok, detail = constraint_passes(c, sections)
        else:
            ok, detail = False, "empty answer"
        items.append(ItemResult(c.id, "constraint", ok, float(c.weight), c.description, detail))
    return RubricResult(task.id, _weighted(items), tuple(items))


def score_rubric(task: Task, answer: str) -> float:
    """The programmatic quality of `answer` for `task`, in [0, 1] (see the module docstring)."""
    return score_details(task, answer).score
