"""Run a design on a simulated world outside pytest: for tests, benchmarks and notebooks.

Why beside the plugin: an operating-characteristics study replicates a design hundreds of times
(`benchmarks/bench_claims_oc.py`), and a unit test wants a small design in a few CPU seconds;
neither needs pytest's collection, reports or xdist. The trials are made exactly as the plugin
makes them (`sorg.trial.run_stream` through a `ModelClient`), so a claim judged on them is judged
on the same records; nothing is stored (a simulated reply is never recorded).
"""

from __future__ import annotations

from collections.abc import Sequence

from sorg.model.client import ModelClient
from sorg.record import TrialRecord
from sorg.results import Trials
from sorg.tasks.bank import load_bank, stream_order
from sorg.tasks.task import Task
from sorg.trial import run_stream

__all__ = ["simulate", "study_tasks"]


def study_tasks(per_level: int = 4, levels: Sequence[int] = (1, 2, 3, 4)) -> list[Task]:
    """The first `per_level` packaged tasks of each level (the study's stream design)."""
    return load_bank().select(levels=tuple(levels), per_level=per_level)


def simulate(models: Sequence[str], protocols: Sequence[str], sizes: Sequence[int], seeds: Sequence[int],
             tasks: Sequence[Task], *, stream_length: int = 8, streams: bool = True,
             scorers: Sequence[str] = ("coverage", "judge_q")) -> Trials:
    """Every cell of models x protocols x sizes x seeds on `tasks`, as the study runs them.

    `streams=True`: the tasks are cut into streams of `stream_length` in the study's order (each a
    persistent team, so Shared has its memory); False: each task is a trial of its own.
    """
    client = ModelClient(cassette_dir=None, cache_dir=None)
    ordered = stream_order(list(tasks)) if streams else list(tasks)
    chunks = ([ordered[i:i + stream_length] for i in range(0, len(ordered), stream_length)] if streams
              else [[t] for t in ordered])
    records: list[TrialRecord] = []
    for model in models:
        for protocol in protocols:
            for n in sizes:
                for seed in seeds:
                    for chunk in chunks:  # a single trial is a stream of one (sorg.trial)
                        records.extend(run_stream(chunk, protocol, model, n, seed, client=client, scorers=scorers))
    return Trials(records)
