"""The study's protocols on streams of tasks of all four levels (the study's main table).

One test per recorded chunk of the protocol sweep (`sweep.CHUNKS`, kind "streams"): each
parametrized case is one stream, one persistent team working through 8 tasks (L1..L4 twice) and
yielding a record per task. A stream is one test, so `-k`, `--lf` and xdist never split or
reorder it, and every protocol runs the same streams (comparisons stay paired task by task).
Only `shared` shows the team its memory of the earlier tasks.
"""

from __future__ import annotations

from sweep import chunk_tests


def _check(records) -> None:
    for record in records:
        # A trial cut short by the budget is an incomplete cell (shown so in the report), not a
        # failure; any other error is a real failure of the protocol or the model door.
        assert record.status in ("ok", "budget"), record.error
        for name, value in record.quality.items():
            assert 0.0 <= value <= 1.0, name
        assert record.calls >= 1


def _stream(sorg_stream, stream, protocol, n_agents, model, seed):
    _check(sorg_stream(stream, protocol, model, n_agents, seed))


globals().update(chunk_tests("streams", _stream))
