"""The eval tests sweep the study's design, and the recording chunks cover exactly that design.

evals/test_protocols.py and evals/test_scaling.py each declare one `@pytest.mark.sorg` sweep
over a design; `cells=sweep.runnable` keeps the cells of the chunks a run declares, and
scripts/record_sweep.py records a chunk's cells (`sweep.Chunk.cells`). If the two drifted apart,
a design cell in no chunk would never be recorded and silently never run, and a chunk cell
outside every design would be recorded for nothing. So: collected with every chunk declared,
the eval tests are the chunks' cells, each once, and as many as the designs have; collected as
the committed recordings stand, a replay asks only for recorded cells; a simulated run collects
every cell at the simulated size.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from sorg.tasks import load_bank
from sorg.trial import stream_name
from tests.evals.study_files import EVALS, ROOT, load

sweep = load("sweep")
SHORT = sweep.MODEL.rsplit("/", 1)[-1]


def _collect(*args: str, chunks: str | None = None) -> Counter:
    """The parameter ids of the eval sweep tests `pytest --collect-only` lists (claims left out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_XDIST"))}
    if chunks is not None:
        env["SORG_STUDY_CHUNKS"] = chunks
    cmd = [sys.executable, "-m", "pytest", "evals/test_protocols.py", "evals/test_scaling.py", "--collect-only",
           "-q", "-p", "no:cacheprovider", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 5), done.stdout[-3000:] + done.stderr[-3000:]
    ids = [line.split("[", 1)[1].rstrip("]") for line in done.stdout.splitlines() if "::test_" in line]
    return Counter(i for i in ids if i != "NOTSET")  # a test with no cell kept: pytest's skipped placeholder


def _cell_ids(chunks, model: str = SHORT) -> Counter:
    """The test ids (`@pytest.mark.sorg`'s) of the chunks' cells, as the eval tests name them."""
    bank = load_bank()
    return Counter(f"{stream_name(st) if c.kind == 'streams' else st[0].id}-{p}-n{n}-s{s}-{model}"
                   for c in chunks for st, p, n, s in c.cells(bank))


def _design_size(module: str, test: str) -> int:
    """The number of cells of an eval test's `@pytest.mark.sorg` design, before `cells=` keeps any."""
    spec = importlib.util.spec_from_file_location(f"evals_{module}", EVALS / f"{module}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    (mark,) = [m for m in getattr(mod, test).pytestmark if m.name == "sorg"]
    kw = mark.kwargs
    tasks = len(load_bank().select(levels=tuple(kw["levels"]), per_level=kw["tasks_per_level"]))
    units = -(-tasks // kw.get("stream_length", 1))  # streams (or single tasks)
    seeds = kw["seeds"] if isinstance(kw["seeds"], int) else len(kw["seeds"])
    return units * len(kw["protocols"]) * len(kw["agents"]) * seeds


def test_the_chunks_are_the_eval_designs_cell_for_cell() -> None:
    collected = _collect(chunks="all")
    assert collected == _cell_ids(sweep.CHUNKS.values())
    assert max(collected.values()) == 1  # no cell in two chunks
    designs = [("test_protocols", "test_protocol_sweep"), ("test_protocols", "test_bio_protocols"),
               ("test_scaling", "test_team_size"), ("test_protocols", "test_headline_cell")]
    # every chunk cell is in a design (collected), and the designs hold no cell beyond the chunks'
    # except the 256-agent tasks the recorded sweep leaves out (`sweep.SIZE.tasks_256`) and the
    # size-free controls beyond the smallest size (`sweep.SIZE_FREE_CONTROLS`: once per task and seed)
    streams = -(-len(load_bank().select(levels=tuple(sweep.LEVELS), per_level=sweep.SIZE.tasks_per_level))
                // sweep.STREAM_LENGTH)
    left_out = (len(sweep.SCALING_PROTOCOLS) * (sweep.SIZE.scaling_tasks - sweep.SIZE.tasks_256)
                + len(sweep.SIZE_FREE_CONTROLS) * (len(sweep.PROTOCOL_SIZES) - 1) * streams * sweep.SEEDS)
    assert sum(_design_size(m, t) for m, t in designs) == sum(collected.values()) + left_out


def test_a_replay_asks_only_for_the_recorded_chunks() -> None:
    book = json.loads((EVALS / "recorded.json").read_text(encoding="utf-8"))
    done = [c for name, c in sweep.CHUNKS.items() if book.get(name, {}).get("complete")]
    assert _collect() == _cell_ids(done)
    part = ["core-n4-s0", "scale-256"]
    assert _collect(chunks=",".join(part)) == _cell_ids(sweep.CHUNKS[n] for n in part)


@pytest.mark.slow  # builds the simulated worlds' collection (a few seconds more)
def test_a_simulated_run_declares_every_cell_at_the_simulated_size() -> None:
    sim = sweep.Size(sweep.SIM_TASKS_PER_LEVEL, sweep.SIM_SCALING_TASKS, sweep.SIM_SCALING_TASKS,
                     sweep.SIM_HEADLINE_TASKS)
    collected = _collect("--sorg-models=sim/paper")
    models = {i.rsplit("-", 1)[1] for i in collected}  # the world's models: open, closed, weak
    assert len(models) > 1
    assert collected == sum((_cell_ids(sweep._chunks(sim).values(), m) for m in models), Counter())
    assert collected.total() > len(models) * _cell_ids(sweep.CHUNKS.values()).total()
