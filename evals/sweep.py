"""The study's sweep, declared once: the chunks it is recorded in, and what each claim is about.

Why chunks: recording the whole sweep on the embedded model takes about ten hours on 2 cores,
so it is recorded chunk by chunk (`scripts/record_sweep.py --chunk NAME`, resumable, one
cassette file per chunk). A chunk is a block of cells: protocols x team sizes x tasks x seeds.
The eval files declare one test per *recorded* chunk (`evals/recorded.json`, written by the
recording script when a chunk is complete), so a replay never asks for a recording that is not
there, and a claim whose trials lie in a chunk not yet recorded is skipped naming that chunk.
`SORG_STUDY_CHUNKS=all` (or a comma list) declares chunks whether recorded or not: for running
the study live against a model you have.

Claims select their trials by design (protocols, team sizes, levels, streams), never by which
eval file produced them, so adding an eval file or a protocol changes nothing they see.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
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

#: The protocol sweep: streams of 8 tasks (L1..L4 twice) over 4 tasks per level, 3 seeds.
STREAM_LENGTH = 8
TASKS_PER_LEVEL = 4
SEEDS = 3
PROTOCOL_SIZES = [4, 8]
#: The scaling sweep: single trials on the first level-1 tasks (the cheapest answers, so the
#: team size, not the task, drives the cost), one seed.
SCALING_PROTOCOLS = PAPER
SCALING_SIZES = [4, 8, 16, 32, 64, 256]
SCALING_TASKS = 3

RECORDED_FILE = Path(__file__).with_name("recorded.json")


@dataclass(frozen=True)
class Chunk:
    """A block of the sweep recorded as one resumable unit (one cassette file)."""

    name: str
    kind: str  # "streams" (the protocol sweep) | "scaling" (single trials)
    protocols: tuple[str, ...]
    sizes: tuple[int, ...]
    levels: tuple[int, ...]
    per_level: int
    stream_length: int
    seeds: tuple[int, ...]

    @property
    def test_name(self) -> str:
        """The name of the eval test that sweeps this chunk: `core-n4-s0` -> `test_core_n4_s0`."""
        return "test_" + self.name.replace("-", "_")

    def mark(self) -> pytest.MarkDecorator:
        """The `sorg` marker that makes a test sweep exactly this chunk's cells."""
        kw: dict[str, Any] = dict(protocols=list(self.protocols), agents=list(self.sizes), levels=list(self.levels),
                                  tasks_per_level=self.per_level, seeds=list(self.seeds))
        if self.kind == "streams":
            kw["stream_length"] = self.stream_length
        return pytest.mark.sorg(**kw)


def _scaling(name: str, sizes: tuple[int, ...], tasks: int = SCALING_TASKS) -> Chunk:
    return Chunk(name, "scaling", tuple(SCALING_PROTOCOLS), sizes, (1,), tasks, 1, (0,))


def _chunks(per_level: int, scaling_tasks: int, tasks_256: int) -> dict[str, Chunk]:
    """Every chunk, in the order they are recorded (cheapest evidence for the most claims first). The
    protocol sweep is cut by seed: each seed is a complete replicate of every stream, so a sweep
    recorded up to any seed is a balanced design the claims can judge."""
    def streams(name: str, protocols: list[str], size: int, seeds: tuple[int, ...]) -> Chunk:
        return Chunk(name, "streams", tuple(protocols), (size,), (1, 2, 3, 4), per_level, STREAM_LENGTH, seeds)
    return {c.name: c for c in (
        *(streams(f"core-n4-s{s}", PAPER_AND_CONTROLS, 4, (s,)) for s in range(SEEDS)),
        *(streams(f"core-n8-s{s}", PAPER_AND_CONTROLS, 8, (s,)) for s in range(SEEDS)),
        _scaling("scale-4-16", (4, 8, 16), scaling_tasks),
        _scaling("scale-32", (32,), scaling_tasks),
        _scaling("scale-64", (64,), scaling_tasks),
        _scaling("scale-256", (256,), tasks=tasks_256),
        streams("bio-n4", BIO, 4, tuple(range(SEEDS))),
    )}


#: The recorded study's chunks (the committed cassettes hold exactly these cells).
CHUNKS: dict[str, Chunk] = _chunks(TASKS_PER_LEVEL, SCALING_TASKS, 1)
#: A simulated world needs no recording, so its sweep is sized so every claim can be decided
#: (exact tests need 5+ tasks at alpha 0.05, and the headline's 0.001 after Holm over the
#: claims about 15): 6 tasks per level in the protocol sweep, 8 level-1 tasks at every team size.
SIM_TASKS_PER_LEVEL, SIM_SCALING_TASKS = 6, 8


def size_for_simulation() -> None:
    """Declare the simulated study's chunks (`SIM_*`) in place of the recorded ones."""
    CHUNKS.clear()
    CHUNKS.update(_chunks(SIM_TASKS_PER_LEVEL, SIM_SCALING_TASKS, SIM_SCALING_TASKS))


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
    """The chunks of `kind` the evals declare tests for: the recorded ones, or those that
    SORG_STUDY_CHUNKS names ("all" or a comma list). A run on simulated models only
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
    names = {c.name for kind in ("streams", "scaling") for c in declared(kind)}
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


def chunk_tests(kind: str, body: Callable[..., None]) -> dict[str, Callable[..., None]]:
    """One test function per declared chunk of `kind`, named `test_<chunk>`, each marked to
    sweep that chunk's cells and running `body` (the eval file puts them in its namespace)."""
    out = {}
    for chunk in declared(kind):
        fn = _copy(body, chunk.test_name)
        out[fn.__name__] = chunk.mark()(fn)
    return out


def _copy(fn: Callable[..., None], name: str) -> Callable[..., None]:
    import functools
    import types

    new = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    functools.update_wrapper(new, fn, assigned=("__module__", "__doc__", "__annotations__"), updated=())
    new.__qualname__ = name
    return new


#: Which models of a run are open, closed or weak (set from evals/conftest.py's options).
MODEL_ROLES: dict[str, list[str]] = {"open": [MODEL], "closed": [], "weak": [MODEL]}
#: The models of this run (`--sorg-models`, set by evals/conftest.py at configure time).
RUN_MODELS: list[str] = [MODEL]


def simulated_run() -> bool:
    """Whether every model of the run is a simulated world (`sim/...`): its verdicts are checks
    of sorg against planted truths, never findings about a model."""
    return bool(RUN_MODELS) and all(m.split("/", 1)[0] == "sim" for m in RUN_MODELS)


def on_recorded_model(reason: str) -> pytest.MarkDecorator:
    """`xfail(strict=True)` for what the committed SmolLM2 recordings show, on runs of that
    model only: on a simulated world or another model the claim is judged plainly."""
    return pytest.mark.xfail(MODEL in RUN_MODELS, strict=True, reason=reason)
