"""The report's "Protocol effects and answer length" section: per model and quality metric,
each protocol's effect against the reference raw and adjusted for the answer's length
(`sorg.stats.length_adjust`), next to each protocol's mean answer length.

Why in every report: a scorer that rewards volume ranks protocols by how much they write, and
that reads as a protocol effect. Showing the effect beside the same effect at equal length lets
a reader see at once whether volume moves it. Only a metric whose instrument passed the gate
(`instrument.json`) gets figures; any other reads "not measured" with the gate's reason and no
number at all, as a claim over it would (with the gate off, figures are shown and labelled
exploration). Lengths are of the team's full answer text (`len(record.answer)`), what the
protocol handed in, whatever part of it a scorer was shown.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sorg.record import TrialRecord
from sorg.report.fmt import est_ci, fmt

TITLE = "Protocol effects and answer length"
INTRO = ("Each protocol against the reference protocol (the Coordinator where it ran; else the first of "
         "the paper's protocols, then of the run's, that ran), compared within model, task, seed and team "
         "size. *raw*: the mean paired difference in the score. "
         "*at equal length*: the same effect holding log(1 + answer characters) fixed (fixed effects per "
         "model, task, seed and team size; one length slope shared by all protocols). 95% t intervals, "
         "cluster-robust by task. Descriptive, not a claim: an effect that shrinks at equal length moves "
         "with answer volume; one that stays does not. Answer chars: the length of the team's whole answer.")


def _protocol_order(declared: Sequence[str]) -> tuple[str, ...]:
    """The paper's protocols first (the Coordinator is the reference where it ran), then the
    run's declared order."""
    from sorg.protocols import PAPER

    out = list(PAPER)
    out += [p for p in declared if p not in out]
    return tuple(out)


def _status(metric: str, gate: Mapping[str, Any] | None) -> tuple[str, str]:
    """("measured" | "unvalidated" | "not_measured", the gate's sentence) for quality.`metric`."""
    from sorg.scoring.outcome import instrument_of

    inst = instrument_of(f"quality.{metric}") or metric
    if not gate:
        return "not_measured", "this run has no instrument.json: no instrument was validated"
    res = (gate.get("instruments") or {}).get(inst)
    if isinstance(res, Mapping) and res.get("status") == "passed":
        return "measured", str(res.get("sentence") or f"{inst} passed validation")
    why = str(res.get("sentence") or "") if isinstance(res, Mapping) else f"{inst} was not run through the gate"
    return ("unvalidated" if gate.get("gate") == "off" else "not_measured"), why


def section(records: Sequence[TrialRecord], gate: Mapping[str, Any] | None,
            declared: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Per model: each protocol's ok trials with their mean answer length (and, where records
    have it, the mean length of the bounded view the scorers saw), and per quality metric its gate status and, when it
    may be shown, the effects (`LengthEffects.to_dict()`)."""
    from sorg.stats.length_adjust import Obs, length_effects

    ok = [r for r in records if r.status == "ok"]
    order = _protocol_order(declared)
    out = []
    for model in sorted({r.model for r in ok}):
        mine = [r for r in ok if r.model == model]
        chars = [len(r.answer or "") for r in mine]
        scored = any(r.scored_chars for r in mine)  # records before the bounded view have none
        lengths = []
        for p in sorted({r.protocol for r in mine}, key=lambda p: (order.index(p) if p in order else len(order), p)):
            idx = [i for i, r in enumerate(mine) if r.protocol == p]
            row: dict[str, Any] = {"protocol": p, "trials": len(idx),
                                   "mean_chars": math.fsum(chars[i] for i in idx) / len(idx)}
            if scored:
                row["mean_scored_chars"] = math.fsum(mine[i].scored_chars for i in idx) / len(idx)
            lengths.append(row)
        metrics = []
        for q in sorted({k for r in mine for k in r.quality}):
            status, why = _status(q, gate)
            entry: dict[str, Any] = {"metric": q, "status": status, "gate": why}
            if status != "not_measured":
                obs = [Obs(r.protocol, r.task_id, r.seed, r.n_agents, float(r.quality[q]), c, r.model)
                       for r, c in zip(mine, chars) if isinstance(r.quality.get(q), (int, float))]
                entry["effects"] = length_effects(obs, order).to_dict()
            metrics.append(entry)
        out.append({"model": model, "lengths": lengths, "metrics": metrics})
    return out


def _cell(e: Mapping[str, Any], tasks: int, notes: list[str]) -> str:
    """'0.120 [0.050, 0.190]', '0.120, no CI (1 task)' or 'n/a (note 2)' (the reason below)."""
    if e.get("estimate") is None:
        why = str(e.get("reason") or "not estimable")
        if why not in notes:
            notes.append(why)
        return f"n/a (note {notes.index(why) + 1})"
    if not e.get("ci"):
        return f"{fmt(e['estimate'])}, {e.get('reason') or 'no CI'}"
    return est_ci(e["estimate"], e["ci"], tasks)


def _effect_rows(eff: Mapping[str, Any], notes: list[str]) -> list[list[str]]:
    rows = [[str(eff["reference"]), str(eff.get("reference_trials", 0)), "-", "reference", "reference"]]
    for e in eff.get("effects") or []:
        rows.append([e["protocol"], str(e["trials"]), f"{e['pairs']} ({e['tasks']})",
                     _cell(e["raw"], e["tasks"], notes), _cell(e["adjusted"], e["tasks"], notes)])
    return rows


_EFFECT_HEAD = ["protocol", "trials", "pairs (tasks)", "raw effect [95% CI]", "at equal length [95% CI]"]


def _slope_line(eff: Mapping[str, Any]) -> str:
    s = eff.get("slope") or {}
    if s.get("estimate") is None:
        return ""
    ln2 = math.log(2)
    ci = [c * ln2 for c in s["ci"]] if s.get("ci") else None
    got = est_ci(s["estimate"] * ln2, ci) if ci else f"{fmt(s['estimate'] * ln2)}, {s.get('reason') or 'no CI'}"
    return f"Length slope: {got} in score per doubling of the answer, protocol held fixed."


def _lengths_rows(lengths: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    scored = any("mean_scored_chars" in r for r in lengths)
    head = ["protocol", "ok trials", "answer chars (mean)"] + (["scored view chars (mean)"] if scored else [])
    rows = [[r["protocol"], str(r["trials"]), fmt(r["mean_chars"], 0)] +
            ([fmt(r.get("mean_scored_chars", r["mean_chars"]), 0)] if scored else []) for r in lengths]
    return head, rows


def _metric_text(m: Mapping[str, Any]) -> str:
    if m["status"] == "not_measured":
        return f"**{m['metric']}**: not measured ({m['gate']}); no effect is shown."
    if m["status"] == "unvalidated":
        return (f"**{m['metric']}**: UNVALIDATED, the gate was off ({m['gate']}): exploration only, "
                "not findings.")
    return f"**{m['metric']}** ({m['gate']}):"


def md_lines(data: Sequence[Mapping[str, Any]]) -> list[str]:
    """The section as markdown lines."""
    from tabulate import tabulate

    lines = ["", f"## {TITLE}", "", INTRO, ""]
    if not data:
        return lines + ["No ok trials."]
    for blk in data:
        head, rows = _lengths_rows(blk["lengths"])
        lines += [f"### {blk['model']}", "", tabulate(rows, headers=head, tablefmt="github", disable_numparse=True)]
        for m in blk["metrics"]:
            lines += ["", _metric_text(m)]
            eff = m.get("effects")
            if not eff:
                continue
            if eff.get("reference") is None or not eff.get("effects"):
                lines += ["", f"No effect to estimate: {eff.get('reason')}."]
                continue
            notes: list[str] = []
            lines += ["", tabulate(_effect_rows(eff, notes), headers=_EFFECT_HEAD, tablefmt="github",
                                   disable_numparse=True)]
            extra = [_slope_line(eff)] + [f"note {i + 1}: {n}." for i, n in enumerate(notes)]
            lines += ([""] + [f"- {x}" for x in extra if x]) if any(extra) else []
    return lines


def _table_html(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    e = html.escape
    return ('<div class="wide"><table class="lengths"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head) +
            "</tr></thead><tbody>" + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
            + "</tbody></table></div>")


def to_html(data: Sequence[Mapping[str, Any]]) -> str:
    """The section's body for report.html (static: it is a few small tables)."""
    e = html.escape
    out = [f'<p class="muted">{e(INTRO.replace("*", ""))}</p>']
    if not data:
        return out[0] + '<p class="muted">No ok trials.</p>'
    for blk in data:
        out.append(f"<h3>{e(blk['model'])}</h3>")
        out.append(_table_html(*_lengths_rows(blk["lengths"])))
        for m in blk["metrics"]:
            text = _metric_text(m).replace("**", "")
            cls = "" if m["status"] == "measured" else ' class="muted"'
            out.append(f"<p{cls}><strong>{e(m['metric'])}</strong>{e(text[len(m['metric']):])}</p>")
            eff = m.get("effects")
            if not eff:
                continue
            if eff.get("reference") is None or not eff.get("effects"):
                out.append(f'<p class="muted">No effect to estimate: {e(str(eff.get("reason")))}.</p>')
                continue
            notes: list[str] = []
            out.append(_table_html(_EFFECT_HEAD, _effect_rows(eff, notes)))
            extra = [_slope_line(eff)] + [f"note {i + 1}: {n}." for i, n in enumerate(notes)]
            out += [f'<p class="muted">{e(x)}</p>' for x in extra if x]
    return "\n".join(out)
