"""Team size from 4 to 256 agents for the three protocols the study's scaling result names.

The study: quality holds from 4 to 256 agents while cost grows sub-linearly. On 2 CPU cores a
large team is slow to record (prompt evaluation runs at about 60 tokens/s per core, and a
256-agent sequential or shared trial is 256-512 calls with prompts near the 2,048-token
context budget: about two hours per trial on one core), so the sweep runs on one level-1
task and one seed per size, and the committed cassettes hold what SCALING_SIZES lists
(the three 256-agent trials took about 3.5 hours to record here). The cells at 4 and 8
agents are shared with `test_protocols.py` (same trial ids, so they replay from the same
cassette entries).
"""

from __future__ import annotations

import pytest

SCALING_PROTOCOLS = ["sequential", "coordinator", "shared"]
#: Every scaled protocol is recorded at these sizes (scripts/record_sweep.py's scaling chunks).
SCALING_SIZES = [4, 8, 16, 32, 64, 256]


def _scaled_trial(sorg_trial, task, protocol, n_agents, model, seed) -> None:
    record = sorg_trial(task, protocol, model, n_agents, seed)
    assert record.status in ("ok", "budget"), record.error
    # Prompts stay bounded however large the team (the context budget is 2048 tokens).
    assert record.max_prompt_tokens <= 4096


@pytest.mark.sorg(protocols=SCALING_PROTOCOLS, agents=SCALING_SIZES, levels=[1],
                  tasks_per_level=1, seeds=1)
def test_scaling(sorg_trial, task, protocol, n_agents, model, seed):
    _scaled_trial(sorg_trial, task, protocol, n_agents, model, seed)
