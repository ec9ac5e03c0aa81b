"""The study's protocols on streams of tasks of all four levels (the study's main table).

Each test is one stream: one persistent team works through one task per level (L1..L4), in
level order (two streams per protocol and seed at 4 agents, one at 8), and yields a record per
task. A stream is one test, so `-k`, `--lf` and xdist never split or reorder it, and every
protocol runs the same streams (comparisons stay paired task by task). Only `shared` shows the
team its memory of the earlier tasks.
"""

from __future__ import annotations

import pytest

from sweep import PAPER_AND_CONTROLS, SEEDS, STREAM_LENGTH, STUDY_PROTOCOLS, TASKS_PER_LEVEL


def _check(records) -> None:
    for record in records:
        # A trial cut short by the budget is an incomplete cell (shown so in the report), not a
        # failure; any other error is a real failure of the protocol or the model door.
        assert record.status in ("ok", "budget"), record.error
        for name, value in record.quality.items():
            assert 0.0 <= value <= 1.0, name
        assert record.calls >= 1


@pytest.mark.sorg(protocols=STUDY_PROTOCOLS, agents=[4], stream_length=STREAM_LENGTH, seeds=SEEDS,
                  tasks_per_level=TASKS_PER_LEVEL)
def test_stream_n4(sorg_stream, stream, protocol, n_agents, model, seed):
    _check(sorg_stream(stream, protocol, model, n_agents, seed))


@pytest.mark.sorg(protocols=PAPER_AND_CONTROLS, agents=[8], stream_length=STREAM_LENGTH, seeds=SEEDS)
def test_stream_n8(sorg_stream, stream, protocol, n_agents, model, seed):
    _check(sorg_stream(stream, protocol, model, n_agents, seed))
