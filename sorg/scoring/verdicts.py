"""What each unique section of an answer earns for one task, as `coverage` checks it.

Why a module of its own: checking a section (steps 3 and 4 of the definition in
`sorg.scoring.coverage`: blank the task's own words, then run the rubric's checks) is the part
that costs, and it depends only on the section's normalised text and the task; so it is done
once per (task, section) and cached here, apart from combining the verdicts into a score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sorg.tasks.checks import answer_count_lines, constraint_in_section, element_in_section, is_answer_scope
from sorg.tasks.echo import ECHO_NGRAM, mask_grams, phrase_grams
from sorg.tasks.task import Constraint, Element, Task

__all__ = ["TaskPlan", "Verdict", "plan_for"]

_SENTENCE = re.compile(r"[.!?;:]+(?:\s+|$)|\n+")
_WORD = re.compile(r"[^\W_]+")


def _phrase_n(text: str) -> int:
    """The run length that masks a copy of this phrase: up to 3 words as a whole ("names a
    venue", "communicates"), longer ones by ECHO_NGRAM-word runs; 0 for no words."""
    return min(ECHO_NGRAM, len(_WORD.findall(text)))


@dataclass(frozen=True)
class Verdict:
    """One unique section's contribution: which section-level items it passes (bit mask),
    the distinct lines holding items of each answer-scope count (none unless gated in) and
    how many items they hold, its length."""

    mask: int
    lines: tuple[Mapping[str, int], ...]
    counts: tuple[int, ...]
    chars: int
    echo_only: bool


class TaskPlan:
    """What scoring a task needs, computed once per Task object: the echo phrases, the items
    in bit order, and the verdicts of sections already seen."""

    CACHE_SIZE = 8192

    def __init__(self, task: Task) -> None:
        self.task = task
        sources: list[tuple[str, int]] = [(task.prompt, ECHO_NGRAM)]
        phrases = [p for p in _SENTENCE.split(task.prompt) if p.strip()]
        phrases.append(task.title)
        phrases += [e.description for e in task.rubric.elements]
        phrases += [c.description for c in task.rubric.constraints]
        sources += [(p, _phrase_n(p)) for p in phrases if _phrase_n(p)]
        self.grams = phrase_grams(sources)
        self.section_items: list[Element | Constraint] = list(task.rubric.elements) + [
            c for c in task.rubric.constraints if not is_answer_scope(c)
        ]
        self.count_items: list[Constraint] = [c for c in task.rubric.constraints if is_answer_scope(c)]
        self._cache: dict[str, Verdict] = {}

    def verdict(self, norm: str) -> Verdict:
        """What the normalised section `norm` earns for this task (cached)."""
        hit = self._cache.get(norm)
        if hit is not None:
            return hit
        # A line left with no letter or digit once the echo is blanked ("- " of a copied
        # checklist line) carries nothing: it is no list item and no quantity.
        masked = "\n".join(line for line in mask_grams(norm, self.grams).split("\n") if _WORD.search(line))
        mask = 0
        lines: tuple[Mapping[str, int], ...] = tuple({} for _ in self.count_items)
        echo_only = not masked.strip()
        if not echo_only:
            for bit, item in enumerate(self.section_items):
                if isinstance(item, Element):
                    ok = element_in_section(item, masked)
                else:
                    ok = constraint_in_section(item, masked)[0]
                if ok:
                    mask |= 1 << bit
            if mask:  # the gate: only a section that earns something else counts items
                lines = tuple(answer_count_lines(c, masked) for c in self.count_items)
        v = Verdict(mask, lines, tuple(sum(d.values()) for d in lines), len(norm), echo_only)
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.clear()
        self._cache[norm] = v
        return v


_PLANS: dict[int, TaskPlan] = {}


def plan_for(task: Task) -> TaskPlan:
    """The scoring plan of `task`, built once per Task object (a few are kept)."""
    # Keyed by identity (a Task holds dicts, so it is not hashable); the plan keeps its task
    # alive, so the id cannot be reused while the entry exists.
    p = _PLANS.get(id(task))
    if p is None or p.task is not task:
        if len(_PLANS) >= 256:
            _PLANS.clear()
        p = _PLANS[id(task)] = TaskPlan(task)
    return p
