"""Benchmark: judge study-sized and paper-sized sets of claims, and simulate their nulls.

1. The study: 8 protocols x 3 models x 4 team sizes x 52 tasks x 5 seeds = 24,960 trials,
   the headline claims plus all 28 pairwise protocol comparisons, then `finalize`.
2. Paper scale: 100,000 trials over 25,000 tasks; every claim kind timed (CPU seconds) and
   its peak memory traced. Target: each claim < 5 s and < 500 MB.
3. The null simulation (tests/claims/sorg_nullsim.py): each claim kind's false-positive rate
   at nominal 5% with 4, 12 and 48 tasks under task heterogeneity, and CI coverage.
4. Issue 27's shapes, the mixed-alpha family, printed vs observed power, and (stats_checks.py)
   the reachability counts, spread's power, and the bounded-mean test against the mean test.

Run: python benchmarks/bench_stats.py [--jsonl] [--reps N]
The last printed line is one JSON object: trials, claims, wall_s, claims_100k_max_s,
claims_100k_peak_mb, null_rejection_max, null (the table), ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "claims"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sorg import claims, stats
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
                            quality={"judge_q": q}, cost_usd=price * n**0.4 * float(cost_noise[s]),
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
        *(claims.equivalent(t, "n_agents", 4, 256, margin=0.03, protocol=p)
          for p in ("sequential", "coordinator", "shared")),
        claims.growth(t, "n_agents", "cost_usd", below=1.0),
        claims.count(t, "unique_roles", at_least=100),
        claims.count(t, "abstention_rate", at_least=0.0),
        claims.beats(t, "sequential", "coordinator", model="closed/big"),
        claims.beats(t, "coordinator", "sequential", model="open/small"),
        claims.ratio(t, ["open/mid"], ["closed/big"], "quality.judge_q", at_least=0.95),
        claims.ratio(t, ["closed/big"], ["open/mid"], "cost_usd", at_least=24),
        claims.beats(t, "sequential", "coordinator", model="openai/gpt-5.4"),  # missing: skipped
    ]
    for a, b in itertools.combinations(PROTOCOLS, 2):
        v.append(claims.beats(t, a, b, alpha=0.05))
    return v


def paper_scale_trials(n_tasks: int = 25_000, rng_seed: int = 1) -> list[TrialRecord]:
    """4 trials per task (100,000 for 25,000 tasks): sequential and coordinator with the big
    model at 4 agents, sequential with the small model at 4 and with the big model at 64."""
    rng = np.random.default_rng(rng_seed)
    cells = (("sequential", "closed/big", 4), ("coordinator", "closed/big", 4),
             ("sequential", "open/small", 4), ("sequential", "closed/big", 64))
    task_q = rng.normal(0.55, 0.15, n_tasks)
    noise = rng.normal(0, 0.08, (n_tasks, len(cells)))
    abst = rng.random((n_tasks, len(cells))) < 0.3
    recs = []
    for ti in range(n_tasks):
        for ci, (proto, model, n) in enumerate(cells):
            q = float(np.clip(task_q[ti] + PROTOCOLS[proto] + MODELS[model][0] + noise[ti, ci], 0, 1))
            recs.append(TrialRecord(
                trial_id=f"t{ti:05d}|{proto}|{model}|n{n}|s0", task_id=f"t{ti:05d}", level=1 + ti % 4, domain="d",
                protocol=proto, model=model, n_agents=n, seed=0, answer="", quality={"judge_q": q},
                cost_usd=(MODELS[model][1] + 1e-5) * n**0.4, prompt_tokens=200 * n, completion_tokens=40 * n, calls=n,
                latency_s=0.5, max_prompt_tokens=800, per_agent=(), per_round=(), replies=(), unique_roles=2,
                roles=(f"r{ti % 97}", f"s{ci}"), role_entropy=1.0, abstention_rate=0.125 * float(abst[ti, ci]),
                hierarchy_depth=1, parse_failure_rate=0.0, sources={"cassette": n}))
    return recs


def paper_scale_claims(t: Trials) -> dict[str, dict]:
    """Every claim kind over the paper-scale trials: CPU seconds and traced peak MB each."""
    jobs = {
        "beats": lambda: claims.beats(t, "sequential", "coordinator", model="closed/big", n_agents=4),
        "beats_t": lambda: claims.beats(t, "sequential", "coordinator", test="t"),
        "spread": lambda: claims.spread(t, by="model", protocol="sequential", n_agents=4),
        "equivalent": lambda: claims.equivalent(t, "n_agents", 4, 64, margin=0.05, model="closed/big"),
        "growth": lambda: claims.growth(t, "n_agents", "cost_usd", model="closed/big"),
        "ratio": lambda: claims.ratio(t, "closed/big", "open/small", "cost_usd", at_least=24),
        "count_distinct": lambda: claims.count(t, "unique_roles", at_least=10),
        "count_mean": lambda: claims.count(t, "abstention_rate", at_least=0.0),
        "beats_permutation": lambda: claims.beats(t, "sequential", "coordinator", test="permutation"),
        "beats_wilcoxon": lambda: claims.beats(t, "sequential", "coordinator", test="wilcoxon"),
        "beats_bounded": lambda: claims.beats(t, "sequential", "coordinator", test="bounded"),
    }
    out = {}
    for kind, job in jobs.items():
        tracemalloc.start()
        c0 = time.process_time()
        v = job()
        cpu = time.process_time() - c0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out[kind] = {"cpu_s": round(cpu, 3), "peak_mb": round(peak, 1), "passed": v.passed, "n": v.n}
    return out


# --------------------------------------------------------------------------- issue 27's shapes

def _shape_diffs(shape: str, rng: np.random.Generator, g: int) -> np.ndarray:
    """Per-task differences A - B whose MEAN is 0 (the null of the mean), in five shapes."""
    if shape == "normal":
        return rng.normal(0, 0.1, g)
    if shape == "grid_ceiling":  # the judge's 1/16 grid, both arms near the ceiling: exchangeable
        q = np.clip(np.round((0.9 + rng.normal(0, 0.12, (g, 2))) * 16) / 16, 0.25, 1.0)
        return q[:, 0] - q[:, 1]
    if shape == "skewed_mean0":  # a protocol that collapses on a few tasks: small gains, rare big losses
        return np.where(rng.random(g) < 0.9, 0.05, -0.45) - (0.9 * 0.05 - 0.1 * 0.45)
    if shape == "hetero":  # heteroscedastic tasks (clipped to [-1, 1], as any difference of [0, 1] metrics)
        return np.clip(rng.normal(0, 1, g) * rng.choice([0.01, 0.05, 0.3], g), -1, 1)
    if shape == "ties":  # most tasks tie (the committed RSI / Q pattern)
        return np.where(rng.random(g) < 0.6, 0.0, rng.choice([-1, 1], g) / 16)
    raise ValueError(shape)


SHAPES = ("normal", "grid_ceiling", "skewed_mean0", "hetero", "ties")


def _shape_trials(shape: str, g: int, reps: int, seed: int, shift: float = 0.0) -> Trials:
    rng = np.random.default_rng([seed, g, SHAPES.index(shape)])
    recs = []
    for r in range(reps):
        d = _shape_diffs(shape, rng, g) + shift
        base = rng.uniform(0.4, 0.6, g)
        noise = rng.normal(0, 0.05, g)
        for i in range(g):
            for model, scale in (("w", 1.0), ("s", 0.0)):  # interaction: the effect on w only
                tid, m = f"t{i:03d}", f"r{r}{model}"
                recs.append(_mk(tid, m, "A", base[i] + scale * d[i], scale * d[i]))
                recs.append(_mk(tid, m, "B", base[i]))
                recs.append(_mk(tid, m, "C", base[i] + float(noise[i])))  # a third arm, null too
    return Trials(recs)


def _mk(task: str, model: str, proto: str, q: float, d: float = 0.0) -> TrialRecord:
    return TrialRecord(trial_id=f"{task}|{proto}|{model}", task_id=task, level=1, domain="d", protocol=proto,
                       model=model, n_agents=4, seed=0, answer="", quality={"judge_q": float(q), "d": float(d)},
                       cost_usd=0.01,
                       prompt_tokens=1, completion_tokens=1, calls=1, latency_s=0.0, max_prompt_tokens=1,
                       per_agent=(), per_round=(), replies=(), unique_roles=0, roles=(), role_entropy=0.0,
                       abstention_rate=0.0, hierarchy_depth=1,
                       parse_failure_rate=0.0, sources={})


def _shape_claims(t: Trials, r: int, alpha: float) -> dict:
    w = f"r{r}w"
    out = {
        "beats": lambda: claims.beats(t, "A", "B", model=w, alpha=alpha),
        "beats_t": lambda: claims.beats(t, "A", "B", model=w, alpha=alpha, test="t"),
        "spread_contrast": lambda: claims.spread(t, contrast=("A", "B"), protocol=["A", "B", "C"], model=w,
                                                 alpha=alpha),
        "count_mean": lambda: claims.count(t, "quality.d", agg="mean", at_least=0.0, alpha=alpha, protocol="A",
                                           model=w),
    }
    if hasattr(claims, "interaction"):
        out["interaction"] = lambda: claims.interaction(t.where(model=[w, f"r{r}s"]), levels=(w, f"r{r}s"), a="A",
                                                        b="B", alpha=alpha)
    return out


def shape_table(reps: int, tasks=(4, 8, 16, 48), alphas=(0.05, 0.001)) -> list[dict]:
    """False-positive rate of each claim kind on each null shape (mean difference exactly 0):
    the share of replicates that PASS (undecidable and skipped count as not passing)."""
    rows = []
    for shape in SHAPES:
        for g in tasks:
            t = _shape_trials(shape, g, reps, seed=11)
            for alpha in alphas:
                hits: dict[str, int] = {}
                undec: dict[str, int] = {}
                for r in range(reps):
                    for kind, job in _shape_claims(t, r, alpha).items():
                        v = job()
                        hits[kind] = hits.get(kind, 0) + bool(v.passed)
                        undec[kind] = undec.get(kind, 0) + (v.passed is None)
                for kind in hits:
                    rows.append({"shape": shape, "tasks": g, "alpha": alpha, "kind": kind, "reps": reps,
                                 "pass_rate": round(hits[kind] / reps, 4), "not_decided": round(undec[kind] / reps, 3)})
    return rows


def mixed_alpha_fwer(reps: int, g: int = 16) -> float:
    """Ten null beats claims at alphas 0.0500..0.0491, finalized together: share of sessions
    in which any passes (the familywise error)."""
    alphas = [0.05 - 0.0001 * i for i in range(10)]
    t = _shape_trials("normal", g, reps * 10, seed=12)
    bad = 0
    for r in range(reps):
        vs = claims.finalize([claims.beats(t, "A", "B", model=f"r{10 * r + i}w", alpha=a)
                              for i, a in enumerate(alphas)])
        bad += any(v.passed for v in vs)
    return round(bad / reps, 4)


def power_check(reps: int, d: float = 0.6) -> list[dict]:
    """Printed power (declared expected_d) against the pass rate, normal unit differences of d_z d."""
    rows = []
    for g in (8, 16, 48):
        t = _shape_trials("normal", g, reps, seed=13, shift=0.1 * d)  # normal shape: SD 0.1
        vs = [claims.beats(t, "A", "B", model=f"r{r}w", expected_d=d) for r in range(reps)]
        sp = [claims.spread(t, contrast=("A", "B"), protocol=["A", "B", "C"], model=f"r{r}w", expected_d=d)
              for r in range(reps)]
        for kind, vv in (("beats", vs), ("spread_contrast", sp)):
            rows.append({"kind": kind, "tasks": g, "d": d, "printed_power": round(float(vv[0].power or 0), 3),
                         "pass_rate": round(sum(bool(v.passed) for v in vv) / reps, 3)})
    return rows


def small_alpha_table(reps: int, tasks=(8, 16, 48)) -> list[dict]:
    """Unit-level: the p of the mean test (what beats, count, interaction and spread's contrast
    run) on each null shape, pass rates at 0.05, 0.001 and 1e-4 from the same p-values. Skips
    the claim layer (Trials), so many replicates are cheap; 1e-4 needs ~10^5 reps to read."""
    from sorg.stats.location import location_test

    rows = []
    for shape in SHAPES:
        for g in tasks:
            rng = np.random.default_rng([21, g, SHAPES.index(shape)])
            ps = np.array([location_test(_shape_diffs(shape, rng, g), 0.0, 0.05, "mean").p for _ in range(reps)])
            rows.append({"shape": shape, "tasks": g, "reps": reps,
                         **{f"rate_{a:g}": round(float(np.mean(ps < a)), 5) for a in (0.05, 0.001, 1e-4)}})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jsonl", action="store_true", help="also write and time loading a trials.jsonl store")
    ap.add_argument("--verbose", action="store_true", help="print every verdict's message")
    ap.add_argument("--reps", type=int, default=1000, help="replicates per null-simulation cell (0: skip it)")
    ap.add_argument("--shape-reps", type=int, default=400, help="replicates per issue-27 shape cell (0: skip)")
    ap.add_argument("--shape-alphas", default="0.05,0.001", help="alphas of the shape table, comma-separated")
    ap.add_argument("--small-alpha-reps", type=int, default=20000, help="unit-level replicates per shape (0: skip)")
    ap.add_argument("--check-reps", type=int, default=1000,
                    help="replicates of the reachability / spread power / bounded-test checks (0: skip)")
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
    big = Trials(paper_scale_trials())
    scale = paper_scale_claims(big)
    for kind, r in scale.items():
        print(f"100k trials / 25k tasks: {kind:15s} {r['cpu_s']:6.2f} s CPU, peak {r['peak_mb']:7.1f} MB",
              file=sys.stderr)
    x = np.random.default_rng(0).normal(size=100_000)
    tracemalloc.start()
    c0 = time.process_time()
    stats.boot_mean_ci(x, np.repeat(np.arange(25_000), 4))
    extra.update(boot_mean_ci_25k_s=round(time.process_time() - c0, 3),
                 boot_mean_ci_25k_mb=round(tracemalloc.get_traced_memory()[1] / 2**20, 1))
    tracemalloc.stop()
    extra.update(claims_100k_max_s=max(r["cpu_s"] for r in scale.values()),
                 claims_100k_peak_mb=max(r["peak_mb"] for r in scale.values()), claims_100k=scale)
    if args.reps:
        from sorg_nullsim import table

        null = table(reps=args.reps)
        for r in null:
            print(f"null {r['kind']:15s} {r['tasks']:3d} tasks: rejection {r['rejection']:.3f} "
                  f"(skipped {r['skipped']:.2f}), coverage {r['coverage']}", file=sys.stderr)
        extra.update(null_rejection_max=max(r["rejection"] for r in null), null=null)
    if args.shape_reps:
        shapes = shape_table(args.shape_reps, alphas=tuple(float(a) for a in args.shape_alphas.split(",")))
        for r in shapes:
            print(f"shape {r['shape']:13s} {r['tasks']:3d} tasks alpha {r['alpha']:<6g} {r['kind']:16s} "
                  f"pass {r['pass_rate']:.4f} (not decided {r['not_decided']:.2f})", file=sys.stderr)
        extra.update(shapes=shapes, mixed_alpha_fwer=mixed_alpha_fwer(max(50, args.shape_reps // 4)),
                     power=power_check(max(100, args.shape_reps // 2)))
        print(f"mixed-alpha familywise error {extra['mixed_alpha_fwer']}; power {extra['power']}", file=sys.stderr)
    if args.check_reps:
        from stats_checks import bounded_rows, reach_rows, spread_power_rows

        extra["reach"] = reach_rows()
        extra["spread_power"] = spread_power_rows(max(50, args.check_reps // 5))
        extra["bounded"] = bounded_rows(args.check_reps, _shape_diffs, SHAPES)
        for key in ("reach", "spread_power"):
            for r in extra[key]:
                print(f"{key} {r}", file=sys.stderr)
        for part in ("null", "power", "printed"):
            for r in extra["bounded"][part]:
                print(f"bounded {part} {r}", file=sys.stderr)
    if args.small_alpha_reps:
        extra["small_alpha"] = small_alpha_table(args.small_alpha_reps)
        for r in extra["small_alpha"]:
            print(f"unit-level mean test {r['shape']:13s} {r['tasks']:3d} tasks: 0.05 {r['rate_0.05']:.4f}  "
                  f"0.001 {r['rate_0.001']:.5f}  1e-4 {r['rate_0.0001']:.5f}", file=sys.stderr)
    print(json.dumps({"trials": len(recs), "claims": len(verdicts), "wall_s": round(wall, 3),
                      "generate_s": round(gen_s, 3), **status, **extra}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
