"""What a simulated world's models read where a run does not say (kept out of `sorg.sim`, which
imports the trial runner, so the runner can ask without a cycle).

Why they differ from the embedded model's: a simulated world stands for the paper's models, which
read far more than SmolLM2's 2,048 tokens. Run with the embedded model's context, the simulated
Coordinator's synthesis at 256 agents saw only the newest ~80 of 255 contributions and "Q holds
from 64 to 256 agents" failed at the paper's own truth: a limit of the small model, planted into
a world that does not have it. A run can still set either (`--sorg-context-tokens`,
`--sorg-view-chars`).
"""

from __future__ import annotations

#: The context of a simulated world's models, in tokens (the paper's models read at least this).
SIM_CONTEXT_TOKENS = 32768
#: The view's budget for a simulated judge: it has no context to fit, so it reads any answer whole.
SIM_VIEW_CHARS = 1_000_000


def is_simulated(model: str) -> bool:
    """Whether `model` names a simulated world (its results are never a finding about a model)."""
    return model.split("/", 1)[0] == "sim"
