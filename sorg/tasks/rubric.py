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

Constraint kinds (``params``):

- ``sum``: the quantities of ``unit`` ("currency", "percent", "hours", "days", "weeks" or
  "months": "3 weeks", "2-month") in one section, on
  lines that do not state a total ("Total: $9,000", "the overall budget is $9k"), add up to
  ``target`` (``op: "eq"``, within ``tolerance``, absolute, default 1% of target) or to at most
  ``target`` (``op: "le"``, and at least ``floor``, default 0). At least ``min_items``
  quantities (default 2) must be present so that restating the total alone does not pass.
  For "hours", a line contributes the durations it states ("2 h", "90 min") or, if it states
  none, its time ranges ("9:00-10:30", "2pm-4pm"), so "9:00-10:00 talk (1 h)" counts once.
- ``count``: the number of items in a section is within ``[min, max]`` (``max`` optional).
  ``item`` is "list" (bulleted / numbered / "Week 3:"-style lines), "slot" (lines holding a
  time range or duration) or "amount" (currency amounts); ``pattern`` (regex) optionally
  restricts which items count. ``scope: "answer"`` counts across the whole answer and is only
  allowed without ``max``.
- ``range``: some line matching ``keyword`` (regex) holds a quantity of ``unit`` ("number",
  or any unit above) within ``[min, max]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from sorg.tasks.quantities import (
    LIST_ITEM,
    TOTAL_LINE,
    extract_amounts,
    extract_percents,
    line_hours,
    line_quantities,
)
from sorg.tasks.task import Constraint, Element, Task

__all__ = [
    "ItemResult",
    "RubricResult",
    "CONSTRAINT_KINDS",
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

CONSTRAINT_KINDS = ("sum", "count", "range")
ECHO_NGRAM = 4
UNITS = ("currency", "percent", "hours", "days", "weeks", "months", "number")
REGEX_FLAGS = re.IGNORECASE | re.MULTILINE

# ---------------------------------------------------------------------------------------------
# sections


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


def split_sections(text: str) -> list[str]:
    """Split an answer into sections: runs of non-blank lines; a markdown heading starts one.

    Uses str.splitlines so every Unicode line break counts; each section is its lines joined
    by "\\n". The split is local (depends on each line and whether it is blank), which is what
    makes reordering blank-line-separated sections leave the multiset of sections unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"answer must be str, not {type(text).__name__}")
    sections: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            if current:
                sections.append("\n".join(current))
                current = []
            continue
        if _HEADING.match(line) and current:
            sections.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        sections.append("\n".join(current))
    return sections


_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=512)
def _prompt_ngrams(prompt: str, n: int = ECHO_NGRAM) -> frozenset[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(prompt)]
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def phrase_grams(sources: Iterable[tuple[str, int]]) -> dict[int, frozenset[tuple[str, ...]]]:
    """The word n-grams of each (text, n) source, grouped by n: what `mask_grams` blanks.

    Several sources with their own n let one pass mask a long prompt by 4-grams and a short
    checklist line ("names a venue") by its whole 3-word run.
    """
    out: dict[int, set[tuple[str, ...]]] = {}
    for text, n in sources:
        if n >= 1:
            out.setdefault(n, set()).update(_prompt_ngrams(text, n))
    return {n: frozenset(g) for n, g in sorted(out.items()) if g}


def mask_grams(section: str, grams: Mapping[int, frozenset[tuple[str, ...]]]) -> str:
    """Blank out of `section` every run of n consecutive words that is one of `grams[n]`.

    Words are maximal runs of letters/digits, compared case-insensitively; a masked word's
    characters become spaces, so line structure and the other words keep their places.
    """
    if not grams:
        return section
    spans = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(section)]
    covered = [False] * len(spans)
    words = [w for _, _, w in spans]
    for n, found in grams.items():
        for i in range(len(spans) - n + 1):
            if tuple(words[i : i + n]) in found:
                for j in range(i, i + n):
                    covered[j] = True
    if not any(covered):
        return section
    chars = list(section)
    for (start, end, _), hit in zip(spans, covered):
        if hit:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


def mask_echo(section: str, prompt: str, n: int = ECHO_NGRAM) -> str:
    """Blank out of `section` every run of >= n consecutive words copied from `prompt`."""
    grams = _prompt_ngrams(prompt, n)
    return mask_grams(section, {n: grams}) if grams else section


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a rubric regex the one way the scorer uses it (case-insensitive, multiline)."""
    return re.compile(pattern, REGEX_FLAGS)


# ---------------------------------------------------------------------------------------------
# checks


def element_in_section(element: Element, section: str) -> bool:
    """Whether any of the element's patterns matches inside this one section."""
    return any(compile_pattern(p).search(section) for p in element.patterns)


def _element_passes(element: Element, sections: list[str]) -> bool:
    # Searched section by section (never across the whole text): a match spanning two
    # sections would make the verdict depend on which sections happen to be neighbours.
    for pattern in element.patterns:
        rx = compile_pattern(pattern)
        if any(rx.search(s) for s in sections):
            return True
    return False


def _sum_ok(params: Mapping[str, Any], section: str) -> tuple[bool, str]:
    unit = params.get("unit", "currency")
    target = float(params["target"])
    op = params.get("op", "eq")
    tolerance = float(params.get("tolerance", abs(target) * 0.01))
    min_items = int(params.get("min_items", 2))
    floor = float(params.get("floor", 0.0))
    values: list[float] = []
    for line in section.split("\n"):
        if TOTAL_LINE.search(line):
            continue
        values.extend(line_quantities(line, unit))
    if len(values) < min_items:
        return False, f"{len(values)} {unit} items"
    total = math.fsum(values)
    if op == "le":
        ok = floor - 1e-9 <= total <= target + tolerance
    else:
        ok = abs(total - target) <= tolerance + 1e-9
    return ok, f"{len(values)} items summing to {total:g}"


def _counted_lines(params: Mapping[str, Any], text: str) -> list[tuple[str, int]]:
    """(line, items on it) for every line of `text` that holds items of a count constraint."""
    item = params.get("item", "list")
    pattern = params.get("pattern")
    rx = compile_pattern(pattern) if pattern else None
    out = []
    for line in text.split("\n"):
        if item == "list":
            hit = LIST_ITEM.match(line) is not None
            count = 1 if hit else 0
        elif item == "slot":
            count = 1 if line_hours(line) is not None else 0
        else:  # amount
            count = len(extract_amounts(line))
        if count and (rx is None or rx.search(line)):
            out.append((line, count))
    return out


def _count_items(params: Mapping[str, Any], text: str) -> int:
    return sum(n for _, n in _counted_lines(params, text))


def _in_range(value: float, params: Mapping[str, Any]) -> bool:
    lo = params.get("min")
    hi = params.get("max")
    return (lo is None or value >= float(lo) - 1e-9) and (hi is None or value <= float(hi) + 1e-9)


def is_answer_scope(c: Constraint) -> bool:
    """True for the one constraint kind checked over the whole answer: a `count` with
    ``scope: "answer"`` (the schema allows it only without ``max``, so it is monotone)."""
    return c.kind == "count" and c.params.get("scope") == "answer"


def answer_count_passes(c: Constraint, n: int) -> bool:
    """Whether `n` items over the whole answer satisfy an answer-scope count's bounds."""
    return _in_range(n, c.params)


def answer_count_items(c: Constraint, section: str) -> int:
    """How many items of an answer-scope `count` constraint this one section holds."""
    return _count_items(c.params, section)


def answer_count_lines(c: Constraint, section: str) -> dict[str, int]:
    """The distinct lines of this section holding items of an answer-scope `count`
    constraint, each with its number of items: a line repeated anywhere counts once."""
    return dict(_counted_lines(c.params, section))


def constraint_in_section(c: Constraint, section: str) -> tuple[bool, str]:
    """Whether this one section satisfies a section-level constraint (every kind except an
    answer-scope count, see `is_answer_scope`), with the evidence."""
    p = c.params
    if c.kind == "sum":
        return _sum_ok(p, section)
    if c.kind == "count":
        n = _count_items(p, section)
        return _in_range(n, p), f"a section has {n} items"
    if c.kind == "range":
        rx = compile_pattern(p["keyword"])
        unit = p.get("unit", "number")
        for line in section.split("\n"):
            if not rx.search(line):
                continue
            for value in line_quantities(line, unit):
                if _in_range(value, p):
                    return True, f"{value:g} on a matching line"
        return False, "no matching line with a value in range"
    raise ValueError(f"constraint {c.id!r}: unknown kind {c.kind!r}")


def _constraint_passes(c: Constraint, sections: list[str]) -> tuple[bool, str]:
    p = c.params
    if is_answer_scope(c):
        n = sum(_count_items(p, s) for s in sections)
        return _in_range(n, p), f"{n} items in the answer"
    if c.kind == "sum":
        best = "no section qualifies"
        for s in sections:
            ok, detail = _sum_ok(p, s)
            if ok:
                return True, detail
            best = detail
        return False, best if len(sections) == 1 else "no section qualifies"
    if c.kind == "count":
        counts = [_count_items(p, s) for s in sections]
        for n in counts:
            if _in_range(n, p):
                return True, f"a section has {n} items"
        return False, f"section item counts {counts[:20]}"
    if c.kind == "range":
        for s in sections:
            ok, detail = constraint_in_section(c, s)
            if ok:
                return True, detail
        return False, "no matching line with a value in range"
    raise ValueError(f"constraint {c.id!r}: unknown kind {c.kind!r}")


# ---------------------------------------------------------------------------------------------
# public API


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
        ok = bool(sections) and _element_passes(e, sections)
        items.append(ItemResult(e.id, "element", ok, float(e.weight), e.description))
    for c in task.rubric.constraints:
        if sections:
            ok, detail = _constraint_passes(c, sections)
        else:
            ok, detail = False, "empty answer"
        items.append(ItemResult(c.id, "constraint", ok, float(c.weight), c.description, detail))
    return RubricResult(task.id, _weighted(items), tuple(items))


def score_rubric(task: Task, answer: str) -> float:
    """The programmatic quality of `answer` for `task`, in [0, 1] (see the module docstring)."""
    return score_details(task, answer).score
