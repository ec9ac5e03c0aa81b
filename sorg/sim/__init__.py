"""Simulated worlds with known truths, reached like any model: `--sorg-models=sim/paper`.

Why sorg ships them: a verdict is only as good as the pipeline that produced it, and nothing but a
world whose truth is known can show that prompts, parsing, protocols, memory, scorers, claims and
report together give the right answer. A world (`sorg.sim.world`) declares its agents' policy and
its judge; its agents (`sorg.sim.agent`) read the prompts sorg's protocols really build and answer
in the real reply formats; its judges (`sorg.sim.judge`) answer the real judge prompt. Runs on a
sim model are labelled simulated in records and reports, and are never a result about a model.

Presets (`sorg/sim/worlds/*.toml`): `paper` (the paper's magnitudes, planted), `null` (no protocol,
size or model effect), `random` (abstention, roles and links are coins), and the judges
`judge-coverage`, `judge-constant`, `judge-counting` for the instrument gate.
"""

from __future__ import annotations

from sorg.sim.backend import find_task, install, sim_call, split_model, use_tasks
from sorg.sim.world import SimModel, World, WorldError, load_world, register_world, world_names
from sorg.sim_defaults import is_simulated

__all__ = ["World", "SimModel", "WorldError", "load_world", "register_world", "world_names", "install",
           "sim_call", "split_model", "find_task", "use_tasks", "is_simulated", "expand_models"]


def expand_models(models: list[str]) -> list[str]:
    """`sim/<world>` -> every model the world declares (`sim/<world>/<model>`); others unchanged."""
    out: list[str] = []
    for m in models:
        parts = m.split("/")
        if parts[0] == "sim" and len(parts) == 2:
            out.extend(load_world(parts[1]).model_strings())
        else:
            out.append(m)
    return out
