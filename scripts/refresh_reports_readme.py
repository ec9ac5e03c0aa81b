"""Refresh reports/README.md from a replay's summary.md, keeping the README's own preamble.

reports/README.md is the committed report a visitor reads without running anything: its
preamble (what the study is, how it was recorded) followed by `summary.md` of a replay of the
committed cassettes from its "- trials:" line on. tests/report/test_committed_readme.py checks
the two agree; after a change that changes the report, replay and run this:

    pytest evals/ && python scripts/refresh_reports_readme.py [reports/latest]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "- trials:"


def body(summary_md: str) -> str:
    """The part of a summary.md the README carries: from its '- trials:' line on."""
    return summary_md[summary_md.index("\n" + MARK) + 1:]


def main() -> None:
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "reports" / "latest"
    readme = ROOT / "reports" / "README.md"
    old = readme.read_text(encoding="utf-8")
    preamble = old[: old.index("\n" + MARK) + 1]
    readme.write_text(preamble + body((run / "summary.md").read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{readme} <- {run / 'summary.md'}")


if __name__ == "__main__":
    main()
