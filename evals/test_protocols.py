"""The study's protocols on streams of tasks of all four levels (the study's main table).

Each case is one stream: one persistent team working through 8 tasks (L1..L4 twice), yielding a
record per task. A stream is one test, so `-k`, `--lf` and xdist never split or reorder it, and
every protocol runs the same streams (comparisons stay paired task by task). Only `shared`
shows the team its memory of the earlier tasks.

`cells=sweep.runnable` keeps the cells this run may ask for: those recorded
(evals/recorded.json), or every cell on simulated models (see evals/sweep.py).
"""

from __future__ import annotations

import pytest

import sweep
from sweep import (
    BIO,
    BIO_SIZES,
    CONTROLS,
    HEADLINE_LEVEL,
    HEADLINE_PROTOCOLS,
    HEADLINE_SIZE,
    LEVELS,
    PAPER,
    PROTOCOL_SIZES,
    SEEDS,
    STREAM_LENGTH,
)


def _check(records) -> None:
    for record in records:
        # A trial cut short by the budget is an incomplete cell (shown so in the report), not a
        # failure; any other error is a real failure of the protocol or the model door.
        assert record.status in ("ok", "budget"), record.error
        for name, value in record.quality.items():
            assert 0.0 <= value <= 1.0, name
        assert record.calls >= 1


@pytest.mark.sorg(protocols=PAPER + CONTROLS, agents=PROTOCOL_SIZES, levels=LEVELS,
                  tasks_per_level=sweep.SIZE.tasks_per_level, stream_length=STREAM_LENGTH, seeds=SEEDS,
                  cells=sweep.runnable)
def test_protocol_sweep(sorg_stream, stream, protocol, n_agents, model, seed):
    """The paper's four protocols and the controls, at 4 and 8 agents."""
    _check(sorg_stream(stream, protocol, model, n_agents, seed))


@pytest.mark.sorg(protocols=BIO, agents=BIO_SIZES, levels=LEVELS,
                  tasks_per_level=sweep.SIZE.tasks_per_level, stream_length=STREAM_LENGTH, seeds=SEEDS,
                  cells=sweep.runnable)
def test_bio_protocols(sorg_stream, stream, protocol, n_agents, model, seed):
    """The four bio-inspired protocols, at 4 agents."""
    _check(sorg_stream(stream, protocol, model, n_agents, seed))


@pytest.mark.sorg(protocols=HEADLINE_PROTOCOLS, agents=[HEADLINE_SIZE], levels=[HEADLINE_LEVEL],
                  tasks_per_level=sweep.SIZE.headline_tasks, seeds=SEEDS, cells=sweep.runnable)
def test_headline_cell(sorg_trial, task, protocol, n_agents, model, seed):
    """The paper's headline condition: Sequential and Coordinator on level-3 tasks at 16 agents."""
    _check([sorg_trial(task, protocol, model, n_agents, seed)])
