"""The study's sweep, declared once: its design, the chunks it is recorded in, and what each claim is about.

The experiments are the eval tests (evals/test_protocols.py, evals/test_scaling.py): each is one
`@pytest.mark.sorg` sweep over the design below (protocols x team sizes x tasks x seeds), with
`cells=runnable` keeping the cells this run may ask for.

Why chunks: recording the whole sweep on the embedded model takes about ten hours on 2 cores,
so it is recorded chunk by chunk (`scripts/record_sweep.py --chunk NAME`, resumable, one
cassette file per chunk). A chunk is a block of the design's cells: protocols x team sizes x
tasks x seeds (`Chunk.cells`); together the chunks cover each eval's design exactly
(tests/evals/test_study_design.py). A run asks only for the cells of the chunks it declares: the
recorded ones (`evals/recorded.json`, written by the recording script when a chunk is complete),
so a replay never asks for a recording that is not there, and a claim whose trials lie in a
chunk not yet recorded is skipped naming that chunk (`missing`). `SORG_STUDY_CHUNKS=all` (or a
comma list) declares chunks whether recorded or not: for running the study live against a model
you have. A run on simulated models declares every chunk, sized by `size_for_simulation`.

Claims select their trials by design (protocols, team sizes, levels, streams), never by which
eval file produced them, so adding an eval file or a protocol changes nothing they see.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: The model whose cassettes we commit.
MODEL = "local/smollm2-135m"
#: The paper's four evaluated protocols.
PAPER = ["coordinator", "sequential", "broadcast", "shared"]
#: The four bio-inspired protocols, as we define them (see each module's docstring).
BIO = ["stigmergic", "ripple", "morphogenetic", "clonal"]
#: The controls the paper's claims need.
CONTROLS = ["fixed_roles", "single"]
STUDY_PROTOCOLS = PAPER + BIO + CONTROLS
PAPER_AND_CONTROLS = PAPER + CONTROLS

#: The paper's headline condition (Table IV): Sequential against Coordinator at level 3 with 16
#: agents, single trials (neither protocol has memory), every seed.
HEADLINE_PROTOCOLS = ["sequential", "coordinator"]
HEADLINE_LEVEL, HEADLINE_SIZE = 3, 16
#: The controls whose team size changes nothing (`single`: one agent writes the answer) run once
#: per task and seed, at the smallest size of the protocol sweep, never once per size.
SIZE_FREE_CONTROLS = ["single"]
#: The protocol sweep: streams of 8 tasks (L1..L4 twice) over 4 tasks per level, 3 seeds.
LEVELS = [1, 2, 3, 4]
STREAM_LENGTH = 8
TASKS_PER_LEVEL = 4
SEEDS = 3
PROTOCOL_SIZES = [4, 8]
#: The bio-inspired protocols are swept at the smaller team size only.
BIO_SIZES = [4]
#: The scaling sweep: single trials on the first level-1 tasks (the cheapest answers, so the
#: team size, not the task, drives the cost), one seed.
SCALING_PROTOCOLS = PAPER
SCALING_SIZES = [4, 8, 16, 32, 64, 256]
SCALING_TASKS = 3

RECORDED_FILE = Path(__file__).with_name("recorded.json")
#: The kinds of chunk: the protocol sweep's streams, the scaling sweep, the headline cell.
KINDS = ("streams", "scaling", "headline")


@dataclass
class Size:
    """How many tasks each sweep runs: the recorded study's, or a simulated world's
    (`size_for_simulation`). The eval files read it when pytest imports them, after
    evals/conftest.py has sized the run."""

    tasks_per_level: int  # the protocol sweeps: tasks per level, cut into streams of STREAM_LENGTH
    scaling_tasks: int  # the scaling sweep: level-1 tasks at each team size
    tasks_256: int  # of those, the ones run at 256 agents (the costliest cells)
    headline_tasks: int  # level-3 tasks of the headline cell (16 agents)


#: The sweep's size in this run.
SIZE = Size(TASKS_PER_LEVEL, SCALING_TASKS, 1, TASKS_PER_LEVEL)


@dataclass(frozen=True)
class Chunk:
    """A block of the sweep recorded as one resumable unit (one cassette file)."""

    name: str
    kind: str  # "streams" (the protocol sweep) | "scaling" | "headline" (single trials)
    protocols: tuple[str, ...]
    sizes: tuple[int, ...]
    levels: tuple[int, ...]
    per_level: int
    stream_length: int
    seeds: tuple[int, ...]

    def cells(self, bank: Any) -> list[tuple[tuple[Any, ...], str, int, int]]:
        """The chunk's (stream of tasks, protocol, n_agents, seed) cells in `bank`, in the order
        they are recorded (a single trial is a stream of one): the tasks selected as
        `@pytest.mark.sorg(levels=..., tasks_per_level=...)` selects them, in stream order."""
        from sorg.tasks.bank import stream_order

        tasks = stream_order(bank.select(levels=self.levels, per_level=self.per_level))
        streams = [tuple(tasks[i:i + self.stream_length]) for i in range(0, len(tasks), self.stream_length)]
        return [(st, p, n, s) for st in streams for n in self.sizes for s in self.seeds for p in self.protocols]


def _scaling(name: str, sizes: tuple[int, ...], tasks: int = SCALING_TASKS) -> Chunk:
    return Chunk(name, "scaling", tuple(SCALING_PROTOCOLS), sizes, (1,), tasks, 1, (0,))


def _chunks(size: Size) -> dict[str, Chunk]:
    """Every chunk, in the order they are recorded (cheapest evidence for the most claims first). The
    protocol sweep is cut by seed: each seed is a complete replicate of every stream, so a sweep
    recorded up to any seed is a balanced design the claims can judge."""
    def streams(name: str, protocols: list[str], n: int, seeds: tuple[int, ...]) -> Chunk:
        return Chunk(name, "streams", tuple(protocols), (n,), tuple(LEVELS), size.tasks_per_level, STREAM_LENGTH,
                     seeds)

    def scaling(name: str, sizes: tuple[int, ...], tasks: int) -> Chunk:
        return Chunk(name, "scaling", tuple(SCALING_PROTOCOLS), sizes, (1,), tasks, 1, (0,))

    sized = [p for p in PAPER_AND_CONTROLS if p not in SIZE_FREE_CONTROLS]
    return {c.name: c for c in (
        *(streams(f"core-n4-s{s}", PAPER_AND_CONTROLS, 4, (s,)) for s in range(SEEDS)),
        *(streams(f"core-n8-s{s}", sized, 8, (s,)) for s in range(SEEDS)),
        Chunk("head-l3-n16", "headline", tuple(HEADLINE_PROTOCOLS), (HEADLINE_SIZE,), (HEADLINE_LEVEL,),
              size.headline_tasks, 1, tuple(range(SEEDS))),
        scaling("scale-4-16", (4, 8, 16), size.scaling_tasks),
        scaling("scale-32", (32,), size.scaling_tasks),
        scaling("scale-64", (64,), size.scaling_tasks),
        scaling("scale-256", (256,), size.tasks_256),
        *(streams(f"bio-n{n}", BIO, n, tuple(range(SEEDS))) for n in BIO_SIZES),
    )}


#: The recorded study's chunks (the committed cassettes hold exactly these cells).
CHUNKS: dict[str, Chunk] = _chunks(SIZE)
#: A simulated world needs no recording, so its sweep is sized so every claim can be decided
#: (exact tests need 5+ tasks at alpha 0.05, and the headline's 0.001 after Holm over the
#: claims about 15): 6 tasks per level in the protocol sweep, 8 level-1 tasks at every team size,
#: and the headline cell on all 12 level-3 tasks of the bank.
SIM_TASKS_PER_LEVEL, SIM_SCALING_TASKS, SIM_HEADLINE_TASKS = 6, 8, 12
#: The task bank the run's sweep selects from (`--sorg-bank`, set by evals/conftest.py); None:
#: the packaged bank, which the committed cassettes were recorded on.
RUN_BANK: list[str | None] = [None]


def size_for_simulation() -> None:
    """Size the sweep for a simulated world (`SIM_*`): `SIZE` and the chunks in place of the
    recorded ones."""
    SIZE.tasks_per_level, SIZE.scaling_tasks, SIZE.tasks_256 = SIM_TASKS_PER_LEVEL, SIM_SCALING_TASKS, SIM_SCALING_TASKS
    SIZE.headline_tasks = SIM_HEADLINE_TASKS
    CHUNKS.clear()
    CHUNKS.update(_chunks(SIZE))


def recorded(path: Path = RECORDED_FILE) -> dict[str, dict]:
    """What `evals/recorded.json` says was recorded: chunk name -> its recording runs."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); it is written by scripts/record_sweep.py") from exc
    unknown = sorted(set(data) - set(CHUNKS))
    if unknown:
        raise ValueError(f"{path}: unknown chunk(s) {unknown}; evals/sweep.py declares {sorted(CHUNKS)}")
    return data


def declared(kind: str) -> list[Chunk]:
    """The chunks of `kind` whose cells the eval tests run (`runnable`): the recorded ones, or
    those that SORG_STUDY_CHUNKS names ("all" or a comma list). A run on simulated models only
    (`--sorg-models=sim/paper`) declares every chunk: a simulated world needs no recording."""
    env = os.environ.get("SORG_STUDY_CHUNKS", "").strip()
    if not env and simulated_run():
        env = "all"
    if env:
        names = set(CHUNKS) if env == "all" else {x.strip() for x in env.split(",") if x.strip()}
        bad = sorted(names - set(CHUNKS))
        if bad:
            raise ValueError(f"SORG_STUDY_CHUNKS names unknown chunk(s) {bad}; known: {sorted(CHUNKS)}")
    else:
        names = {n for n, runs in recorded().items() if runs.get("complete")}
    return [c for c in CHUNKS.values() if c.kind == kind and c.name in names]


def missing(**design: Any) -> list[str]:
    """Chunks not declared in this run whose cells match `design` (protocol=..., n_agents=...):
    what a claim over that design would still need recorded."""
    names = {c.name for kind in KINDS for c in declared(kind)}
    out = []
    for c in CHUNKS.values():
        if c.name in names:
            continue
        prot = design.get("protocol")
        size = design.get("n_agents")
        kind = design.get("kind")
        if kind is not None and c.kind != kind:
            continue
        if prot is not None and not set([prot] if isinstance(prot, str) else prot) & set(c.protocols):
            continue
        if size is not None and not set([size] if isinstance(size, int) else size) & set(c.sizes):
            continue
        out.append(c.name)
    return out


def runnable(cell: Mapping[str, Any]) -> bool:
    """`@pytest.mark.sorg(cells=runnable)`: whether an eval's design cell lies in a chunk this
    run declares (`declared`), so a replay asks only for what was recorded. `cell` holds the
    test's sweep arguments (`stream` or `task`, `protocol`, `n_agents`, `seed`, `model`)."""
    tasks = cell["stream"] if "stream" in cell else (cell["task"],)
    key = (tuple(t.id for t in tasks), cell["protocol"], cell["n_agents"], cell["seed"])
    return key in _cells_of(tuple(c for kind in KINDS for c in declared(kind)), RUN_BANK[0])


@functools.lru_cache(maxsize=8)
def _cells_of(chunks: tuple[Chunk, ...], bank_path: str | None) -> frozenset[tuple]:
    """The (task ids, protocol, n_agents, seed) cells of `chunks` (once per collection, not per cell)."""
    from sorg.tasks import load_bank

    bank = load_bank(bank_path)
    return frozenset((tuple(t.id for t in st), p, n, s) for c in chunks for st, p, n, s in c.cells(bank))


#: Which models of a run are open, closed or weak (set from evals/conftest.py's options).
MODEL_ROLES: dict[str, list[str]] = {"open": [MODEL], "closed": [], "weak": [MODEL]}
#: The models of this run (`--sorg-models`, set by evals/conftest.py at configure time).
RUN_MODELS: list[str] = [MODEL]


def simulated_run() -> bool:
    """Whether every model of the run is a simulated world (`sim/...`): its verdicts are checks
    of sorg against planted truths, never findings about a model."""
    return bool(RUN_MODELS) and all(m.split("/", 1)[0] == "sim" for m in RUN_MODELS)


def sim_roles(models: list[str], role: str) -> list[str]:
    """The simulated models of `models` whose world declares `role` ("open", "closed", "weak"):
    on a simulated run the study's model roles come from the world, not from options."""
    from sorg.sim import split_model

    out = []
    for m in models:
        world, name = split_model(m)
        if role in world.model(name).roles:
            out.append(m)
    return out


def on_recorded_model(reason: str) -> pytest.MarkDecorator:
    """`xfail(strict=True)` for what the committed SmolLM2 recordings show, on runs of that
    model only: on a simulated world or another model the claim is judged plainly."""
    return pytest.mark.xfail(MODEL in RUN_MODELS, strict=True, reason=reason)
