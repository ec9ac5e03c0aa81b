"""The report's numbers, from a run directory's files alone (`trials.jsonl`, `claims.json`).

Why deterministic: the same trials must give byte-identical `summary.json` however xdist
ordered them in the store, so records are sorted by trial id before anything is summed, and
sums use `math.fsum` (exact, so independent of order anyway).
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sorg import instrument
from sorg.record import TrialRecord
from sorg.report import lengths
from sorg.store import CLAIMS_FILE, TRIALS_FILE, read_records


def mean_ci(values: Sequence[float | None], clusters: Sequence[str]) -> tuple[float, float | None, float | None]:
    """Mean and a 95% bootstrap CI clustered by task (trials of one task are correlated);
    no interval from fewer than two tasks."""
    pairs = sorted((c, v) for v, c in zip(values, clusters) if v is not None and math.isfinite(v))
    if not pairs:
        return math.nan, None, None
    vals = [v for _, v in pairs]
    m = math.fsum(vals) / len(vals)
    cl = [c for c, _ in pairs]
    if len(set(cl)) < 2:
        return m, None, None
    try:
        import numpy as np

        from sorg.stats import boot_mean_ci

        lo, hi = boot_mean_ci(np.asarray(vals, dtype=float), list(cl))
        return m, float(lo), float(hi)
    except Exception:  # stats unavailable or degenerate: a mean without an interval
        return m, None, None


_METRICS: tuple[tuple[str, Callable[[TrialRecord], Any]], ...] = (
    ("quality", lambda r: r.quality.get("judge_q")),   # the paper's quality: the judge's Q
    ("coverage", lambda r: r.quality.get("coverage")),
    ("cost_usd", lambda r: r.cost_usd),
    ("tokens", lambda r: r.prompt_tokens + r.completion_tokens),
    ("unique_roles", lambda r: r.unique_roles),
    ("abstention", lambda r: r.abstention_rate),
)


def cells(records: Sequence[TrialRecord]) -> list[dict[str, Any]]:
    """One row per model x protocol x team size: means with task-clustered CIs, the number
    of tasks behind them (`tasks`; fewer than two means no interval); a cell with any trial
    cut short (status budget / error) is marked incomplete."""
    groups: dict[tuple, list[TrialRecord]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r.trial_id):
        groups[(r.model, r.protocol, r.n_agents)].append(r)
    out = []
    for (model, protocol, n), recs in sorted(groups.items(), key=lambda kv: kv[0]):
        ok = [r for r in recs if r.status == "ok"]
        bad = [r for r in recs if r.status != "ok"]
        clusters = [r.task_id for r in ok]
        row: dict[str, Any] = {"model": model, "protocol": protocol, "n_agents": n, "trials": len(ok),
                               "tasks": len(set(clusters)), "incomplete": len(bad),
                               "incomplete_status": sorted({r.status for r in bad})}
        for key, fn in _METRICS:
            vals = [fn(r) for r in ok]
            fvals = [float(v) if v is not None else None for v in vals]
            if all(v is None for v in fvals):
                row[key] = None
                continue
            m, lo, hi = mean_ci(fvals, clusters)
            row[key] = {"mean": m, "ci": [lo, hi] if lo is not None else None}
        out.append(row)
    return out


def load_claims(run_dir: Path) -> tuple[dict, list]:
    """(run metadata, claim rows) from `claims.json`; empty when the run judged none."""
    p = run_dir / CLAIMS_FILE
    if not p.exists():
        return {}, []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return dict(data.get("run") or {}), list(data.get("claims") or [])
    except (ValueError, AttributeError) as exc:
        from sorg.errors import StoreCorrupt

        raise StoreCorrupt(f"{p}: cannot read claims: {exc}") from None


def summary(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data."""
    run_dir = Path(run_dir)
    path = run_dir / TRIALS_FILE
    records = read_records(path, with_replies=False) if path.exists() else []
    records.sort(key=lambda r: r.trial_id)
    meta, claims = load_claims(run_dir)
    gate_path = run_dir / instrument.INSTRUMENT_FILE
    gate = json.loads(gate_path.read_text(encoding="utf-8")) if gate_path.exists() else None
    judge = instrument.judge_usage(records)
    sources: dict[str, int] = defaultdict(int)
    status: dict[str, int] = defaultdict(int)
    for r in records:
        for k, v in r.sources.items():
            sources[k] += int(v)
        status[r.status] += 1
    return {
        "run_id": run_dir.name,
        "run": meta,
        "trials": len(records),
        "status": dict(sorted(status.items())),
        "calls_by_source": dict(sorted(sources.items())),
        "models": sorted({r.model for r in records}),
        "model_versions": sorted({r.model_version for r in records if r.model_version}),
        "prompt_versions": sorted({r.prompt_version for r in records if r.prompt_version}),
        # The judge's calls are the run's too: totals hold agents and judge, `judge` says how much
        # of it was the judge's.
        "total_cost_usd": math.fsum(r.cost_usd for r in records) + judge["cost_usd"],
        "total_tokens": sum(r.prompt_tokens + r.completion_tokens for r in records) + judge["tokens"],
        "judge": judge,
        "instrument_gate": gate,
        "cells": cells(records),
        "instrument": instrument.rows(records),
        "judge_dimensions": instrument.dimension_counts(records),
        "length_effects": lengths.section(records, gate, meta.get("protocols") or ()),
        "claims": claims,
    }
