"""Synthetic trials shaped like the study's sweep (evals/sweep.py): the protocol sweep's streams
and the scaling sweep's single trials, with known effects. For tests of the study's claims as
code (thresholds, scope), never for their verdicts on real data."""

from __future__ import annotations

import numpy as np

from sorg.record import TrialRecord  # noqa: E402
from tests.fakes.sorg_synth import make_record

EFFECT = {"sequential": 0.12, "coordinator": 0.05, "broadcast": 0.0, "shared": -0.02, "fixed_roles": 0.04,
          "single": -0.05}


def trial(rng: np.random.Generator, *, task: int, protocol: str, n: int, seed: int, stream: str, model: str,
          level: int, position: int = 0, base: float = 0.55) -> TrialRecord:
    q = float(np.clip(base + EFFECT.get(protocol, 0.0) + 0.05 * np.sin(task) + rng.normal(0, 0.03), 0.25, 1.0))
    return make_record(
        task_id=f"t{task:02d}", protocol=protocol, model=model, n_agents=n, seed=seed, level=level,
        quality={"judge_q": q, "coverage": q / 2}, cost_usd=(0.02 if "closed" in model else 0.001) * n,
        roles=tuple(f"{protocol}-r{(task + seed + i) % 9}" for i in range(min(n, 3))),
        abstention_rate=float(rng.uniform(0.3, 0.6)), stream_id=stream, position=position,
        rsi=float(rng.uniform(0, 1)) if position else None,
        prompt_tokens=200 * n + int(rng.integers(0, 50)), completion_tokens=40 * n,
        trial_id=f"t{task}|{protocol}|{model}|n{n}|s{seed}|{stream or 'single'}")


def protocol_sweep(rng: np.random.Generator, protocols, sizes=(4, 8), tasks=16, seeds=3,
                   model: str = "local/smollm2-135m", first_task: int = 0) -> list[TrialRecord]:
    out = []
    for p in protocols:
        for n in sizes:
            for s in range(seeds):
                for t in range(first_task, first_task + tasks):
                    out.append(trial(rng, task=t, protocol=p, n=n, seed=s, stream=f"st{t // 8}-n{n}", model=model,
                                     level=1 + t % 4, position=t % 8))
    return out


def scaling_sweep(rng: np.random.Generator, protocols, sizes=(4, 8, 16, 32, 64, 256), tasks=3,
                  model: str = "local/smollm2-135m") -> list[TrialRecord]:
    return [trial(rng, task=100 + t, protocol=p, n=n, seed=0, stream="", model=model, level=1)
            for p in protocols for n in sizes for t in range(tasks)]


def headline_cell(rng: np.random.Generator, protocols=("sequential", "coordinator"), tasks=4, seeds=3,
                  model: str = "local/smollm2-135m") -> list[TrialRecord]:
    """The headline cell's single trials: level-3 tasks at 16 agents, every seed."""
    return [trial(rng, task=200 + t, protocol=p, n=16, seed=s, stream="", model=model, level=3)
            for p in protocols for s in range(seeds) for t in range(tasks)]
