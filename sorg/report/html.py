"""`report.html`: one self-contained page to look at a run (claims, cells, trials).

Why one file with everything inlined (styles, script, data, figures as data URIs): it must
open from disk, be attached to a CI artifact or mailed, and work with no network and no
server. Static parts (header, claims table, effect plots) are rendered here; the cell table
and the trial browser are drawn by a small script from the embedded JSON, because their
filters would otherwise need a page per combination. Trial records are read as plain dicts,
so fields added to records later (`scores`, `stream_id`, `position`, new quality names, a
judge's dimensions) show up without a change here, and absent ones are simply not shown.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from sorg.report.fmt import (
    ci_usable,
    est_ci,
    fmt,
    fmt_p,
    fmt_power,
    honest_message,
    no_ci,
    outcome_label,
    verdict_clusters,
)
from sorg.report.meta import finite, write_text
from sorg.store import TRIALS_FILE, iter_records

REPORT_HTML = "report.html"
#: Trials whose turns are embedded in full; beyond it, the browser lists the trial only
#: (a 25,000-trial sweep would otherwise make a page no browser opens).
MAX_DETAILED_TRIALS = 2000
_TEXT_CAP = 4000
_REPLY_FIELDS = ("agent", "round", "position", "kind", "role", "role_raw", "abstain", "contribution", "builds_on",
                 "defers_to", "parse_failed", "prompt_tokens", "completion_tokens", "cost_usd", "source")
_FILTERS = ("model", "protocol", "n_agents", "level", "stream")


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _cap(text: Any, n: int = _TEXT_CAP) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def _stream(rec: Mapping[str, Any]) -> str:
    s = rec.get("stream_id")
    return "-" if s in (None, "") else str(s)


def trial_view(rec: Mapping[str, Any], detailed: bool = True) -> dict[str, Any]:
    """What the trial browser shows of one record: its identity, every quality and score
    key it has, its judge fields, and (when `detailed`) its turns in speaking order."""
    out: dict[str, Any] = {k: rec.get(k) for k in ("trial_id", "task_id", "level", "domain", "protocol", "model",
                                                   "n_agents", "seed", "status", "error", "calls", "cost_usd",
                                                   "answer_chars", "position")}
    out["stream"] = _stream(rec)
    out["tokens"] = int(rec.get("prompt_tokens") or 0) + int(rec.get("completion_tokens") or 0)
    out["quality"] = dict(rec.get("quality") or {})
    for k in ("scores", "judge"):
        v = rec.get(k)
        out[k] = v if isinstance(v, dict) else {}
    if not detailed:
        out["replies"] = None
        return out
    out["answer"] = _cap(rec.get("answer"))
    replies = []
    for i, r in enumerate(rec.get("replies") or ()):
        row = {k: r[k] for k in _REPLY_FIELDS if k in r}
        row["contribution"] = _cap(row.get("contribution"), 1500)
        row["_i"] = i
        replies.append(row)
    # Speaking order: by round, then the recorded position, then the order of the record.
    replies.sort(key=lambda r: (r.get("round", 0), r.get("position", r["_i"]), r["_i"]))
    for r in replies:
        r.pop("_i")
    out["replies"] = replies
    return out


def _mean(vals: Iterable[Any]) -> float | None:
    xs = [float(v) for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    return math.fsum(xs) / len(xs) if xs else None


def cell_rows(trials: Sequence[Mapping[str, Any]], quality_keys: Sequence[str]) -> list[dict[str, Any]]:
    """Means per model x protocol x team size x level x stream (the page's filterable table)."""
    groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
    for t in trials:
        groups[(t["model"], t["protocol"], t["n_agents"], t["level"], t["stream"])].append(t)
    rows = []

    def _order(kv: tuple[Any, Any]) -> tuple[str, ...]:
        return tuple(str(x).zfill(6) if isinstance(x, int) else str(x) for x in kv[0])

    for key, ts in sorted(groups.items(), key=_order):
        ok = [t for t in ts if t.get("status") == "ok"]
        row: dict[str, Any] = dict(zip(_FILTERS, key))
        row.update(trials=len(ok), incomplete=len(ts) - len(ok), tasks=len({t["task_id"] for t in ok}),
                   cost_usd=_mean(t["cost_usd"] for t in ok), tokens=_mean(t["tokens"] for t in ok))
        row["quality"] = {q: _mean(t["quality"].get(q) for t in ok) for q in quality_keys}
        rows.append(row)
    return rows


def effect_svg(v: Mapping[str, Any], width: int = 220, height: int = 34) -> str:
    """A small forest plot of one claim: the estimate, its 95% CI (or a hollow point and
    'no CI' where it cannot be estimated), and the null at 0 (1 for a ratio)."""
    est = v.get("estimate")
    if not isinstance(est, (int, float)) or not math.isfinite(est):
        return '<span class="muted">no estimate</span>'
    ci = v.get("ci")
    k = verdict_clusters(v)
    has_ci = ci_usable(ci, k)
    null = 1.0 if v.get("kind") == "ratio" else 0.0
    if v.get("kind") == "count":
        null = est
    pts = [est, null] + ([float(ci[0]), float(ci[1])] if has_ci and ci else [])
    lo, hi = min(pts), max(pts)
    pad = (hi - lo) * 0.15 or max(abs(est), 1.0) * 0.5
    lo, hi = lo - pad, hi + pad

    def x(val: float) -> float:
        return round(8 + (width - 16) * (val - lo) / (hi - lo), 2)

    mid = height // 2
    parts = [f'<svg class="effect" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="estimate {_e(fmt(est))}">',
             f'<line x1="{x(null)}" y1="2" x2="{x(null)}" y2="{height - 2}" class="null"/>']
    if has_ci and ci:
        parts.append(f'<line x1="{x(float(ci[0]))}" y1="{mid}" x2="{x(float(ci[1]))}" y2="{mid}" class="ci"/>')
        parts.append(f'<circle cx="{x(est)}" cy="{mid}" r="4" class="est"/>')
    else:
        parts.append(f'<circle cx="{x(est)}" cy="{mid}" r="4" class="est hollow"/>')
        parts.append(f'<text x="{min(x(est) + 7, width - 70)}" y="{mid - 6}">{_e(no_ci(k))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _claims_html(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return '<p class="muted">No claims were judged in this run.</p>'
    head = ("verdict", "claim", "test", "n", "estimate [95% CI]", "effect", "p", "p Holm", "power", "effect plot")
    out = ['<table id="claims"><thead><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        v = r.get("verdict") or {}
        k = verdict_clusters(v)
        eff = "-" if v.get("effect") is None else f"{v.get('effect_name') or 'effect'}={fmt(v['effect'], 2)}"
        cells = [f'<span class="badge {_e(r["outcome"])}">{_e(outcome_label(r["outcome"]))}</span>',
                 f'<span title="{_e(r["nodeid"])}">{_e(r["nodeid"].rsplit("::", 1)[-1])}</span>',
                 _e(v.get("test") or v.get("kind") or "-"), _e(v.get("n", "-")),
                 _e(est_ci(v.get("estimate"), v.get("ci"), k)) if v else "-", _e(eff),
                 _e(fmt_p(v.get("p"))), _e(fmt_p(v.get("p_holm"))), _e(fmt_power(v.get("power"))),
                 effect_svg(v) if v else ""]
        out.append('<tr class="claim-row">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        msg = honest_message(r.get("message", ""), k)
        out.append(f'<tr class="claim-msg"><td colspan="{len(head)}">{_e(msg)}</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


def _header_html(s: Mapping[str, Any]) -> str:
    meta = s.get("run") or {}
    items = [f"trials: {s['trials']} ({', '.join(f'{k}: {v}' for k, v in s['status'].items()) or 'none'})",
             f"model calls by source: {', '.join(f'{k}: {v}' for k, v in s['calls_by_source'].items()) or '-'}",
             f"models: {', '.join(s['models']) or '-'}; versions: {', '.join(s['model_versions']) or '-'}",
             f"prompt versions: {', '.join(s['prompt_versions']) or '-'}",
             f"total cost: ${s['total_cost_usd']:.6f}; total tokens: {s['total_tokens']}"]
    if meta:
        items.append(f"sorg {meta.get('sorg_version', '?')}, record mode {meta.get('record', '?')}, "
                     f"judge {meta.get('judge_model') or 'none'}, budget {meta.get('budget_usd') or 'none'}")
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _asset(name: str) -> str:
    return resources.files("sorg.report").joinpath("assets", name).read_text(encoding="utf-8")


def _data_json(data: Any) -> str:
    """JSON safe inside a <script> element (no '</' can close it early)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def trial_views(records: Callable[[], Iterable[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """The browser's trials, sorted by id; turns for the first `MAX_DETAILED_TRIALS` only.
    Two passes over `records()` (ids, then views), so a large store is never held whole."""
    ids = sorted(str(r.get("trial_id")) for r in records())
    detailed = set(ids[:MAX_DETAILED_TRIALS])
    views = [trial_view(r, str(r.get("trial_id")) in detailed) for r in records()]
    return sorted(views, key=lambda t: str(t["trial_id"]))


def render_html(s: Mapping[str, Any], records: Iterable[Mapping[str, Any]], pngs: Sequence[Path] = (), *,
                views: list[dict[str, Any]] | None = None) -> str:
    """The page for a `summary()` and the run's raw trial records (or their `views`)."""
    if views is None:
        recs = list(records)
        views = trial_views(lambda: recs)
    trials = views
    qkeys = sorted({q for t in trials for q in t["quality"]})
    data = {"run_id": s["run_id"], "quality_keys": qkeys, "filters": list(_FILTERS),
            "cells": cell_rows(trials, qkeys), "trials": trials, "max_detailed": MAX_DETAILED_TRIALS}
    figs = "".join(
        f'<figure><img alt="{_e(p.name)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{_e(p.name)}</figcaption></figure>" for p in pngs if p.exists())
    parts = {"title": _e(f"sorg run {s['run_id']}"), "css": _asset("report.css"), "header": _header_html(s),
             "claims": _claims_html(s.get("claims") or []),
             "figures": figs or '<p class="muted">No figures (matplotlib not installed, or plots off).</p>',
             "js": _asset("report.js"), "data": _data_json(finite(data))}
    # One pass, so text from a record can never be taken for a placeholder.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _asset("report.html"))


def write_html(run_dir: Path, s: Mapping[str, Any], pngs: Sequence[Path] = ()) -> Path:
    """Write `report.html` into `run_dir` from its summary and `trials.jsonl`."""
    path = run_dir / TRIALS_FILE
    views = trial_views(lambda: iter_records(path)) if path.exists() else []
    return write_text(run_dir / REPORT_HTML, render_html(s, (), pngs, views=views))
