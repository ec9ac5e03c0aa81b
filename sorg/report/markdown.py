"""`summary.md` and the terminal's claims table.

Why tabulate and plain markdown: the summary is read in a pull request, on GitHub and in a
terminal; degenerate intervals read "no CI (1 task)" (`sorg.report.fmt`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sorg.report.fmt import est_ci, fmt_p, fmt_power, honest_message, outcome_label, verdict_clusters
from sorg.report.fmt import fmt as fnum


def claims_table(rows: Sequence[Mapping[str, Any]], fmt: str = "github") -> str:
    """The claims table: outcome, test, n, estimate with CI, effect, p raw and Holm-adjusted, power."""
    from tabulate import tabulate

    body = []
    for r in rows:
        v = r.get("verdict") or {}
        eff = "-"
        if v.get("effect") is not None:
            eff = f"{v.get('effect_name') or 'effect'}={_num(v['effect'], 2)}"
        body.append([
            r["nodeid"].rsplit("::", 1)[-1],
            outcome_label(r["outcome"]),
            v.get("test") or v.get("kind") or "-",
            v.get("n") if v else "-",
            est_ci(v.get("estimate"), v.get("ci"), verdict_clusters(v)) if v else "-",
            eff,
            fmt_p(v.get("p")),
            fmt_p(v.get("p_holm")),
            fmt_power(v.get("power")),
            power_need(r.get("power_plan")),
        ])
    headers = ["claim", "outcome", "test", "n", "estimate [95% CI]", "effect", "p", "p Holm", "power", "for 80% power"]
    return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True)


def power_need(plan: Mapping[str, Any] | None) -> str:
    """"short: needs 23 tasks" where the sweep is below 80% power at the observed effect, "ok"
    where it reaches it, "-" where no power model applies (descriptive or not judged)."""
    if not plan or plan.get("n_needed") is None:
        return "-"
    need = f"{plan['n_needed']} {plan.get('unit') or 'units'}"
    return f"short: needs {need}" if plan.get("short") else f"ok ({need})"


def _num(x: Any, digits: int = 3) -> str:
    return fnum(x, digits)


def _cell(x: Any, tasks: int, digits: int = 3) -> str:
    if not x:
        return "-"
    return est_ci(x["mean"], x.get("ci"), tasks, digits)


def cells_table(rows: Sequence[Mapping[str, Any]], fmt: str = "github") -> str:
    """One line per model x protocol x team size, with the trials and tasks behind each mean."""
    from tabulate import tabulate

    has_coverage = any(r.get("coverage") for r in rows)
    body = []
    for r in rows:
        n = str(r["trials"])
        if r["incomplete"]:
            n += f" (+{r['incomplete']} incomplete: {', '.join(r['incomplete_status'])})"
        k = int(r.get("tasks", 2))
        line = [r["model"], r["protocol"], r["n_agents"], n, k, _cell(r["quality"], k)]
        if has_coverage:
            line.append(_cell(r["coverage"], k))
        line += [_cell(r["cost_usd"], k, 6), _cell(r["tokens"], k, 0), _cell(r["unique_roles"], k, 2),
                 _cell(r["abstention"], k, 3)]
        body.append(line)
    headers = ["model", "protocol", "agents", "trials", "tasks", "judge Q [95% CI]"]
    if has_coverage:
        headers.append("coverage [95% CI]")
    headers += ["cost USD / trial", "tokens / trial", "unique roles", "abstention rate"]
    return tabulate(body, headers=headers, tablefmt=fmt, disable_numparse=True)


def render_md(s: Mapping[str, Any]) -> str:
    """The whole `summary.md` of a `summary()`."""
    meta = s.get("run") or {}
    lines = [f"# sorg run {s['run_id']}", ""]
    lines.append(f"- trials: {s['trials']} ({', '.join(f'{k}: {v}' for k, v in s['status'].items()) or 'none'})")
    lines.append(f"- model calls by source: {', '.join(f'{k}: {v}' for k, v in s['calls_by_source'].items()) or '-'}")
    lines.append(f"- models: {', '.join(s['models']) or '-'}; "
                 f"versions reported: {', '.join(s['model_versions']) or '-'}")
    lines.append(f"- prompt versions: {', '.join(s['prompt_versions']) or '-'}")
    lines.append(f"- total cost: ${s['total_cost_usd']:.6f}; total tokens: {s['total_tokens']}")
    j = s.get("judge") or {}
    if j.get("calls"):
        lines.append(f"- of which the judge: {j['calls']} calls, {j['tokens']} tokens, ${j['cost_usd']:.6f}; "
                     f"{j['failures']} judge failure(s)")
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
            msg = honest_message(r.get("message", ""), verdict_clusters(r.get("verdict") or {}))
            lines.append(f"- **{r['nodeid']}** ({outcome_label(r['outcome']).lower()}): {msg}".rstrip())
    else:
        lines.append("No claims were judged in this run.")
    lines += ["", "## Trials by model, protocol and team size", "",
              "Means per trial with 95% bootstrap CIs clustered by task; a cell of one task has no "
              "interval ('no CI (1 task)'). Cells with trials cut short (budget or error) are marked "
              "incomplete and those trials are left out of the means.", ""]
    lines.append(cells_table(s["cells"]) if s["cells"] else "No trials.")
    lines += gate_section(s)
    lines += instrument_section(s)
    return "\n".join(lines) + "\n"


def gate_section(s: Mapping[str, Any]) -> list[str]:
    """The instrument gate: each scorer and emergence measure, its checks and figures; a claim
    over one that did not pass reads "not measured" above."""
    from sorg import instrument

    doc = s.get("instrument_gate")
    lines = ["", "## Instrument validation (the gate)", ""]
    if not doc:
        return lines + ["This run has no instrument.json: no instrument was validated."]
    if doc.get("gate") == "off":
        lines += ["**The gate was OFF (`--sorg-gate=off`): claims over unvalidated instruments show their "
                  "figures; exploration only, not findings.**", ""]
    lines += ["Scorers are checked on a ladder of known order per task (empty < mission echoed < another "
              "task's reference < half the reference < the reference): mean Kendall tau >= 0.6, the empty "
              "answer at the floor, the same score when asked again, and for a multi-dimension judge the "
              "same scores with the dimensions reordered. Emergence measures are checked against what "
              "their replies must show (sorg/metrics.py). A claim over one that did not pass is "
              "'not measured'.", ""]
    lines.append(instrument.gate_table(doc))
    lines.append("")
    insts = doc.get("instruments") or {}
    lines += [f"- **{name}**: {r.get('sentence', '')}" for name, r in sorted(insts.items())]
    judges = [n for n, r in insts.items() if n.startswith("judge") and r.get("status") != "passed"]
    if judges and (insts.get("coverage") or {}).get("status") == "passed":
        lines += ["", f"No judge passed ({', '.join(sorted(judges))}): the deterministic `coverage` is the "
                      "primary quality of this run; claims over the judge's Q are not measured."]
    return lines


def instrument_section(s: Mapping[str, Any]) -> list[str]:
    """The per-protocol instrument table and the judge's score counts, as markdown lines."""
    from sorg import instrument

    lines = ["", "## The instrument, per protocol", "",
             "Means over ok trials. rho(length, q): Spearman's rank correlation between the answer's "
             "length in characters and quality q within the protocol (a positive rho means longer "
             "answers scored higher). Every protocol's answer is one assembly call under the same "
             "token budget, so answer chars stay comparable; work chars is what the agents wrote "
             "before assembly. The judge's five dimensions are 1-4; self-judged counts trials whose "
             "judge model was the agents' own model.", ""]
    rows = s.get("instrument") or []
    lines.append(instrument.table(rows) if rows else "No trials.")
    dims = s.get("judge_dimensions") or {}
    if any(sum(c.values()) for c in dims.values()):
        lines += ["", "Judge scores given, per dimension (count of 1 / 2 / 3 / 4):", ""]
        lines += [f"- {d}: {' / '.join(str(c[k]) for k in ('1', '2', '3', '4'))}" for d, c in dims.items()]
    return lines
