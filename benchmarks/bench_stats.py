"""Benchmark: judge a study-sized set of claims over ~25,000 synthetic trials.

8 protocols x 3 models x 4 team sizes x 52 tasks x 5 seeds = 24,960 trials, with task
difficulty shared across protocols (the cluster effect), protocol and model effects, cost
growing as n**0.4. The claims: the study's headline set plus all 28 pairwise protocol
comparisons (the family Holm must control), then `finalize`. Target: < 10 s on 2 cores.

Run: python benchmarks/bench_stats.py [--jsonl]   (--jsonl also times loading a store)
The last printed line is one JSON object: trials, claims, wall_s (claims + finalize), ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sorg import claims
from sorg.record import TrialRecord
from sorg.results import Trials

PROTOCOLS = {"sequential": 0.10, "coordinator": 0.04, "hierarchical": 0.03, "fixed_roles": 0.05,
             "broadcast": 0.06, "shared": -0.05, "dynamic": 0.02, "single": -0.10}
MODELS = {"closed/big": (0.0, 0.024), "open/mid": (-0.02, 0.001), "open/small": (-0.15, 0.0004)}
SIZES = (4, 8, 64, 256)
N_TASKS, SEEDS = 52, 5


def synth_trials(rng_seed: int = 0) -> list[TrialRecord]:
    """The synthetic study: known effects, task-correlated noise, realistic field values."""
    rng = np.random.default_rng(rng_seed)
    task_q = rng.normal(0.55, 0.15, N_TASKS)
    recs = []
    for ti in range(N_TASKS):
        for proto, pe in PROTOCOLS.items():
            for model, (me, price) in MODELS.items():
                for n in SIZES:
                    noise = rng.normal(0, 0.08, SEEDS)
                    cost_noise = np.exp(rng.normal(0, 0.1, SEEDS))
                    for s in range(SEEDS):
                        q = float(np.clip(task_q[ti] + pe + me + noise[s], 0, 1))
                        roles = tuple(f"{proto[:3]}-role{(ti * 7 + s * 3 + k) % 997}" for k in range(min(n, 8)))
                        recs.append(TrialRecord(
                            trial_id=f"t{ti:03d}|{proto}|{model}|n{n}|s{s}", task_id=f"t{ti:03d}", level=1 + ti % 4,
                            domain=f"d{ti % 6}", protocol=proto, model=model, n_agents=n, seed=s, answer="",
                            quality={"rubric": q}, cost_usd=price * n**0.4 * float(cost_noise[s]),
                            prompt_tokens=200 * n, completion_tokens=40 * n, calls=n, latency_s=0.5,
                            max_prompt_tokens=800, per_agent=(), per_round=(), replies=(),
                            unique_roles=len(set(roles)), roles=roles, role_entropy=1.0,
                            abstention_rate=float(rng.random() < 0.3) * 0.125, hierarchy_depth=1,
                            parse_failure_rate=0.0, sources={"cassette": n},
                            status="ok" if rng.random() > 0.002 else "budget"))
    return recs


def study_claims(t: Trials) -> list[claims.Verdict]:
    """The study's claims (STUDY.md) plus all pairwise protocol comparisons."""
    v = [
        claims.beats(t, "sequential", "coordinator", alpha=0.001),
        claims.spread(t, min_rel_gap=0.2, min_d=0.5),
        claims.beats(t, "sequential", "shared", alpha=0.001),
        *(claims.equivalent(t, "n_agents", 4, 256, margin=0.03, protocol=p) for p in ("sequential", "coordinator", "shared")),
        claims.growth(t, "n_agents", "cost_usd", below=1.0),
        claims.count(t, "unique_roles", at_least=100),
        claims.count(t, "abstention_rate", at_least=0.0),
        claims.beats(t, "sequential", "coordinator", model="closed/big"),
        claims.beats(t, "coordinator", "sequential", model="open/small"),
        claims.ratio(t, ["open/mid"], ["closed/big"], "quality.rubric", at_least=0.95),
        claims.ratio(t, ["closed/big"], ["open/mid"], "cost_usd", at_least=24),
        claims.beats(t, "sequential", "coordinator", model="openai/gpt-5.4"),  # missing: skipped
    ]
    for a, b in itertools.combinations(PROTOCOLS, 2):
        v.append(claims.beats(t, a, b, alpha=0.05))
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jsonl", action="store_true", help="also write and time loading a trials.jsonl store")
    ap.add_argument("--verbose", action="store_true", help="print every verdict's message")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    recs = synth_trials()
    gen_s = time.perf_counter() - t0
    extra: dict = {}
    if args.jsonl:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "trials.jsonl"
            with path.open("w") as fh:
                for r in recs:
                    fh.write(json.dumps(r.to_dict()) + "\n")
            t1 = time.perf_counter()
            Trials.from_jsonl(path)
            extra["load_jsonl_s"] = round(time.perf_counter() - t1, 3)

    t1 = time.perf_counter()
    trials = Trials(recs)
    verdicts = claims.finalize(study_claims(trials))
    wall = time.perf_counter() - t1

    status = {"passed": 0, "failed": 0, "skipped": 0}
    for v in verdicts:
        status["skipped" if v.passed is None else "passed" if v.passed else "failed"] += 1
        if args.verbose:
            print(("PASS " if v.passed else "SKIP " if v.passed is None else "FAIL ") + v.message)
    print(f"{len(recs)} trials, {len(verdicts)} claims judged in {wall:.2f} s (generation {gen_s:.2f} s): {status}",
          file=sys.stderr)
    print(json.dumps({"trials": len(recs), "claims": len(verdicts), "wall_s": round(wall, 3),
                      "generate_s": round(gen_s, 3), **status, **extra}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
