"""Reports of a run: `summary.md`, `summary.json` and plots, from the run directory alone.

Why from files only: a report must be rebuildable (`sorg report reports/<run-id>`) on another
machine, from `trials.jsonl` and the `claims.json` the run wrote, without rerunning a trial
or a claim. Building is deterministic (no clock, no randomness beyond the seeded bootstrap),
so a rebuild gives byte-identical files. Plots need matplotlib (the `plot` extra) and are
skipped without it; tables need only tabulate.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from sorg import instrument
from sorg.record import TrialRecord
from sorg.store import CLAIMS_FILE, TRIALS_FILE, read_records

SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"
PLOTS = ("quality_by_protocol.png", "scaling.png", "quality_vs_cost.png")


# --------------------------------------------------------------------------- run metadata


def cassette_hashes(cassette_dir: str | os.PathLike[str] | None) -> dict[str, str]:
    """sha256 (first 16 hex) of every cassette file, keyed by its path under the dir: the
    report names exactly which recordings produced it."""
    out: dict[str, str] = {}
    if not cassette_dir or not Path(cassette_dir).is_dir():
        return out
    root = Path(cassette_dir)
    for p in sorted(root.rglob("*.jsonl")):
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[p.relative_to(root).as_posix()] = h.hexdigest()[:16]
    return out


def run_meta(opts: Any, config: Any = None) -> dict[str, Any]:
    """What the header of a report states about the run (settings, versions, cassettes)."""
    import sorg

    meta: dict[str, Any] = {
        "sorg_version": sorg.__version__,
        "record": opts.record,
        "models": list(opts.models),
        "protocols": list(opts.protocols),
        "agents": list(opts.agents),
        "levels": list(opts.levels),
        "domains": opts.domains,
        "tasks_per_level": opts.tasks_per_level,
        "seeds": opts.seeds,
        "judge_model": opts.judge_model,
        "budget_usd": opts.budget_usd,
        "cassettes": cassette_hashes(opts.cassette_dir),
    }
    if config is not None:
        meta["pytest_args"] = [str(a) for a in getattr(config, "args", [])]
    return meta


def write_claims(run_dir: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> Path:
    """Write `claims.json`: the verdict rows as reported and the run's metadata."""
    p = Path(run_dir) / CLAIMS_FILE
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"run": dict(meta), "claims": list(rows)}, indent=1, sort_keys=True,
                              default=str) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p


# --------------------------------------------------------------------------- tables


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        if x != 0 and abs(x) < 10 ** -digits:
            return f"{x:.1e}"
        return f"{x:.{digits}f}"
    return str(x)


def _p(x: Any) -> str:
    if x is None:
        return "-"
    return "<1e-300" if x == 0 else (f"{x:.2e}" if x < 0.001 else f"{x:.4f}")


def claims_table(rows: Sequence[Mapping[str, Any]], fmt: str = "github") -> str:
    """The claims table: outcome, test, n, estimate with CI, effect, p raw and Holm-adjusted."""
    from tabulate import tabulate

    body = []
    for r in rows:
        v = r.get("verdict") or {}
        ci = v.get("ci")
        est = _fmt(v.get("estimate"))
        if ci and None not in ci:
            est += f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"
        eff = "-"
        if v.get("effect") is not None:
            eff = f"{v.get('effect_name') or 'effect'}={_fmt(v['effect'], 2)}"
        body.append([
            r["nodeid"].rsplit("::", 1)[-1],
            r["outcome"].upper(),
            v.get("test") or v.get("kind") or "-",
            v.get("n") if v else "-",
            est if v else "-",
            eff,
            _p(v.get("p")),
            _p(v.get("p_holm")),
        ])
    return tabulate(body, headers=["claim", "outcome", "test", "n", "estimate [95% CI]", "effect", "p", "p Holm"],
                    tablefmt=fmt, disable_numparse=True)


def _mean_ci(values: Sequence[float], clusters: Sequence[str]) -> tuple[float, float | None, float | None]:
    """Mean and a 95% bootstrap CI clustered by task (trials of one task are correlated)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return math.nan, None, None
    m = sum(vals) / len(vals)
    cl = [c for v, c in zip(values, clusters) if v is not None and math.isfinite(v)]
    if len(set(cl)) < 2:
        return m, None, None
    try:
        import numpy as np

        from sorg.stats import boot_mean_ci

        lo, hi = boot_mean_ci(np.asarray(vals, dtype=float), list(cl))
        return m, float(lo), float(hi)
    except Exception:  # stats unavailable or degenerate: a mean without an interval
        return m, None, None


def cells(records: Sequence[TrialRecord]) -> list[dict[str, Any]]:
    """One row per model x protocol x team size: means with task-clustered CIs; a cell with
    any trial cut short (status budget / error) is marked incomplete."""
    groups: dict[tuple, list[TrialRecord]] = defaultdict(list)
    for r in records:
        groups[(r.model, r.protocol, r.n_agents)].append(r)
    out = []
    for (model, protocol, n), recs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        ok = [r for r in recs if r.status == "ok"]
        bad = [r for r in recs if r.status != "ok"]
        clusters = [r.task_id for r in ok]
        row: dict[str, Any] = {"model": model, "protocol": protocol, "n_agents": n, "trials": len(ok),
                               "incomplete": len(bad),
                               "incomplete_status": sorted({r.status for r in bad})}
        for key, fn in (("judge_q", lambda r: r.quality.get("judge_q")),
                        ("coverage", lambda r: r.quality.get("coverage")),
                        ("cost_usd", lambda r: r.cost_usd),
                        ("tokens", lambda r: r.prompt_tokens + r.completion_tokens),
                        ("unique_roles", lambda r: r.unique_roles),
                        ("abstention", lambda r: r.abstention_rate)):
            vals = [fn(r) for r in ok]
            vals = [float(v) if v is not None else None for v in vals]
            if all(v is None for v in vals):
                row[key] = None
                continue
            m, lo, hi = _mean_ci(vals, clusters)
            row[key] = {"mean": m, "ci": [lo, hi] if lo is not None else None}
        out.append(row)
    return out


def _cell(x: Any, digits: int = 3) -> str:
    if not x:
        return "-"
    s = _fmt(x["mean"], digits)
    if x.get("ci"):
        s += f" [{_fmt(x['ci'][0], digits)}, {_fmt(x['ci'][1], digits)}]"
    return s


def cells_table(rows: Sequence[Mapping[str, Any]], fmt: str = "github") -> str:
    from tabulate import tabulate

    body = []
    for r in rows:
        n = str(r["trials"])
        if r["incomplete"]:
            n += f" (+{r['incomplete']} incomplete: {', '.join(r['incomplete_status'])})"
        line = [r["model"], r["protocol"], r["n_agents"], n, _cell(r.get("judge_q")), _cell(r.get("coverage"))]
        line += [_cell(r["cost_usd"], 6), _cell(r["tokens"], 0), _cell(r["unique_roles"], 2), _cell(r["abstention"], 3)]
        body.append(line)
    headers = ["model", "protocol", "agents", "trials", "judge Q [95% CI]", "coverage [95% CI]"]
    headers += ["cost USD / trial", "tokens / trial", "unique roles", "abstention rate"]
    return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True)


# --------------------------------------------------------------------------- build


def _load_claims(run_dir: Path) -> tuple[dict, list]:
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
    meta, claims = _load_claims(run_dir)
    sources: dict[str, int] = defaultdict(int)
    for r in records:
        for k, v in r.sources.items():
            sources[k] += int(v)
    status: dict[str, int] = defaultdict(int)
    for r in records:
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
        "total_cost_usd": sum(r.cost_usd for r in records),
        "total_tokens": sum(r.prompt_tokens + r.completion_tokens for r in records),
        "cells": cells(records),
        "instrument": instrument.rows(records),
        "judge_dimensions": instrument.dimension_counts(records),
        "claims": claims,
    }


def render_md(s: Mapping[str, Any]) -> str:
    meta = s.get("run") or {}
    lines = [f"# sorg run {s['run_id']}", ""]
    lines.append(f"- trials: {s['trials']} ({', '.join(f'{k}: {v}' for k, v in s['status'].items()) or 'none'})")
    lines.append(f"- model calls by source: {', '.join(f'{k}: {v}' for k, v in s['calls_by_source'].items()) or '-'}")
    lines.append(f"- models: {', '.join(s['models']) or '-'}; versions reported: {', '.join(s['model_versions']) or '-'}")
    lines.append(f"- prompt versions: {', '.join(s['prompt_versions']) or '-'}")
    lines.append(f"- total cost: ${s['total_cost_usd']:.6f}; total tokens: {s['total_tokens']}")
    if meta:
        lines.append(f"- sorg {meta.get('sorg_version', '?')}, record mode {meta.get('record', '?')}, "
                     f"judge {meta.get('judge_model') or 'none'}, budget {meta.get('budget_usd') or 'none'}")
        cas = meta.get("cassettes") or {}
        if cas:
            lines.append("- cassettes (sha256/16): " + ", ".join(f"`{k}` {v}" for k, v in sorted(cas.items())))
    lines += ["", "## Claims", ""]
    if s["claims"]:
        lines.append(claims_table(s["claims"]))
        lines.append("")
        for r in s["claims"]:
            lines.append(f"- **{r['nodeid']}** ({r['outcome']}): {r.get('message', '')}".rstrip())
    else:
        lines.append("No claims were judged in this run.")
    lines += ["", "## Trials by model, protocol and team size", "",
              "Means per trial with 95% bootstrap CIs clustered by task; cells with trials cut short "
              "(budget or error) are marked incomplete and those trials are left out of the means.", ""]
    lines.append(cells_table(s["cells"]) if s["cells"] else "No trials.")
    lines += ["", "## The instrument, per protocol", "",
              "Means over ok trials. rho(length, q): Spearman's rank correlation between the answer's "
              "length in characters and quality q within the protocol (a positive rho means longer "
              "answers scored higher). Every protocol's answer is one assembly call under the same "
              "token budget, so answer chars stay comparable; work chars is what the agents wrote "
              "before assembly. The judge's five dimensions are 1-4; self-judged counts trials whose "
              "judge model was the agents' own model.", ""]
    lines.append(instrument.table(s.get("instrument") or []) if s.get("instrument") else "No trials.")
    dims = s.get("judge_dimensions") or {}
    if any(sum(c.values()) for c in dims.values()):
        lines += ["", "Judge scores given, per dimension (count of 1 / 2 / 3 / 4):", ""]
        lines += [f"- {d}: {' / '.join(str(c[k]) for k in ('1', '2', '3', '4'))}" for d, c in dims.items()]
    return "\n".join(lines) + "\n"


def _plots(run_dir: Path, rows: Sequence[Mapping[str, Any]]) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return []
    out: list[Path] = []
    if not rows:
        return out

    def err(x: Any) -> tuple[float, float]:
        if not x or not x.get("ci"):
            return 0.0, 0.0
        return max(x["mean"] - x["ci"][0], 0.0), max(x["ci"][1] - x["mean"], 0.0)

    models = sorted({r["model"] for r in rows})
    protocols = sorted({r["protocol"] for r in rows})
    # 1. quality by protocol (pooled over team sizes: mean of cell means), one bar group per model
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(protocols) * max(1, len(models))), 4))
    width = 0.8 / max(1, len(models))
    for mi, m in enumerate(models):
        xs, ys, es = [], [[], []], []
        for pi, p in enumerate(protocols):
            cs = [r for r in rows if r["model"] == m and r["protocol"] == p and r["judge_q"]]
            if not cs:
                continue
            best = max(cs, key=lambda r: r["trials"])  # the cell with most trials carries the CI
            xs.append(pi + mi * width)
            es.append(best["judge_q"]["mean"])
            lo, hi = err(best["judge_q"])
            ys[0].append(lo)
            ys[1].append(hi)
        ax.bar(xs, es, width=width, yerr=ys, capsize=3, label=m)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(protocols))])
    ax.set_xticklabels(protocols, rotation=30, ha="right")
    ax.set_ylabel("judge Q, 95% CI")
    ax.set_title("Quality by protocol (largest cell per protocol)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.append(run_dir / PLOTS[0])
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    # 2. quality and cost vs team size (log axes)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for m in models:
        for p in protocols:
            cs = sorted((r for r in rows if r["model"] == m and r["protocol"] == p and r["judge_q"]), key=lambda r: r["n_agents"])
            if len(cs) < 2:
                continue
            ns = [r["n_agents"] for r in cs]
            lab = f"{p} ({m.rsplit('/', 1)[-1]})" if len(models) > 1 else p
            a1.errorbar(ns, [r["judge_q"]["mean"] for r in cs], yerr=list(zip(*[err(r["judge_q"]) for r in cs])),
                        marker="o", capsize=2, label=lab)
            a2.plot(ns, [max(r["cost_usd"]["mean"], 1e-12) for r in cs], marker="o", label=lab)
    sizes = sorted({r["n_agents"] for r in rows})
    for a, yl in ((a1, "judge Q"), (a2, "cost USD / trial")):
        a.set_xscale("log", base=2)
        a.set_xticks(sizes, [str(n) for n in sizes])
        a.minorticks_off()
        a.set_xlabel("agents")
        a.set_ylabel(yl)
    a2.set_yscale("log")
    a1.set_title("Quality vs team size")
    a2.set_title("Cost vs team size")
    if a1.get_legend_handles_labels()[0]:
        a1.legend(fontsize=7)
    fig.tight_layout()
    out.append(run_dir / PLOTS[1])
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    # 3. quality vs cost, per model
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in models:
        cs = [r for r in rows if r["model"] == m and r["judge_q"] and r["cost_usd"]]
        ax.scatter([max(r["cost_usd"]["mean"], 1e-12) for r in cs], [r["judge_q"]["mean"] for r in cs], label=m, s=18)
    ax.set_xscale("log")
    ax.set_xlabel("cost USD / trial")
    ax.set_ylabel("judge Q")
    ax.set_title("Quality vs cost (one point per protocol x team size)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.append(run_dir / PLOTS[2])
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    return out


def build(run_dir: str | os.PathLike[str], plots: bool = True) -> list[Path]:
    """Write summary.md, summary.json and (with matplotlib, unless `plots` is False) the
    plots; returns their paths."""
    run_dir = Path(run_dir)
    s = summary(run_dir)
    md = run_dir / SUMMARY_MD
    js = run_dir / SUMMARY_JSON
    md.write_text(render_md(s), encoding="utf-8")
    js.write_text(json.dumps(_finite(s), indent=1, sort_keys=True, allow_nan=False, default=_json_default) + "\n", encoding="utf-8")
    return [md, js] + (_plots(run_dir, s["cells"]) if plots else [])


def _json_default(x: Any) -> Any:
    return str(x)


def _finite(obj: Any) -> Any:
    """JSON has no NaN: non-finite floats (an empty bootstrap, a degenerate CI) become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


__all__: Iterable[str] = ("build", "summary", "render_md", "claims_table", "cells", "cells_table",
                          "write_claims", "run_meta", "cassette_hashes")
