"""Operating characteristics of the study's claims on simulated worlds: pass rate vs printed power.

Why: a claim is only as good as its behaviour where the truth is known. This replicates the
simulated study's design (evals/sweep.py's `SIM_*` sizes: the protocol sweep's streams and the
scaling sweep) on `sim/paper` (the paper's effects planted) and `sim/null` (no effect), judges
every claim of evals/test_claims.py on each replicate exactly as the plugin does (the claim
functions, then `sorg.claims.session.finalize`: one Holm family), and prints each claim's pass
rate next to the mean power its verdicts printed. Replicate r uses seeds 3r..3r+2, so replicates
are independent draws of the same world. Bounds the issue sets: at the planted effect the pass
rate is within 10 points of the printed power; under the null an effect claim passes at most
alpha + 2 Monte Carlo SE.

    python benchmarks/bench_claims_oc.py --reps 100            # both worlds, the full design
    python benchmarks/bench_claims_oc.py --reps 20 --small     # a quicker, smaller design

Prints a table, then one JSON line (`{"bench": "claims_oc", ...}`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "evals"), str(ROOT)]

from sorg.claims.session import finalize  # noqa: E402
from sorg.results import Trials  # noqa: E402
from sorg.sim import load_world  # noqa: E402
from sorg.sim.run import simulate  # noqa: E402
from sorg.tasks.bank import load_bank  # noqa: E402

import sweep  # noqa: E402


def _effect_claims() -> tuple[str, ...]:
    import test_claims

    return test_claims.EFFECT_CLAIMS


def _claims():
    import test_claims

    return {n: getattr(test_claims, n) for n in dir(test_claims)
            if n.startswith("test_") and getattr(getattr(test_claims, n), "__sorg_claim__", False)}


def replicate(world: str, rep: int, small: bool) -> Trials:
    """One draw of the simulated study's design on `world` (seeds 3 rep .. 3 rep + 2)."""
    w = load_world(world)
    models = w.model_strings()
    per_level = 3 if small else sweep.SIM_TASKS_PER_LEVEL
    n_scale = 5 if small else sweep.SIM_SCALING_TASKS
    bank = load_bank()
    seeds = range(3 * rep, 3 * rep + 3)
    tasks = bank.select(per_level=per_level)
    smallest, *larger = sweep.PROTOCOL_SIZES
    sized = [p for p in sweep.PAPER_AND_CONTROLS if p not in sweep.SIZE_FREE_CONTROLS]
    # as the study: size-free controls (single) once per task and seed, at the smallest size
    streams = [*simulate(models, sweep.PAPER_AND_CONTROLS, [smallest], seeds, tasks, stream_length=sweep.STREAM_LENGTH),
               *simulate(models, sized, larger, seeds, tasks, stream_length=sweep.STREAM_LENGTH)]
    # the headline cell: Sequential and Coordinator on level-3 tasks at 16 agents, single trials
    headline = simulate(models, sweep.HEADLINE_PROTOCOLS, [sweep.HEADLINE_SIZE], seeds,
                        bank.select(levels=sweep.HEADLINE_LEVEL,
                                    per_level=3 if small else sweep.SIM_HEADLINE_TASKS), streams=False)
    sizes = [8, 64, 256] if small else sweep.SCALING_SIZES
    # The scaling sweep is seed 0 by declaration (the claims select it so): a replicate draws its
    # own seed and is relabelled seed 0, so each replicate is a fresh draw of the same cells.
    scaling = simulate(models, sweep.SCALING_PROTOCOLS, sizes, [rep], bank.select(levels=1, per_level=n_scale),
                       streams=False)
    records = list(streams) + list(headline) + [dataclasses.replace(r, seed=0) for r in scaling]
    return Trials(records)


def _judge_rep(job: tuple[str, int, bool]) -> dict[str, tuple[bool | None, float | None]]:
    """One replicate of `world`, judged: claim -> (passed, printed power)."""
    world, rep, small = job
    _setup(world)
    claims = _claims()
    names = list(claims)
    trials = replicate(world, rep, small)
    verdicts = finalize([claims[n](trials) for n in names])
    return {n: (v.passed, v.power if v.power is not None and math.isfinite(v.power) else None)
            for n, v in zip(names, verdicts)}


def _setup(world: str) -> None:
    """The evals' sweep module as a simulated run of `world` sees it (sizes, model roles)."""
    sweep.RUN_MODELS[:] = [f"sim/{world}"]
    sweep.size_for_simulation()
    for role in ("open", "closed", "weak"):
        sweep.MODEL_ROLES[role] = sweep.sim_roles(load_world(world).model_strings(), role)


def _rows(results: list[dict], names: list[str]) -> dict:
    reps = len(results)
    rows = {}
    for n in names:
        passed = sum(r[n][0] is True for r in results)
        powers = [r[n][1] for r in results if r[n][1] is not None]
        rate = passed / reps if reps else 0.0
        se = round(math.sqrt(rate * (1 - rate) / reps), 3) if reps else None
        rows[n] = {"pass_rate": round(rate, 3), "mc_se": se,
                   "printed_power": round(sum(powers) / len(powers), 3) if powers else None,
                   "not_decided": sum(r[n][0] is None for r in results), "effect_claim": n in _effect_claims()}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--worlds", default="paper,null")
    ap.add_argument("--small", action="store_true", help="3 tasks per level, 5 scaling tasks, sizes 8/64/256")
    ap.add_argument("--jobs", type=int, default=1, help="replicates judged in parallel processes")
    ap.add_argument("--partial", default="", help="write the table so far to this JSON file after each replicate")
    args = ap.parse_args()
    worlds = args.worlds.split(",")
    names = list(_claims())
    out: dict = {"bench": "claims_oc", "reps": args.reps, "design": "small" if args.small else "study"}
    t0 = time.process_time()
    results: dict[str, list[dict]] = {w: [] for w in worlds}
    jobs = [(w, rep, args.small) for rep in range(args.reps) for w in worlds]
    import multiprocessing as mp

    with mp.get_context("fork").Pool(args.jobs) if args.jobs > 1 else _Serial() as pool:
        for job, res in zip(jobs, pool.imap(_judge_rep, jobs)):
            results[job[0]].append(res)
            if args.partial:
                Path(args.partial).write_text(json.dumps({w: {"reps": len(results[w]), **_rows(results[w], names)}
                                                          for w in worlds}))
    for w in worlds:
        out[w] = _rows(results[w], names)
    out["cpu_s_controller"] = round(time.process_time() - t0, 1)
    width = max(len(n) for n in names)
    print(f"{'claim':{width}}  " + "  ".join(f"{w:>22}" for w in worlds))
    for n in names:
        cells = []
        for w in worlds:
            r = out[w][n]
            pw = "-" if r["printed_power"] is None else f"{r['printed_power']:.2f}"
            cells.append(f"{r['pass_rate']:>6.2f} (power {pw:>4})")
        print(f"{n:{width}}  " + "  ".join(f"{c:>22}" for c in cells))
    print(json.dumps(out))


class _Serial:
    """A stand-in for a process pool of one: imap in this process."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, fn, jobs):  # noqa: ANN001, ANN201
        return map(fn, jobs)


if __name__ == "__main__":
    main()
