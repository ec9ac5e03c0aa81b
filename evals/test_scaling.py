"""Team size for the paper's four protocols: single trials on the first level-1 tasks, seed 0.

A cell whose task opens a protocol stream makes the same requests as that stream's first task
(empty memory, same sample identity), so it replays from the same cassette entries.
`cells=sweep.runnable` keeps the cells this run may ask for: the recorded ones (at 256 agents
only the first task was recorded), or every cell on simulated models (see evals/sweep.py).
"""

from __future__ import annotations

import pytest

import sweep
from sweep import SCALING_PROTOCOLS, SCALING_SIZES


@pytest.mark.sorg(protocols=SCALING_PROTOCOLS, agents=SCALING_SIZES, levels=[1],
                  tasks_per_level=sweep.SIZE.scaling_tasks, seeds=[0], cells=sweep.runnable)
def test_team_size(sorg_trial, task, protocol, n_agents, model, seed):
    record = sorg_trial(task, protocol, model, n_agents, seed)
    assert record.status in ("ok", "budget"), record.error
    # Prompts stay bounded however large the team (the context budget is 2048 tokens).
    assert record.max_prompt_tokens <= 4096
    # The paper's call counts, whatever the team size: only the Coordinator synthesises (N + 1).
    calls = {"coordinator": n_agents + 1, "sequential": n_agents, "broadcast": 2 * n_agents, "shared": n_agents}
    assert record.status != "ok" or record.calls == calls[protocol]
    # Scorers see the bounded view, never the raw answer.
    assert record.scored_chars <= 4000 + 2 * record.answer.count("\n\n")
