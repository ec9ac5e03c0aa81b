"""Issue 27's remaining checks for bench_stats.py (its JSON line carries their rows):

- `reach_rows`: an undecidable family's printed "needs N" against the smallest N that decides;
- `spread_power_rows`: spread's printed power (declared d_z) against its pass rate, omnibus
  Friedman with 3 groups and the two-sided signed rank with 2, on normal task x group data;
- `bounded_rows`: the betting test of a bounded mean (differences in [-1, 1]) against the
  default mean test: false positives on the five null shapes, power on paper-like shapes, the
  ceiling no valid test can pass, and its printed power against its pass rate.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sorg import claims
from sorg.record import TrialRecord
from sorg.results import Trials


def _rec(task: str, model: str, proto: str, q: float) -> TrialRecord:
    return TrialRecord(trial_id=f"{task}|{proto}|{model}", task_id=task, level=1, domain="d", protocol=proto,
                       model=model, n_agents=4, seed=0, answer="", quality={"judge_q": float(q)}, cost_usd=0.01,
                       prompt_tokens=1, completion_tokens=1, calls=1, latency_s=0.0, max_prompt_tokens=1,
                       per_agent=(), per_round=(), replies=(), unique_roles=0, roles=(), role_entropy=0.0,
                       abstention_rate=0.0, hierarchy_depth=1, parse_failure_rate=0.0, sources={})


def _family(tasks: int, tied: int, models: int = 4) -> list[claims.Verdict]:
    recs = []
    for m in range(models):
        for i in range(tasks + tied):
            d = 0.0 if i >= tasks else 0.1 + 0.01 * i
            recs += [_rec(f"t{i}", f"m{m}", "A", 0.5 + d), _rec(f"t{i}", f"m{m}", "B", 0.5)]
    t = Trials(recs)
    return claims.finalize([claims.beats(t, "A", "B", model=f"m{m}") for m in range(models)])


def reach_rows() -> list[dict]:
    """Four beats claims at 0.05 on the same tasks (the fake project's shape), no ties or a
    third tied: the printed need (non-zero tasks, and tasks at the tie share) against the
    smallest number of non-zero tasks at which the family is decided."""
    rows = []
    for tied_share in (0.0, 1 / 3):
        out = _family(4, round(4 * tied_share / (1 - tied_share)))
        need = out[0].details.get("units_needed")
        decided = next(n for n in range(4, 40)
                       if all(v.passed for v in _family(n, round(n * tied_share / (1 - tied_share)))))
        rows.append({"claims": 4, "nonzero_tasks": 4, "tie_share": round(tied_share, 3),
                     "own_floor_needs": 5, "printed_needs": need,
                     "printed_tasks": out[0].details.get("units_needed_total"), "smallest_deciding": decided})
    return rows


def _groups(g: int, reps: int, effects: list[float], seed: int) -> Trials:
    rng = np.random.default_rng([seed, g, len(effects)])
    recs = []
    for r in range(reps):
        for i in range(g):
            base = rng.normal(0.5, 0.1)
            for j, e in enumerate(effects):
                recs.append(_rec(f"t{i:03d}", f"r{r}", f"p{j}", base + e + rng.normal(0, 0.1)))
    return Trials(recs)


def spread_power_rows(reps: int, d: float = 0.6) -> list[dict]:
    """Data at d_z d of p0 vs p1 (residual SD 0.1 per group, so the difference has SD 0.1 x
    sqrt 2), p2 at the midpoint: printed power (declared expected_d) against the pass rate."""
    rows = []
    delta = d * 0.1 * math.sqrt(2)
    for kind, eff in (("spread_omnibus_3", [delta / 2, -delta / 2, 0.0]), ("spread_two_groups", [delta, 0.0])):
        for g in (8, 16, 48):
            t = _groups(g, reps, eff, seed=17)
            vs = [claims.spread(t, model=f"r{r}", expected_d=d) for r in range(reps)]
            rows.append({"kind": kind, "tasks": g, "d": d, "reps": reps,
                         "printed_power": round(float(np.mean([v.power or 0 for v in vs])), 3),
                         "pass_rate": round(sum(bool(v.passed) for v in vs) / reps, 3)})
    return rows


def bounded_rows(reps: int, shape_diffs, shapes) -> dict:
    """Unit level (no claim layer): pass rates at 0.05 of the default mean test and of the
    betting test of a mean in [-1, 1], on the null shapes and on paper-like effects."""
    from sorg.stats.bounded import p_bounded, power_ceiling
    from sorg.stats.location import location_test

    def rates(draw, rng: np.random.Generator, g: int) -> tuple[float, float]:
        x = np.stack([draw(rng, g) for _ in range(reps)])
        pm = np.array([location_test(row, 0.0, 0.05, "mean").p for row in x])
        return float(np.mean(pm < 0.05)), float(np.mean(p_bounded(x, 0.0, -1.0, 1.0) < 0.05))

    null, power = [], []
    for shape in shapes:
        for g in (8, 16, 48):
            rng = np.random.default_rng([31, g, shapes.index(shape)])
            m, b = rates(functools.partial(shape_diffs, shape), rng, g)
            null.append({"shape": shape, "tasks": g, "reps": reps, "mean_test": round(m, 4), "bounded": round(b, 4)})

    def grid_shift(rng, g, mu):
        q = np.clip(np.round((0.85 + rng.normal(0, 0.12, (g, 2)) + [mu, 0]) * 16) / 16, 0.25, 1.0)
        return q[:, 0] - q[:, 1]

    effects = {"normal d_z 0.6 (mean +0.06)": lambda rng, g: np.clip(rng.normal(0.06, 0.1, g), -1, 1),
               "normal d_z 1.5 (mean +0.15)": lambda rng, g: np.clip(rng.normal(0.15, 0.1, g), -1, 1),
               "judge grid, mean +0.08": lambda rng, g: grid_shift(rng, g, 0.08),
               "normal mean +0.30, SD 0.2": lambda rng, g: np.clip(rng.normal(0.3, 0.2, g), -1, 1)}
    mus = {"normal d_z 0.6 (mean +0.06)": 0.06, "normal d_z 1.5 (mean +0.15)": 0.15, "judge grid, mean +0.08": 0.08,
           "normal mean +0.30, SD 0.2": 0.3}
    for name, fn in effects.items():
        for g in (8, 16, 48):
            rng = np.random.default_rng([32, g, len(name)])
            m, b = rates(fn, rng, g)
            power.append({"shape": name, "tasks": g, "reps": reps, "mean_test": round(m, 4), "bounded": round(b, 4),
                          "any_valid_test_at_most": round(power_ceiling(mus[name], g, 0.05), 3)})
    return {"null": null, "power": power, "printed": _bounded_printed(max(100, reps // 5))}


def _bounded_printed(reps: int) -> list[dict]:
    """beats(test="bounded", expected_d=...) on normal differences of mean 0.15, SD 0.1 (d_z
    1.5) and of mean 0.3, SD 0.2: mean printed power against the pass rate."""
    rows = []
    for mu, sd in ((0.15, 0.1), (0.3, 0.2)):
        for g in (16, 48):
            rng = np.random.default_rng([33, g])
            recs = []
            for r in range(reps):
                d = np.clip(rng.normal(mu, sd, g), -0.3, 0.7)
                for i in range(g):
                    recs += [_rec(f"t{i:03d}", f"r{r}", "A", 0.3 + d[i]), _rec(f"t{i:03d}", f"r{r}", "B", 0.3)]
            t = Trials(recs)
            vs = [claims.beats(t, "A", "B", model=f"r{r}", test="bounded", expected_d=mu / sd) for r in range(reps)]
            rows.append({"mean": mu, "sd": sd, "tasks": g, "reps": reps,
                         "printed_power": round(float(np.mean([v.power or 0 for v in vs])), 3),
                         "pass_rate": round(sum(bool(v.passed) for v in vs) / reps, 3)})
    return rows
