"""Team size for the paper's four protocols: single trials on the first level-1 tasks, seed 0.

One test per recorded chunk of the scaling sweep (`sweep.CHUNKS`, kind "scaling"). A cell whose
task opens a protocol stream makes the same requests as that stream's first task (empty memory,
same sample identity), so it replays from the same cassette entries.
"""

from __future__ import annotations

from sweep import chunk_tests


def _scaling(sorg_trial, task, protocol, n_agents, model, seed):
    record = sorg_trial(task, protocol, model, n_agents, seed)
    assert record.status in ("ok", "budget"), record.error
    # Prompts stay bounded however large the team (the context budget is 2048 tokens).
    assert record.max_prompt_tokens <= 4096
    # Every answer is one assembly call under the same budget, whatever the team size.
    assert all(r.completion_tokens <= 320 for r in record.replies if r.kind == "assemble")


globals().update(chunk_tests("scaling", _scaling))
