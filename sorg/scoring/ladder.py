"""Reference answers and the validation ladder built from them.

Why a ladder: a quality scorer is an instrument, and an instrument that cannot tell a good
answer from a bad one measures nothing, however precise its figures look. For each task we
know five answers whose order is not in doubt: nothing, the mission copied back, a good
answer to a *different* task, a good answer with half its sections removed, and the good
answer whole. A scorer worth reading ranks them in that order (`sorg.scoring.gate` checks
it); the answers themselves never change, so the check is repeatable.

Where references live: next to the bank, one file per domain,
``<bank dir>/references/<domain>.json`` = ``{"domain": ..., "references": {task id:
[section, ...]}}``. A reference is a list of sections (joined by blank lines, the way the
scorers split answers), so "half its items removed" is exact: the first half of its sections
(at least one) is kept. The packaged bank carries one per task (written by hand and checked
against each rubric by tests/tasks/test_references.py); a user's bank may carry its own in
the same layout, and a task without one is left out of the gate, which says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sorg.errors import TaskBankError
from sorg.tasks.task import Task

__all__ = ["RUNGS", "Rung", "gate_tasks", "ladder", "load_references", "references_dir"]

#: The ladder's rungs, worst first: their intended rank is their index.
RUNGS = ("empty", "echo", "other", "half", "full")

_PACKAGED = Path(__file__).resolve().parent.parent / "tasks" / "bank"


@dataclass(frozen=True)
class Rung:
    """One answer of a task's ladder: its name, intended rank (0 = worst) and text."""

    name: str
    rank: int
    answer: str


def references_dir(bank: str | Path | None = None) -> Path:
    """Where the references of `bank` (a bank directory or file; None: the packaged bank) live."""
    if bank is None:
        return _PACKAGED / "references"
    p = Path(bank)
    return (p if p.is_dir() else p.parent) / "references"


def load_references(bank: str | Path | None = None) -> dict[str, tuple[str, ...]]:
    """Task id -> reference sections, from every file of `references_dir(bank)` ({} when there
    is none). A malformed file is a TaskBankError naming the file and the field."""
    out: dict[str, tuple[str, ...]] = {}
    folder = references_dir(bank)
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TaskBankError(f"{path}: not a JSON references file ({exc})") from None
        refs = raw.get("references") if isinstance(raw, dict) else None
        if not isinstance(refs, dict):
            raise TaskBankError(f"{path}: field 'references' must be an object of task id -> list of sections")
        for tid, sections in refs.items():
            if (not isinstance(sections, list) or not sections
                    or not all(isinstance(s, str) and s.strip() for s in sections)):
                raise TaskBankError(f"{path}: references.{tid} must be a non-empty list of non-empty strings")
            if tid in out:
                raise TaskBankError(f"{path}: references.{tid} is given twice (also in another file)")
            out[tid] = tuple(sections)
    return out


def _join(sections: Iterable[str]) -> str:
    return "\n\n".join(s.strip() for s in sections)


def ladder(task: Task, refs: Mapping[str, Sequence[str]], order: Sequence[str]) -> list[Rung]:
    """The five rungs of `task`'s ladder. `order` is every task id with a reference, in a fixed
    order: the "other" rung is the reference half-way round it (in the packaged bank, a task of
    another domain), so the choice never depends on which tasks a run selected."""
    own = refs[task.id]
    ids = list(order)
    other_id = ids[(ids.index(task.id) + len(ids) // 2) % len(ids)] if len(ids) > 1 else None
    if other_id is None or other_id == task.id:
        raise ValueError(f"task {task.id}: the ladder needs a reference of another task")
    return [
        Rung("empty", 0, ""),
        Rung("echo", 1, task.prompt),
        Rung("other", 2, _join(refs[other_id])),
        Rung("half", 3, _join(own[: max(1, len(own) // 2)])),
        Rung("full", 4, _join(own)),
    ]


def gate_tasks(tasks: Sequence[Task], refs: Mapping[str, object], n: int | None) -> list[Task]:
    """The tasks the gate runs on: those with a reference, in id order; with `n`, a spread of
    `n` of them (every k-th, shifted by one each time, so levels and domains both vary)."""
    have = sorted((t for t in tasks if t.id in refs), key=lambda t: t.id)
    if n is None or n >= len(have):
        return have
    step = len(have) // n
    return [have[(i * step + i % step) % len(have)] for i in range(n)]
