"""Reports of a run: `summary.md`, `summary.json`, `report.html` and plots, from the run
directory alone.

Why from files only: a report must be rebuildable (`sorg report reports/<run-id>`) on another
machine, from `trials.jsonl` and the `claims.json` the run wrote, without rerunning a trial
or a claim. Building is deterministic (no clock, no randomness beyond the seeded bootstrap,
records sorted by trial id), so a rebuild, or a second replay, gives byte-identical files.
Plots need matplotlib (the `plot` extra) and are skipped without it; tables need only
tabulate; the HTML page needs nothing (it embeds its data, script and figures).

Modules: `data` (the numbers), `markdown` (summary.md, terminal table), `plots` (PNGs),
`html` (the browsable page), `diff` (run-to-run comparison), `fmt` (shared formatting),
`meta` (run metadata, canonical JSON).
"""

from __future__ import annotations

import os
from pathlib import Path

from sorg.report.data import cells, summary
from sorg.report.markdown import cells_table, claims_table, render_md, terminal_claims, unjudged_lines
from sorg.report.meta import cassette_hashes, dumps, run_meta, write_claims, write_text
from sorg.report.plots import PLOTS

SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"
REPORT_HTML = "report.html"


def build(run_dir: str | os.PathLike[str], plots: bool = True, html: bool = True) -> list[Path]:
    """Write summary.md, summary.json, (unless `html` is False) report.html and (with
    matplotlib, unless `plots` is False) the plots; returns their paths."""
    run_dir = Path(run_dir)
    s = summary(run_dir)
    out = [write_text(run_dir / SUMMARY_MD, render_md(s)), write_text(run_dir / SUMMARY_JSON, dumps(s))]
    pngs: list[Path] = []
    if plots:
        from sorg.report.plots import write_plots

        pngs = write_plots(run_dir, s["cells"])
    if html:
        from sorg.report.html import write_html

        out.append(write_html(run_dir, s, pngs))
    return out + pngs


__all__ = ["build", "summary", "render_md", "claims_table", "terminal_claims", "unjudged_lines",
           "cells", "cells_table", "write_claims", "run_meta",
           "cassette_hashes", "SUMMARY_MD", "SUMMARY_JSON", "REPORT_HTML", "PLOTS"]
