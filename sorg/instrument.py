"""How the instrument behaves on a run: judge Q and its dimensions, the deterministic score,
answer length, and whether length moves quality, per protocol.

Why in every report: a quality score that rises with answer length ranks protocols by volume,
not by work, and looks like a result. Showing, per protocol, the rank correlation between the
answer's length and each quality score (and the answers' sizes side by side) lets a reader see
at once whether a protocol's lead could have been bought with text. Pure functions over trial
records; no model, no I/O.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sorg.record import TrialRecord

#: The row that pools every protocol of a model (sorted last: "~" after letters).
ALL = "~all protocols"
DIMENSIONS = ("accuracy", "completeness", "coherence", "actionability", "mission_relevance")


def _mean(xs: Sequence[float]) -> float | None:
    return math.fsum(xs) / len(xs) if xs else None


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None when either side is constant
    or there are fewer than 3 pairs."""
    if len(x) != len(y) or len(x) < 3:
        return None

    def ranks(v: Sequence[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        out = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return out

    rx, ry = ranks(x), ranks(y)
    mx, my = _mean(rx), _mean(ry)
    assert mx is not None and my is not None
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = math.fsum((a - mx) ** 2 for a in rx)
    syy = math.fsum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def rows(records: Sequence[TrialRecord]) -> list[dict[str, Any]]:
    """One row per model x protocol over ok trials (and one pooling the model's protocols):
    quality means, the judge's dimension means, answer sizes, and Spearman(answer length,
    quality) for each quality score."""
    groups: dict[tuple[str, str], list[TrialRecord]] = defaultdict(list)
    for r in records:
        if r.status == "ok":
            groups[(r.model, r.protocol)].append(r)
            groups[(r.model, ALL)].append(r)
    names = sorted({q for r in records for q in r.quality})
    out = []
    for (model, protocol), recs in sorted(groups.items()):
        row: dict[str, Any] = {"model": model, "protocol": protocol, "trials": len(recs),
                               "answer_chars": _mean([float(r.answer_chars) for r in recs]),
                               "work_chars": _mean([float(r.work_chars) for r in recs]),
                               "view_cut": _mean([float(r.scored_cut) for r in recs])}
        for q in names:
            pairs = [(float(r.answer_chars), float(r.quality[q])) for r in recs if q in r.quality]
            row[q] = _mean([v for _, v in pairs])
            row[f"rho_length_{q}"] = spearman([a for a, _ in pairs], [v for _, v in pairs])
        judged = [r.judge for r in recs if r.judge and not r.judge.get("failed")]
        for d in DIMENSIONS:
            row[d] = _mean([float(j[d]) for j in judged if d in j])
        row["judge_failures"] = sum(1 for r in recs if r.judge.get("failed"))
        row["self_judged"] = sum(1 for r in recs if r.judge.get("self_judged"))
        out.append(row)
    return out


def dimension_counts(records: Sequence[TrialRecord]) -> dict[str, dict[str, int]]:
    """How often the judge gave each score 1-4 on each dimension (ok, judged trials)."""
    counts: dict[str, Counter[int]] = {d: Counter() for d in DIMENSIONS}
    for r in records:
        j = r.judge
        if r.status != "ok" or not j or j.get("failed"):
            continue
        for d in DIMENSIONS:
            if d in j:
                counts[d][int(j[d])] += 1
    return {d: {str(k): c[k] for k in (1, 2, 3, 4)} for d, c in counts.items()}


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def table(rs: Sequence[Mapping[str, Any]], fmt: str = "github") -> str:
    """The per-protocol instrument table (markdown by default)."""
    from tabulate import tabulate

    names = sorted({k for r in rs for k in r if k.startswith("rho_length_")})
    qs = [n[len("rho_length_"):] for n in names]
    body = []
    for r in rs:
        line = [r["model"], r["protocol"], r["trials"]]
        for q in qs:
            line += [_f(r.get(q)), _f(r.get(f"rho_length_{q}"), 2)]
        line += [_f(r.get(d), 2) for d in DIMENSIONS]
        line += [_f(r.get("answer_chars"), 0), _f(r.get("work_chars"), 0), _f(r.get("view_cut"), 2),
                 f"{r['self_judged']}/{r['trials']}", r["judge_failures"]]
        body.append(line)
    headers = ["model", "protocol", "trials"]
    for q in qs:
        headers += [q, f"rho(length, {q})"]
    headers += ["acc", "comp", "coh", "act", "rel", "answer chars", "work chars", "view cut", "self-judged",
                "judge failures"]
    return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True)


# --------------------------------------------------------------------------- the instrument gate
#: The file of a run that holds the gate's results (scorers and emergence measures).
INSTRUMENT_FILE = "instrument.json"


def emergence_gate(records: Sequence[TrialRecord], tasks: Mapping[str, Any]) -> dict[str, Any]:
    """Each emergence measure's gate result from its validity checks (`sorg.metrics`): passed
    when all its checks pass, failed when one fails, not run when one had no data."""
    from sorg.metrics import emergence_checks
    from sorg.scoring.gate import Check, GateResult, Status

    checks = emergence_checks(records, tasks)
    out: dict[str, Any] = {}
    for inst in sorted({i for c in checks for i in c.instruments}):
        mine = [c for c in checks if inst in c.instruments]
        as_checks = tuple(Check(c.name, c.figure, c.threshold, bool(c.passed), c.what) for c in mine)
        missing = [c.name for c in mine if c.passed is None]
        failed = [c for c in mine if c.passed is False]
        status: Status
        if failed:
            status, reason = "failed", "; ".join(f"{c.name} {_f(c.figure, 2)}, needs {c.threshold}" for c in failed)
        elif missing:
            status, reason = "not_run", f"no data for {', '.join(missing)}"
        else:
            status, reason = "passed", "; ".join(f"{c.name} {_f(c.figure, 2)}" for c in mine)
        out[inst] = GateResult(inst, status, as_checks, reason=reason,
                               per_task={"n": {c.name: c.n for c in mine}})
    return out


def scorer_gate(opts: Any, client_factory: Any = None) -> dict[str, Any]:
    """Each of the run's scorers through the gate (a model scorer per judge model: the run's
    judge, or each agent model judging itself). A scorer whose judge models do not all pass
    keeps the worst result."""
    from sorg.scoring import SCORERS
    from sorg.scoring.gate import run_gate
    from sorg.scoring.ladder import load_references
    from sorg.tasks.bank import load_bank

    bank = list(load_bank(opts.bank))
    refs = load_references(opts.bank)
    judges = [opts.judge_model] if opts.judge_model not in (None, "self") else list(opts.models)
    client = None
    if any(SCORERS[s].needs_model for s in opts.scorers):
        if client_factory is not None:
            client = client_factory()
        else:
            from sorg.model.client import ModelClient

            client = ModelClient(cassette_dir=opts.cassette_dir, record=opts.record, cassette_name="gate",
                                 cache_dir=opts.cache_dir, budget_usd=opts.budget_usd, timeout_s=opts.timeout_s,
                                 retries=opts.retries, concurrency=opts.concurrency,
                                 model_config=getattr(opts, "model_config", None))
    try:
        results = run_gate(list(opts.scorers), bank, refs, client=client, judge_models=judges,
                           model=judges[0] if judges else "")
    finally:
        if client is not None:
            client.close()
    rank = {"not_run": 0, "failed": 1, "passed": 2}
    out: dict[str, Any] = {}
    for r in results:
        if r.scorer not in out or rank[r.status] < rank[out[r.scorer].status]:
            out[r.scorer] = r
    return out


def write_gate(run_dir: Any, results: Mapping[str, Any], enabled: bool) -> None:
    """instrument.json: every instrument's gate result, and whether the gate was applied."""
    import json
    from pathlib import Path

    doc = {"gate": "on" if enabled else "off",
           "instruments": {k: v.to_dict() for k, v in sorted(results.items())}}
    Path(run_dir, INSTRUMENT_FILE).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


def gate_table(doc: Mapping[str, Any], fmt: str = "github") -> str:
    """The report's instrument-gate table from instrument.json: instrument x check -> figure."""
    from tabulate import tabulate

    body = []
    for name, r in sorted((doc.get("instruments") or {}).items()):
        checks = r.get("checks") or []
        if not checks:
            body.append([name, r.get("status", "").replace("_", " "), "-", "-", "-", r.get("reason", "")])
        for c in checks:
            body.append([name, r.get("status", "").replace("_", " "), c["name"], _f(c.get("figure"), 3),
                         "pass" if c.get("passed") else "FAIL", c.get("threshold", "")])
    return tabulate(body, headers=["instrument", "gate", "check", "figure", "check result", "threshold / note"],
                    tablefmt=fmt, disable_numparse=True)


def judge_usage(records: Sequence[TrialRecord]) -> dict[str, Any]:
    """The judges' calls, tokens and dollars over `records` (every model scorer's `usage`), and
    how many trials a judge failed on: the run's totals include them."""
    calls = tokens = failures = 0
    cost = []
    for r in records:
        for details in r.scores.values():
            u = details.get("usage") if isinstance(details, Mapping) else None
            if u:
                calls += int(u.get("calls", 0))
                tokens += int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0))
                cost.append(float(u.get("cost_usd", 0.0)))
            if isinstance(details, Mapping) and details.get("failed") is True:
                failures += 1
    return {"calls": calls, "tokens": tokens, "cost_usd": math.fsum(cost), "failures": failures}
