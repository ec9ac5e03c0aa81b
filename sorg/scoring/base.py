"""What every scorer shares: the context it scores in, the score it returns, the registry.

Why a registry of small callables (inspect_ai's split: a task is data, a protocol acts, a
scorer judges): which qualities a study measures is a choice, not a constant of the trial
runner. Each scorer writes `quality.<name>` (a number in [0, 1], or nothing when it failed)
and its own details (`scores.<name>`) into the trial record. A scorer that needs a model
calls it through `ctx.client`, the same model door the agents use, so its calls are cached
and recorded in cassettes like any agent's. A user's scorer registers the same way from their
own project (`@register_scorer`, or an entry point in group `sorg.scorers`).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sorg.errors import RegistryError
from sorg.registry import Registry, instance, named, origin_of
from sorg.tasks.task import Task

__all__ = ["FunctionScorer", "Score", "ScoreContext", "Scorer", "SCORERS", "register_scorer", "get_scorer"]


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
    #: What an empty answer scores without a call, for a scorer that calls a model (the trial
    #: runner gives it; a deterministic scorer scores the empty text itself).
    floor: float = 0.0

    async def score(self, ctx: ScoreContext) -> Score:
        return self.compute(ctx.task, ctx.answer)

    def compute(self, task: Task, answer: str) -> Score:  # pragma: no cover - interface
        raise NotImplementedError(f"scorer {self.name!r} implements neither score nor compute")


class FunctionScorer(Scorer):
    """A deterministic scorer written as one function `(task, answer) -> Score | float | None`."""

    def __init__(self, fn: Callable[[Task, str], Any], name: str) -> None:
        self.fn = fn
        self.name = name
        self._sorg_definition = fn
        self.__doc__ = fn.__doc__

    def compute(self, task: Task, answer: str) -> Score:
        got = self.fn(task, answer)
        return got if isinstance(got, Score) else Score(None if got is None else float(got))


_WHAT = ("a scorer is a subclass (or instance) of sorg.scoring.Scorer with `compute(task, answer)` or "
         "`async score(ctx)`, or a function `(task, answer) -> Score | float`")


def _as_scorer(obj: Any, name: str, where: str) -> Scorer:
    """The scorer instance `obj` stands for, or a RegistryError naming `where`."""
    inst = instance(obj, Scorer, where, "scorer", _WHAT, wrap=lambda f: FunctionScorer(f, name)
                    if callable(f) and not inspect.iscoroutinefunction(f) else None)
    if type(inst).score is Scorer.score and type(inst).compute is Scorer.compute:
        raise RegistryError(f"{where}: scorer {name!r} ({origin_of(inst)}) defines neither compute nor score")
    return named(inst, name, where)


#: Every registered scorer by name (entry points of group `sorg.scorers` join on first read).
SCORERS: Registry[Scorer] = Registry("scorer", "sorg.scorers", _as_scorer)

S = TypeVar("S")


def register_scorer(obj: Any = None, *, name: str | None = None) -> Any:
    """Register a scorer: `@register_scorer` on a Scorer subclass (named by its `name`), or
    `@register_scorer("name")` on a subclass or a function `(task, answer) -> Score | float`.
    Returns what it decorates, unchanged. RegistryError for a name another definition holds
    (the same definition imported again replaces itself) or an object that is not a scorer.
    """
    if isinstance(obj, str) or obj is None:
        chosen = obj if isinstance(obj, str) else name

        def decorate(target: S) -> S:
            return register_scorer(target, name=chosen)

        return decorate
    module = getattr(obj, "__module__", "?")
    where = f"@register_scorer in {getattr(sys.modules.get(module), '__file__', None) or module}"
    chosen = name or getattr(obj, "name", "") or ("" if isinstance(obj, type) else getattr(obj, "__name__", ""))
    if not chosen:
        raise RegistryError(f"{where}: {origin_of(obj)}: a scorer needs a non-empty `name` "
                            f"(a `name` attribute, or @register_scorer(\"name\"))")
    SCORERS.register(chosen, obj, where)
    return obj


def get_scorer(name: str) -> Scorer:
    """The registered scorer `name`; a KeyError names the known ones."""
    try:
        return SCORERS[name]
    except KeyError:
        raise KeyError(f"unknown scorer {name!r}; known: {', '.join(sorted(SCORERS)) or 'none'}") from None


Compute = Callable[[Task, str], Score]
