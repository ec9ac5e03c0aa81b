"""Text that a rubric item's own checks match: how a simulated agent writes a correct item.

Why generate from the bank's regexes instead of keeping a phrase list: the simulated world must
score through the same checks as a real model's answer (echo masking, sections, coverage), and a
phrase list would drift from the bank as patterns change. So an element's correct text is the
shortest string its first matching pattern accepts (walked from Python's own regex parse tree),
checked against *all* the scorer's rules: it must pass the element's check once the task's own
words are masked. An element no generated text can pass is reported, never faked
(`writable` is False and the agent writes nothing for it).

A wrong item is the element's description with a hedge ("to be decided"): the description is
masked by the scorer as the task's own phrase, so it earns nothing, yet a teammate can see which
item was attempted (the simulated agents avoid items already attempted in what they were shown).
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

from sorg.tasks.checks import REGEX_FLAGS
from sorg.tasks.task import Element, Task

__all__ = ["example", "correct_text", "wrong_text", "attempted", "writable_elements"]

_CATEGORY = {C.CATEGORY_DIGIT: "1", C.CATEGORY_SPACE: " ", C.CATEGORY_WORD: "a",
             C.CATEGORY_NOT_DIGIT: "a", C.CATEGORY_NOT_SPACE: "a", C.CATEGORY_NOT_WORD: " "}


def _walk(tree: Any) -> str:
    out: list[str] = []
    for op, av in tree:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op is C.NOT_LITERAL:
            out.append("a" if chr(av) != "a" else "b")
        elif op is C.ANY:
            out.append("x")
        elif op is C.IN:
            out.append(_in(av))
        elif op is C.BRANCH:
            out.append(_walk(av[1][0]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            out.append(_walk(sub) * max(lo, 0))
        elif op is C.SUBPATTERN:
            out.append(_walk(av[-1]))
        elif op in (C.ATOMIC_GROUP,):
            out.append(_walk(av))
        elif op is C.AT or op in (C.ASSERT, C.ASSERT_NOT):
            continue  # anchors and look-arounds write nothing; the final check decides
        elif op is C.GROUPREF:
            continue
        else:
            raise ValueError(f"regex construct {op} not supported")
    return "".join(out)


def _in(items: Any) -> str:
    negate = any(op is C.NEGATE for op, _ in items)
    if negate:
        banned = {chr(av) for op, av in items if op is C.LITERAL}
        return next(c for c in "aeioubcdxyz" if c not in banned)
    for op, av in items:
        if op is C.LITERAL:
            return chr(av)
        if op is C.RANGE:
            return chr(av[0])
        if op is C.CATEGORY:
            return _CATEGORY.get(av, "a")
    return "a"


@lru_cache(maxsize=4096)
def example(pattern: str) -> str | None:
    """A short string `pattern` matches (case-insensitive, as the scorer compiles it), or None."""
    try:
        text = _walk(P.parse(pattern, REGEX_FLAGS))
    except (ValueError, re.error, StopIteration):
        return None
    text = text.strip()
    if not text or not re.search(pattern, f" {text} ", REGEX_FLAGS):
        return None
    return text


@lru_cache(maxsize=4096)
def _correct(task: Task, element: Element) -> str | None:
    from sorg.scoring.coverage import coverage_details

    for pattern in element.patterns:
        text = example(pattern)
        if text is None:
            continue
        line = f"- {text}: done, with owner and date."
        passed = {i["id"] for i in coverage_details(task, line)["items"] if i["passed"]}
        if element.id in passed:
            return line
    return None


def correct_text(task: Task, element: Element) -> str | None:
    """One line that passes `element`'s check for `task` (after echo masking), or None."""
    return _correct(task, element)


def wrong_text(element: Element) -> str:
    """One line that attempts `element` but earns nothing: its description, hedged."""
    return f"- {element.description}: to be decided."


def attempted(element: Element, seen: str) -> bool:
    """Whether `seen` (what an agent was shown) already holds an attempt at `element`."""
    low = seen.lower()
    if element.description.lower() in low:
        return True
    return any(re.search(p, seen, REGEX_FLAGS) for p in element.patterns)


def writable_elements(task: Task) -> tuple[Element, ...]:
    """The task's elements a simulated agent can write correctly (see the module docstring)."""
    return tuple(e for e in task.rubric.elements if correct_text(task, e) is not None)
