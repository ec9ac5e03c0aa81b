"""The rubric's checks: whether a section (or an answer's sections) satisfies one rubric item.

Why a module of its own: both quality scores run these same checks, `sorg.tasks.rubric` over
an answer's sections and `sorg.scoring.coverage` section by section, so each item means the
same in both. Every check is an existence check over sections (see `sorg.tasks.rubric` for
why); an element passes when any of its patterns matches inside some section (regex,
case-insensitive, ``^``/``$`` per line).

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
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sorg.tasks.quantities import LIST_ITEM, TOTAL_LINE, extract_amounts, line_hours, line_quantities
from sorg.tasks.task import Constraint, Element

__all__ = [
    "CONSTRAINT_KINDS",
    "REGEX_FLAGS",
    "UNITS",
    "answer_count_items",
    "answer_count_lines",
    "answer_count_passes",
    "compile_pattern",
    "constraint_in_section",
    "constraint_passes",
    "element_in_section",
    "element_passes",
    "is_answer_scope",
]

CONSTRAINT_KINDS = ("sum", "count", "range")
UNITS = ("currency", "percent", "hours", "days", "weeks", "months", "number")
REGEX_FLAGS = re.IGNORECASE | re.MULTILINE


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a rubric regex the one way the scorer uses it (case-insensitive, multiline)."""
    return re.compile(pattern, REGEX_FLAGS)


def element_in_section(element: Element, section: str) -> bool:
    """Whether any of the element's patterns matches inside this one section."""
    return any(compile_pattern(p).search(section) for p in element.patterns)


def element_passes(element: Element, sections: list[str]) -> bool:
    """Whether any of the element's patterns matches inside some one of `sections`."""
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


def constraint_passes(c: Constraint, sections: list[str]) -> tuple[bool, str]:
    """Whether the answer made of `sections` satisfies `c`, with the evidence for reports."""
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
