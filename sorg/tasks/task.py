"""A task of the bank, as plain frozen data.

Tasks are data files (`sorg/tasks/bank/*.json`), never code: the loader validates them and
builds these records. The rubric is what makes a quality score reproducible: required
elements detected by patterns, and numeric constraints checked by arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Element:
    """A thing the answer must contain; present if any pattern (regex, case-insensitive) matches."""

    id: str
    description: str
    patterns: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Constraint:
    """A checkable numeric constraint (a sum, a range, a count); `kind` picks the checker."""

    id: str
    kind: str
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weight: float = 1.0


@dataclass(frozen=True)
class Rubric:
    elements: tuple[Element, ...]
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True)
class Stakeholder:
    """A person named in the task's prompt and what they want (at level 4, demands conflict)."""

    name: str
    wants: str


@dataclass(frozen=True)
class Gap:
    """Information the prompt withholds that an answer needs; `element` is the rubric element
    whose patterns detect that the answer notices it (flags it, states an assumption, asks)."""

    what: str
    element: str


@dataclass(frozen=True)
class Task:
    """One mission for a team. `level` is complexity 1-4 (`sorg.tasks.levels` defines each);
    `source` is the file it came from. `domains` (the task's own domain first), `steps`,
    `stakeholders` and `missing` describe what makes it that level."""

    id: str
    domain: str
    level: int
    title: str
    prompt: str
    rubric: Rubric
    source: str = ""
    domains: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    stakeholders: tuple[Stakeholder, ...] = ()
    missing: tuple[Gap, ...] = ()
