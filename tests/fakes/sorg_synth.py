"""Synthetic trial records for the claims / stats / results tests (`from tests.fakes.sorg_synth
import make_record`).

Quality = task difficulty (shared by every protocol: the cluster effect) + protocol effect +
noise; cost grows as n_agents**cost_exp. Known inputs give known answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from sorg.record import TrialRecord


def make_record(
    *,
    task_id: str = "t0",
    protocol: str = "sequential",
    model: str = "fake/m",
    n_agents: int = 4,
    seed: int = 0,
    quality: Mapping[str, float] | None = None,
    cost_usd: float = 0.01,
    status: str = "ok",
    roles: tuple[str, ...] = (),
    abstention_rate: float = 0.0,
    level: int = 1,
    **kw,
) -> TrialRecord:
    """One TrialRecord with only what claims read filled in meaningfully."""
    q = dict(quality) if quality is not None else {"judge_q": 0.5}
    return TrialRecord(
        trial_id=kw.pop("trial_id", f"{task_id}|{protocol}|{model}|n{n_agents}|s{seed}"),
        task_id=task_id, level=level, domain=kw.pop("domain", "d"), protocol=protocol, model=model,
        n_agents=n_agents, seed=seed, answer="", quality=q, cost_usd=cost_usd,
        prompt_tokens=kw.pop("prompt_tokens", 100), completion_tokens=kw.pop("completion_tokens", 20),
        calls=n_agents, latency_s=0.1, max_prompt_tokens=100, per_agent=(), per_round=(), replies=(),
        unique_roles=len(set(roles)), roles=roles, role_entropy=0.0, abstention_rate=abstention_rate,
        hierarchy_depth=0, parse_failure_rate=0.0, sources={"fake": n_agents}, status=status, **kw,
    )


def synth(
    *,
    n_tasks: int = 12,
    protocols: Mapping[str, float] = {"sequential": 0.1, "coordinator": 0.0},
    models: Mapping[str, float] = {"fake/m": 0.0},
    sizes: Iterable[int] = (4,),
    seeds: int = 3,
    task_sd: float = 0.15,
    noise: float = 0.05,
    size_effect: float = 0.0,
    cost_exp: float = 0.5,
    model_cost: Mapping[str, float] | None = None,
    rng_seed: int = 0,
) -> list[TrialRecord]:
    """A full factorial of synthetic trials with known effects."""
    rng = np.random.default_rng(rng_seed)
    recs = []
    diff = rng.normal(0.5, task_sd, n_tasks)
    for ti in range(n_tasks):
        for p, pe in protocols.items():
            for m, me in models.items():
                for n in sizes:
                    for s in range(seeds):
                        q = diff[ti] + pe + me + size_effect * np.log2(n / 4) + rng.normal(0, noise)
                        c = (model_cost or {}).get(m, 0.001) * n**cost_exp * float(np.exp(rng.normal(0, 0.05)))
                        recs.append(make_record(task_id=f"t{ti:03d}", protocol=p, model=m, n_agents=n, seed=s,
                                                quality={"judge_q": float(q)}, cost_usd=c, level=1 + ti % 4,
                                                roles=(f"role{(ti + s) % 7}", f"{p}-r{n % 5}"),
                                                abstention_rate=0.1 if (ti + s) % 3 == 0 else 0.0))
    return recs
