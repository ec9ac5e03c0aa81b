"""The report's PNG figures, each saying what it shows and how much data stands behind it.

Why these rules: a reader compares bars and points, so every mark says its cell (protocol,
team size) and its n; a cell of one task has no interval and is drawn hollow, never as a
point with an invisible error bar beside cells of twelve trials.
Plots need matplotlib (the `plot` extra) and are skipped without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sorg.report.fmt import ci_usable

PLOTS = ("quality_by_protocol.png", "scaling.png", "quality_vs_cost.png")
_HOLLOW_NOTE = "hollow / hatched: fewer than 2 tasks, no CI"
#: What every plot's quality axis shows: the cells' `quality`, the judge's Q (sorg.report.data).
QUALITY_LABEL = "judge Q"


def protocol_colours(protocols: Sequence[str]) -> dict[str, Any]:
    """One colour per protocol, the same in every plot of a report: tab10 up to ten
    protocols, tab20 beyond (a protocol never takes another's colour in the next figure)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(protocols) <= 10 else "tab20"]
    return {p: cmap(i % cmap.N) for i, p in enumerate(sorted(protocols))}


def _err(x: Mapping[str, Any] | None, tasks: int) -> tuple[float, float]:
    if not x or not ci_usable(x.get("ci"), tasks):
        return 0.0, 0.0
    return max(x["mean"] - x["ci"][0], 0.0), max(x["ci"][1] - x["mean"], 0.0)


def _has_ci(r: Mapping[str, Any]) -> bool:
    return bool(r.get("quality")) and ci_usable(r["quality"].get("ci"), int(r.get("tasks", 2)))


def _by_protocol(plt: Any, rows: Sequence[Mapping[str, Any]], models: list[str], protocols: list[str],
                 colours: Mapping[str, Any]) -> Any:
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(protocols) * max(1, len(models))), 4.5))
    width = 0.8 / max(1, len(models))
    for mi, m in enumerate(models):
        labelled = False
        for pi, p in enumerate(protocols):
            cs = [r for r in rows if r["model"] == m and r["protocol"] == p and r["quality"]]
            if not cs:
                continue
            # The cell with most trials (ties: the smaller team), named on the bar.
            best = max(cs, key=lambda r: (r["trials"], -r["n_agents"]))
            lo, hi = _err(best["quality"], int(best.get("tasks", 2)))
            x = pi + mi * width
            bar = ax.bar([x], [best["quality"]["mean"]], width=width, yerr=[[lo], [hi]], capsize=3,
                         color=colours[p], alpha=1.0 - 0.45 * (mi % 2), label=None if labelled else m,
                         hatch=None if _has_ci(best) else "//", edgecolor="black", linewidth=0.5)
            labelled = True
            ax.bar_label(bar, labels=[f"{best['n_agents']} ag\nn={best['trials']}"], fontsize=6, padding=2)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(protocols))])
    ax.set_xticklabels(protocols, rotation=30, ha="right")
    ax.set_ylabel(f"{QUALITY_LABEL}: mean, 95% CI")
    ax.set_title(f"{QUALITY_LABEL} by protocol: per protocol, its cell with most trials\n"
                 f"(label: agents, trials; {_HOLLOW_NOTE}{'; shade: model' if len(models) > 1 else ''})",
                 fontsize=9)
    ax.margins(y=0.2)
    if len(models) > 1 and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig


def _scaling(plt: Any, rows: Sequence[Mapping[str, Any]], models: list[str], protocols: list[str],
             colours: Mapping[str, Any]) -> Any:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for mi, m in enumerate(models):
        for p in protocols:
            cs = sorted((r for r in rows if r["model"] == m and r["protocol"] == p and r["quality"]),
                        key=lambda r: r["n_agents"])
            if len(cs) < 2:
                continue
            color = colours[p]
            ns = [r["n_agents"] for r in cs]
            lab = f"{p} ({m.rsplit('/', 1)[-1]})" if len(models) > 1 else p
            q = [r["quality"]["mean"] for r in cs]
            style = ("-", "--", ":", "-.")[mi % 4]  # colour: protocol; line style: model
            a1.plot(ns, q, color=color, linewidth=1, linestyle=style, label=lab)
            a2.plot(ns, [max(r["cost_usd"]["mean"], 1e-12) for r in cs], color=color, linewidth=1, linestyle=style,
                    label=lab)
            for r, y in zip(cs, q):
                filled = _has_ci(r)
                lo, hi = _err(r["quality"], int(r.get("tasks", 2)))
                a1.errorbar([r["n_agents"]], [y], yerr=[[lo], [hi]], fmt="o", color=color, capsize=2,
                            markerfacecolor=color if filled else "white", markersize=4 + min(r["trials"], 12) / 2)
                a1.annotate(f"n={r['trials']}", (r["n_agents"], y), fontsize=5, xytext=(3, 3),
                            textcoords="offset points")
                a2.plot([r["n_agents"]], [max(r["cost_usd"]["mean"], 1e-12)], "o", color=color,
                        markerfacecolor=color if filled else "white")
    sizes = sorted({r["n_agents"] for r in rows})
    for a, yl in ((a1, f"{QUALITY_LABEL}: mean, 95% CI"), (a2, "cost USD / trial (mean)")):
        a.set_xscale("log", base=2)
        a.set_xticks(sizes, [str(n) for n in sizes])
        a.minorticks_off()
        a.set_xlabel("agents")
        a.set_ylabel(yl)
    a2.set_yscale("log")
    a1.set_title(f"{QUALITY_LABEL} vs team size (n = trials per cell;\n{_HOLLOW_NOTE})", fontsize=9)
    a2.set_title("Cost vs team size", fontsize=9)
    if a1.get_legend_handles_labels()[0]:
        a1.legend(fontsize=7)
    return fig


def _quality_cost(plt: Any, rows: Sequence[Mapping[str, Any]], models: list[str], protocols: list[str],
                  colours: Mapping[str, Any]) -> Any:
    fig, ax = plt.subplots(figsize=(7.5, 5))
    markers = "osD^v<>Pp*"
    for p in protocols:
        for mi, m in enumerate(models):
            cs = [r for r in rows if r["model"] == m and r["protocol"] == p and r["quality"] and r["cost_usd"]]
            if not cs:
                continue
            color = colours[p]
            for j, r in enumerate(cs):
                x, y = max(r["cost_usd"]["mean"], 1e-12), r["quality"]["mean"]
                ax.scatter([x], [y], s=12 + 4 * min(r["trials"], 12), marker=markers[mi % len(markers)],
                           facecolors=color if _has_ci(r) else "white", edgecolors=color,
                           label=(p + (f" ({m.rsplit('/', 1)[-1]})" if len(models) > 1 else "")) if j == 0 else None)
                ax.annotate(str(r["n_agents"]), (x, y), fontsize=5, xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("cost USD / trial (mean)")
    ax.set_ylabel(f"{QUALITY_LABEL} (mean)")
    ax.set_title(f"{QUALITY_LABEL} vs cost: one point per protocol x team size\n"
                 f"(colour: protocol; label: agents; size: trials; {_HOLLOW_NOTE})", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    return fig


def write_plots(run_dir: Path, rows: Sequence[Mapping[str, Any]]) -> list[Path]:
    """Write the three PNGs of `rows` (the summary's cells) into `run_dir`; [] without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        return []
    if not rows:
        return []
    models = sorted({r["model"] for r in rows})
    protocols = sorted({r["protocol"] for r in rows})
    colours = protocol_colours(protocols)
    out: list[Path] = []
    for name, draw in zip(PLOTS, (_by_protocol, _scaling, _quality_cost)):
        fig = draw(plt, rows, models, protocols, colours)
        fig.tight_layout()
        out.append(run_dir / name)
        fig.savefig(out[-1], dpi=110, metadata={"Software": None})
        plt.close(fig)
    return out
