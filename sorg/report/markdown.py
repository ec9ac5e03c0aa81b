"""`summary.md` and the terminal's claims table.

Why tabulate and plain markdown: the summary is read in a pull request, on GitHub and in a
terminal; degenerate intervals read "no CI (1 task)" (`sorg.report.fmt`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from sorg.report import lengths
from sorg.report.fmt import est_ci, fmt_p, fmt_power, honest_message, outcome_word, simulated_notice, verdict_clusters
from sorg.report.fmt import fmt as fnum

_HEADERS = ("claim", "outcome", "test", "n", "estimate [95% CI]", "effect", "p", "p Holm", "power", "for 80% power")


def _claim_cells(r: Mapping[str, Any]) -> list[str]:
    """One claim row's cells, in `_HEADERS` order."""
    v = r.get("verdict") or {}
    eff = "-"
    if v.get("effect") is not None:
        eff = f"{v.get('effect_name') or 'effect'}={_num(v['effect'], 2)}"
    test = v.get("test") or ("-" if v.get("kind") in (None, "", "skip") else v["kind"])
    n = str(v.get("n", "-")) if v and v.get("kind") != "skip" else "-"
    return [r["nodeid"].rsplit("::", 1)[-1], outcome_word(r), test, n,
            est_ci(v.get("estimate"), v.get("ci"), verdict_clusters(v)) if v else "-", eff, fmt_p(v.get("p")),
            fmt_p(v.get("p_holm")), fmt_power(v.get("power")), power_need(r.get("power_plan"))]


def claims_table(rows: Sequence[Mapping[str, Any]], fmt: str = "github") -> str:
    """The claims table: outcome, test, n, estimate with CI, effect, p raw and Holm-adjusted, power."""
    from tabulate import tabulate

    return tabulate([_claim_cells(r) for r in rows], headers=list(_HEADERS), tablefmt=fmt, disable_numparse=True)


#: The terminal table's columns, most wanted first: the ones that do not fit the width move
#: to the claim's wrapped detail line instead of wrapping the table.
_TERMINAL_ORDER = ("claim", "outcome", "estimate [95% CI]", "p Holm", "power", "n", "p", "effect", "for 80% power",
                   "test")


def terminal_claims(rows: Sequence[Mapping[str, Any]], width: int = 100) -> str:
    """The claims table for a terminal `width` columns wide.

    Why not tabulate's table: ten columns make 255-character lines that a terminal folds
    into three broken lines per claim. Here the columns that fit (claim, outcome, estimate
    first) make the table, and what is left (the test, effect, raw p, power plan, a skip's
    reason) follows each claim on indented lines wrapped at the width, so no line is wider
    than `width` unless a single claim name is."""
    if not rows:
        return ""
    cells = [dict(zip(_HEADERS, _claim_cells(r))) for r in rows]
    widths = {h: max(len(h), *(len(c[h]) for c in cells)) for h in _HEADERS}
    shown: list[str] = []
    for h in _TERMINAL_ORDER:  # in order of want, up to the first that does not fit
        if len(shown) >= 2 and sum(widths[x] for x in shown) + widths[h] + 2 * len(shown) > width:
            break
        shown.append(h)
    shown = [h for h in _HEADERS if h in shown]

    def line(vals: Mapping[str, str]) -> str:
        return "  ".join(vals[h].ljust(widths[h]) for h in shown).rstrip()

    out = [line({h: h for h in shown}), line({h: "-" * widths[h] for h in shown})]
    for c in cells:
        out.append(line(c))
        extra = [f"{h}: {c[h]}" for h in _HEADERS if h not in shown and c[h] not in ("-", "")]
        if extra:
            out += textwrap.wrap("; ".join(extra), width=max(width, 40), initial_indent="    ",
                                 subsequent_indent="    ", break_on_hyphens=False)
    return "\n".join(out)


def unjudged_lines(rows: Sequence[Mapping[str, Any]], width: int = 100) -> list[str]:
    """Why each claim that was not judged was not, claims of one reason together, each
    reason once, led by the claim's outcome word ("SKIPPED 2 claims: ...", "NOT MEASURED
    ...") and wrapped at `width`."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in rows:
        v = r.get("verdict") or {}
        if v.get("passed") is not None and r.get("outcome") != "skipped":
            continue
        reason = str(v.get("skip_reason") or r.get("message") or "")
        # A claim the gate or the design stopped (NOT MEASURED, UNDECIDABLE, ERROR) is said on
        # its own line, named; plain skips of one reason (a model the run lacks) share one.
        key = (outcome_word(r), reason, r["nodeid"] if v.get("outcome") else "")
        groups.setdefault(key, []).append(r["nodeid"])
    out: list[str] = []
    for (word, reason, _own), nids in groups.items():
        if reason.lower().startswith(word.lower() + ": "):  # "NOT MEASURED x: not measured: ..." says it twice
            reason = reason[len(word) + 2:]
        head = f"{word} {nids[0]}: {reason}" if len(nids) == 1 else f"{word} {len(nids)} claims: {reason}"
        out += textwrap.wrap(head, width=max(width, 40), subsequent_indent="    ", break_on_hyphens=False)
        out += [f"  {nid}" for nid in nids] if len(nids) > 1 else []
    return out


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
    if simulated_notice(s["models"]):
        lines += [f"**{simulated_notice(s['models'])}**", ""]
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
            lines.append(f"- **{r['nodeid']}** ({outcome_word(r).lower()}): {msg}".rstrip())
    else:
        lines.append("No claims were judged in this run.")
    lines += ["", "## Trials by model, protocol and team size", "",
              "Means per trial with 95% bootstrap CIs clustered by task; a cell of one task has no "
              "interval ('no CI (1 task)'). Cells with trials cut short (budget or error) are marked "
              "incomplete and those trials are left out of the means.", ""]
    lines.append(cells_table(s["cells"]) if s["cells"] else "No trials.")
    lines += gate_section(s)
    lines += lengths.md_lines(s.get("length_effects") or [])
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
             "answers scored higher). A self-organised team's answer is its agents' contributions, "
             "the Coordinator's its synthesis, so answer chars differ; every scorer saw the same "
             "bounded view (at most 4,000 characters: sorg/scoring/view.py); view cut is the share "
             "of trials whose view had to shorten sections. work chars is what the agents wrote. "
             "The judge's five dimensions are 1-4; self-judged counts trials whose judge model was "
             "the agents' own model.", ""]
    rows = s.get("instrument") or []
    lines.append(instrument.table(rows) if rows else "No trials.")
    dims = s.get("judge_dimensions") or {}
    if any(sum(c.values()) for c in dims.values()):
        lines += ["", "Judge scores given, per dimension (count of 1 / 2 / 3 / 4):", ""]
        lines += [f"- {d}: {' / '.join(str(c[k]) for k in ('1', '2', '3', '4'))}" for d, c in dims.items()]
    return lines
