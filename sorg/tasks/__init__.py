"""The task bank: missions at four complexity levels, and the programmatic rubric scorer.

Tasks are data (``sorg/tasks/bank/*.json``, validated against ``schema.json``); the rubric
turns any answer into a deterministic quality in [0, 1]. Nothing here imports a model
library, so scoring cassette-replayed trials needs no litellm.
"""

from sorg.tasks.bank import Bank, load_bank
from sorg.tasks.levels import LEVELS, level_problems
from sorg.tasks.rubric import ItemResult, RubricResult, score_details, score_rubric
from sorg.tasks.task import Constraint, Element, Gap, Rubric, Stakeholder, Task

__all__ = [
    "Bank",
    "Constraint",
    "Element",
    "Gap",
    "ItemResult",
    "LEVELS",
    "Rubric",
    "RubricResult",
    "Stakeholder",
    "Task",
    "level_problems",
    "load_bank",
    "score_details",
    "score_rubric",
]
