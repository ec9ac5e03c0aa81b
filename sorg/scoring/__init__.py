"""Scorers: the deterministic coverage scorer and the paper's judge Q, in one registry.

`sorg.scoring.SCORERS` maps a name to a scorer; `--sorg-scorers` picks which run. Importing
this package registers both, and the judge's opt-in variants (`sorg.scoring.judge_variants`);
no import loads a model library: a judge reaches its model through the model door only when
it scores.
"""

from sorg.scoring import (
    coverage,  # noqa: E402,F401  (registers `coverage`)
    judge_q,  # noqa: E402,F401  (registers `judge_q`)
    judge_variants,  # noqa: E402,F401  (registers the opt-in `judge_q_shuffled`, `judge_q_dims`)
)
from sorg.scoring.base import SCORERS, Score, ScoreContext, Scorer, get_scorer, register_scorer

__all__ = ["SCORERS", "Score", "ScoreContext", "Scorer", "get_scorer", "register_scorer"]
