"""Null simulation of every claim kind (imported by path by the slow test and by
benchmarks/bench_stats.py): how often does a claim pass when its null is true, with task
heterogeneity (task x arm interactions) that pair-level tests mistake for signal?

Each replicate is a separate model name in one big `Trials`, so a claim is judged per
replicate by scoping (`model=...`). Rates count a skipped claim as not rejected (an exact test
that cannot reach alpha with 4 tasks rejects nothing: conservative, and reported as such).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sorg import claims
from sorg.record import TrialRecord
from sorg.results import Trials
from tests.fakes.sorg_synth import make_record

SEEDS = 3
INTERACTION_SD = 0.1


def _rec(rep: int, task: int, seed: int, **kw) -> TrialRecord:
    return make_record(task_id=f"t{task:03d}", model=f"r{rep}", seed=seed, **kw)


def _arms_data(arms: str):
    """Arms with no true difference: task difficulty plus a task x arm interaction."""
    def build(rng, reps, g):
        recs = []
        for r in range(reps):
            base = rng.normal(0.5, 0.15, g)
            inter = rng.normal(0, INTERACTION_SD, (g, len(arms)))
            for i in range(g):
                for s in range(SEEDS):
                    for j, p in enumerate(arms):
                        q = base[i] + inter[i, j] + rng.normal(0, 0.05)
                        recs.append(_rec(r, i, s, protocol=p, quality={"judge_q": float(q)}))
        return recs
    return build


def _equiv_data(rng, reps, g):  # true difference exactly at the margin (0.1): the TOST null
    recs = []
    for r in range(reps):
        base = rng.normal(0.5, 0.15, g)
        shift = 0.1 + rng.normal(0, INTERACTION_SD, g)  # mean +margin across tasks
        for i in range(g):
            for s in range(SEEDS):
                q = base[i] + rng.normal(0, 0.05)
                recs.append(_rec(r, i, s, n_agents=4, quality={"judge_q": float(q)}))
                recs.append(_rec(r, i, s, n_agents=256, quality={"judge_q": float(q + shift[i] + rng.normal(0, 0.05))}))
    return recs


def _ratio_data(rng, reps, g):  # closed / open cost ratio exactly 24 in expectation over tasks
    recs = []
    for r in range(reps):
        base = np.exp(rng.normal(-6, 0.5, g))
        e = rng.normal(-0.02, 0.2, g)  # E[exp(e)] = 1
        for i in range(g):
            for s in range(SEEDS):
                c = base[i] * float(np.exp(rng.normal(0, 0.05)))
                recs.append(make_record(task_id=f"t{i:03d}", model=f"open{r}", seed=s, cost_usd=c, protocol=f"r{r}"))
                recs.append(make_record(task_id=f"t{i:03d}", model=f"closed{r}", seed=s, protocol=f"r{r}",
                                        cost_usd=24 * c * float(np.exp(e[i]))))
    return recs


def _growth_data(rng, reps, g):  # per-task slopes around exactly 1
    recs = []
    for r in range(reps):
        b = 1 + rng.normal(0, 0.05, g)
        base = np.exp(rng.normal(-6, 0.5, g))
        for i in range(g):
            for n in (4, 16, 64):
                recs.append(_rec(r, i, 0, n_agents=n, cost_usd=float(base[i] * n ** b[i] * np.exp(rng.normal(0, 0.05)))))
    return recs


def _count_data(rng, reps, g):  # mean abstention exactly 0.2 over tasks
    recs = []
    for r in range(reps):
        te = rng.normal(0, 0.05, g)
        for i in range(g):
            for s in range(SEEDS):
                recs.append(_rec(r, i, s, abstention_rate=float(0.2 + te[i] + rng.normal(0, 0.03))))
    return recs


# kind -> (data builder, claim on replicate r, the true value the 95% CI should cover)
KINDS: dict[str, tuple[Callable, Callable, float | None]] = {
    "beats": (_arms_data("AB"), lambda t, r: claims.beats(t, "A", "B", model=f"r{r}"), 0.0),
    "beats_wilcoxon": (_arms_data("AB"), lambda t, r: claims.beats(t, "A", "B", test="wilcoxon", model=f"r{r}"), 0.0),
    "beats_t": (_arms_data("AB"), lambda t, r: claims.beats(t, "A", "B", test="t", model=f"r{r}"), 0.0),
    "equivalent": (_equiv_data, lambda t, r: claims.equivalent(t, margin=0.1, model=f"r{r}"), 0.1),
    "spread": (_arms_data("abc"), lambda t, r: claims.spread(t, model=f"r{r}"), 0.0),
    "ratio": (_ratio_data, lambda t, r: claims.ratio(t, f"closed{r}", f"open{r}", "cost_usd", at_least=24,
                                                      protocol=f"r{r}"), 24.0),
    "growth": (_growth_data, lambda t, r: claims.growth(t, model=f"r{r}"), 1.0),
    "count_mean": (_count_data, lambda t, r: claims.count(t, "abstention_rate", at_least=0.2, model=f"r{r}"), 0.2),
}


def simulate(kind: str, g: int, reps: int, seed: int = 17) -> dict:
    """Rejection rate at alpha 0.05, share skipped, and 95% CI coverage of the true value."""
    build, judge, truth = KINDS[kind]
    rng = np.random.default_rng([seed, g, sorted(KINDS).index(kind)])
    t = Trials(build(rng, reps, g))
    rejected = skipped = covered = with_ci = 0
    for r in range(reps):
        v = judge(t, r)
        if v.passed is None:
            skipped += 1
            continue
        rejected += bool(v.p is not None and v.p < 0.05)
        if v.ci is not None and truth is not None and all(math.isfinite(x) for x in v.ci):
            with_ci += 1
            covered += v.ci[0] <= truth <= v.ci[1]
    return {"kind": kind, "tasks": g, "reps": reps, "rejection": rejected / reps, "skipped": skipped / reps,
            "coverage": covered / with_ci if with_ci else None}


def table(tasks=(4, 12, 48), reps: int = 500, kinds=None) -> list[dict]:
    return [simulate(k, g, reps) for k in (kinds or KINDS) for g in tasks]
