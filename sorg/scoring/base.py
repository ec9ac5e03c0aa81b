"""What every scorer shares: the context it scores in, the score it returns, the registry.

Why a registry of small callables (inspect_ai's split: a task is data, a protocol acts, a
scorer judges): which qualities a study measures is a choice, not a constant of the trial
runner. Each scorer writes `quality.<name>` (a number in [0, 1], or nothing when it failed)
and its own details (`scores.<name>`) into the trial record. A scorer that needs a model
calls it through `ctx.client`, the same model door the agents use, so its calls are cached
and recorded in cassettes like any agent's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sorg.tasks.task import Task

__all__ = ["Score", "ScoreContext", "Scorer", "SCORERS", "register_scorer", "get_scorer"]


@dataclass(frozen=True)
class ScoreContext:
    """Everything a scorer may look at: the task, the team's answer, and the model door.

    A scorer never sees the protocol's name: a judge that knew it could favour one.
    """

    task: Task
    answer: str
    trial_id: str
    model: str
    client: Any = None
    judge_model: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one answer. `value` None means the scorer failed (the record
    keeps the failure in `details`, never a made-up number)."""

    value: float | None
    details: Mapping[str, Any] = field(default_factory=dict)


class Scorer:
    """A named scorer. Subclass and implement `score` (async, may call `ctx.client`), or
    `compute` (sync, deterministic: no model)."""

    name: str = ""
    #: True when the scorer calls a model (it then needs a judge model and the model door).
    needs_model: bool = False

    async def score(self, ctx: ScoreContext) -> Score:
        return self.compute(ctx.task, ctx.answer)

    def compute(self, task: Task, answer: str) -> Score:  # pragma: no cover - interface
        raise NotImplementedError(f"scorer {self.name!r} implements neither score nor compute")


SCORERS: dict[str, Scorer] = {}

S = TypeVar("S", bound=type)


def register_scorer(cls: S) -> S:
    """Class decorator: register an instance of `cls` under `cls.name` (a user's scorer too).

    Re-registering a name replaces it (a conftest reloaded by xdist registers again).
    """
    inst = cls()
    if not getattr(inst, "name", ""):
        raise ValueError(f"{cls.__name__}: a scorer needs a non-empty `name`")
    SCORERS[inst.name] = inst
    return cls


def get_scorer(name: str) -> Scorer:
    """The registered scorer `name`; a KeyError names the known ones."""
    try:
        return SCORERS[name]
    except KeyError:
        raise KeyError(f"unknown scorer {name!r}; known: {', '.join(sorted(SCORERS)) or 'none'}") from None


Compute = Callable[[Task, str], Score]
