"""`report.html`: one self-contained page to look at a run: each claim with its evidence,
protocols compared task by task, and every trial's calls with their prompts and replies.

Why one file with everything inlined (styles, script, data, figures as data URIs): it must
open from disk, be attached to a CI artifact or mailed, and work with no network and no
server. Static parts (header, claims table, effect plots) are rendered here; the rest is drawn
by a small script from embedded data. Trial data is most of a page's bytes, so it is packed
(`sorg.report.pack`: gzip in inert blocks, the index inflated on open, each trial's detail
when it is opened) and the page of a 10,000-trial run stays a few MB that open in about a
second. Trial records are read as plain dicts (`sorg.report.views`), so fields added to
records later show up without a change here, and absent ones are simply not shown.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from sorg.report import lengths, pack
from sorg.report.fmt import (
    ci_usable,
    est_ci,
    fmt,
    fmt_p,
    fmt_power,
    honest_message,
    no_ci,
    outcome_class,
    outcome_word,
    simulated_notice,
    verdict_clusters,
)
from sorg.report.meta import finite, write_text
from sorg.report.prompts import PROMPTS_FILE
from sorg.report.views import INDEX_FIELDS, detail, index_row
from sorg.store import TRIALS_FILE, iter_records

REPORT_HTML = "report.html"
_FILTERS = ("model", "protocol", "n_agents", "level", "stream")


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


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
    cls = ("", "", "opt", "opt", "", "opt", "opt", "", "opt", "opt")
    out = ['<div class="wide"><table id="claims"><thead><tr>' +
           "".join(f'<th class="{c}">{h}</th>' for c, h in zip(cls, head)) + "</tr></thead><tbody>"]
    for i, r in enumerate(rows):
        v = r.get("verdict") or {}
        k = verdict_clusters(v)
        eff = "-" if v.get("effect") is None else f"{v.get('effect_name') or 'effect'}={fmt(v['effect'], 2)}"
        cells = [f'<span class="badge {_e(outcome_class(r))}">{_e(outcome_word(r))}</span>',
                 f'<span title="{_e(r["nodeid"])}">{_e(r["nodeid"].rsplit("::", 1)[-1])}</span>',
                 _e(v.get("test") or v.get("kind") or "-"), _e(v.get("n", "-")),
                 _e(est_ci(v.get("estimate"), v.get("ci"), k)) if v else "-", _e(eff),
                 _e(fmt_p(v.get("p"))), _e(fmt_p(v.get("p_holm"))), _e(fmt_power(v.get("power"))),
                 effect_svg(v) if v else ""]
        out.append(f'<tr class="claim-row" data-claim="{i}">' +
                   "".join(f'<td class="{c}">{x}</td>' for c, x in zip(cls, cells)) + "</tr>")
        msg = honest_message(r.get("message", ""), k)
        out.append(f'<tr class="claim-msg" data-claim="{i}"><td colspan="{len(head)}"><p>{_e(msg)}</p>'
                   f'<div class="evidence" id="evidence-{i}"></div></td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _header_html(s: Mapping[str, Any]) -> str:
    meta = s.get("run") or {}
    items = [f"trials: {s['trials']} ({', '.join(f'{k}: {v}' for k, v in s['status'].items()) or 'none'})",
             f"model calls by source: {', '.join(f'{k}: {v}' for k, v in s['calls_by_source'].items()) or '-'}",
             f"models: {', '.join(s['models']) or '-'}; versions: {', '.join(s['model_versions']) or '-'}",
             f"prompt versions: {', '.join(s['prompt_versions']) or '-'}",
             f"total cost: ${s['total_cost_usd']:.6f}; total tokens: {s['total_tokens']}"]
    if simulated_notice(s["models"]):
        items.insert(0, simulated_notice(s["models"]))
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


def _claims_data(rows: Sequence[Mapping[str, Any]], trials: Any) -> list[dict[str, Any]]:
    """Per claim, what its evidence panel draws: the verdict's estimate and interval and the
    units behind it (`sorg.report.evidence`)."""
    from sorg.report.evidence import per_unit

    out = []
    for r in rows:
        v = r.get("verdict") or {}
        ev = per_unit(v, trials) if trials is not None and v else None
        out.append({"nodeid": r.get("nodeid"), "outcome": outcome_word(r), "kind": v.get("kind"),
                    "estimate": v.get("estimate"),
                    "estimate_name": v.get("estimate_name"), "ci": v.get("ci") if ci_usable(v.get("ci")) else None,
                    "n": v.get("n"), "unit": v.get("unit"), "evidence": ev})
    return out


def _gate_data(gate: Any) -> dict[str, Any]:
    """What the trial reader says about the instrument gate: whether it ran, and each
    instrument that did not pass, with its sentence ("judge_q failed validation (...)")."""
    if not isinstance(gate, Mapping):
        return {}
    bad = {str(name): {"status": str(r.get("status")), "sentence": str(r.get("sentence") or "")}
           for name, r in (gate.get("instruments") or {}).items()
           if isinstance(r, Mapping) and r.get("status") != "passed"}
    return {"on": gate.get("gate") != "off", "failed": bad}


def pack_trials(records: Callable[[], Iterable[Mapping[str, Any]]],
                prompts: Mapping[str, list[Any]] | None = None) -> tuple[dict[str, Any], list[str]]:
    """(the trial index as columns, the packed detail chunks), trials sorted by id.

    Two passes over `records()`; the details (most of a run's text) go to a temporary file as
    they come and are read back in id order by offset, so the controller that writes the report
    of a 25,000-trial run holds the index and one chunk, never every trial's text at once."""
    import tempfile

    rows = sorted((index_row(r) for r in records()), key=lambda t: str(t["trial_id"]))
    order = {str(t["trial_id"]): i for i, t in enumerate(rows)}
    spans: list[tuple[int, int] | None] = [None] * len(rows)
    chunks: list[str] = []
    with tempfile.TemporaryFile() as tmp:
        for r in records():
            tid = str(r.get("trial_id"))
            raw = pack.dumps(detail(r, (prompts or {}).get(tid))).encode("utf-8")
            spans[order[tid]] = (tmp.tell(), len(raw))
            tmp.write(raw)
        for i in range(0, len(rows), pack.CHUNK):
            texts = []
            for span in spans[i:i + pack.CHUNK]:
                if span is None:
                    texts.append("null")
                    continue
                tmp.seek(span[0])
                texts.append(tmp.read(span[1]).decode("utf-8"))
            chunks.append(pack.pack_text("[" + ",".join(texts) + "]"))
    cols: dict[str, Any] = {k: [t.get(k) for t in rows] for k in INDEX_FIELDS}
    qkeys = sorted({q for t in rows for q in t["quality"]})
    cols["quality"] = {q: [t["quality"].get(q) for t in rows] for q in qkeys}
    return cols, chunks


def read_prompts(run_dir: Path) -> dict[str, list[Any]]:
    """Each trial's prompts from the run's prompts file, {} where there is none."""
    import gzip

    p = run_dir / PROMPTS_FILE
    if not p.exists():
        return {}
    out: dict[str, list[Any]] = {}
    with gzip.open(p, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                out[str(d["trial_id"])] = list(d.get("prompts") or [])
    return out


def render_html(s: Mapping[str, Any], records: Iterable[Mapping[str, Any]], pngs: Sequence[Path] = (), *,
                packed: tuple[dict[str, Any], list[str]] | None = None, trials: Any = None,
                has_prompts: bool = False) -> str:
    """The page for a `summary()` and the run's raw trial records (or their `packed` form);
    `trials` (a `sorg.Trials` of the run) gives each claim its per-unit evidence."""
    if packed is None:
        recs = list(records)
        packed = pack_trials(lambda: recs)
        if trials is None and recs:
            from sorg.record import TrialRecord
            from sorg.results import Trials

            try:
                trials = Trials([TrialRecord.from_dict(r) for r in recs])
            except (KeyError, TypeError):  # records of another shape: no per-unit evidence
                trials = None
    cols, chunks = packed
    data = {"run_id": s["run_id"], "quality_keys": sorted(cols["quality"]), "filters": list(_FILTERS),
            "cells": s.get("cells") or [], "claims": _claims_data(s.get("claims") or [], trials),
            "n_trials": len(cols["trial_id"]), "chunk": pack.CHUNK, "has_prompts": has_prompts,
            "gate": _gate_data(s.get("instrument_gate"))}
    figs = "".join(
        f'<figure><img alt="{_e(p.name)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{_e(p.name)}</figcaption></figure>" for p in pngs if p.exists())
    blobs = "\n".join([pack.block("sorg-index", pack.pack(cols))] +
                       [pack.block(f"sorg-chunk-{i}", c) for i, c in enumerate(chunks)])
    parts = {"title": _e(f"sorg run {s['run_id']}"), "css": _asset("report.css"), "header": _header_html(s),
             "claims": _claims_html(s.get("claims") or []), "lengths": lengths.to_html(s.get("length_effects") or []),
             "figures": figs or '<p class="muted">No figures (matplotlib not installed, or plots off).</p>',
             "js": _asset("report.js"), "data": _data_json(finite(data)), "blobs": blobs}
    # One pass, so text from a record can never be taken for a placeholder.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _asset("report.html"))


def write_html(run_dir: Path, s: Mapping[str, Any], pngs: Sequence[Path] = ()) -> Path:
    """Write `report.html` into `run_dir` from its summary, `trials.jsonl` and (when the
    run has one) its prompts file."""
    path = run_dir / TRIALS_FILE
    prompts = read_prompts(run_dir)
    empty: dict[str, Any] = {**{k: [] for k in INDEX_FIELDS}, "quality": {}}
    packed = pack_trials(lambda: iter_records(path), prompts) if path.exists() else (empty, [])
    trials = None
    if path.exists():
        from sorg.results import Trials
        from sorg.store import read_records

        trials = Trials(read_records(path, with_replies=False))
    return write_text(run_dir / REPORT_HTML, render_html(s, (), pngs, packed=packed, trials=trials,
                                                         has_prompts=bool(prompts)))
