"""`sorg runs list|prune`: see the run directories under reports/ and remove old ones.

Why: every `pytest evals/` writes a run directory (trials, claims, report, plots: tens of
MB for the study), and nothing removed them. Pruning keeps what a person would want kept:
the newest N runs, every run given a name (`--sorg-run-id=base`: someone meant to keep it),
and always the run `latest` points at. Like `sorg cassettes prune`, it lists what it would
remove and removes only with `--apply`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A run id sorg made itself (`sorg.store.new_run_id`: UTC time and pid); any other is a name.
_AUTO_ID = re.compile(r"\d{8}-\d{6}-\d+")


@dataclass(frozen=True)
class Run:
    """One run directory: its id, size, age, and whether it is named or `latest`."""

    path: Path
    bytes: int
    mtime: float
    trials: int
    named: bool
    latest: bool


def _count_lines(p: Path) -> int:
    if not p.exists():
        return 0
    with p.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def runs(report_dir: Path) -> list[Run]:
    """The run directories under `report_dir` (those holding trials.jsonl or claims.json), newest first."""
    from sorg.store import CLAIMS_FILE, LATEST, TRIALS_FILE, resolve_run_dir

    latest = resolve_run_dir(report_dir / LATEST).resolve() if (report_dir / LATEST).exists() else None
    out = []
    for d in sorted(report_dir.iterdir()) if report_dir.is_dir() else []:
        if d.name == LATEST or d.is_symlink() or not d.is_dir():
            continue
        if not ((d / TRIALS_FILE).exists() or (d / CLAIMS_FILE).exists()):
            continue
        files = [f for f in d.rglob("*") if f.is_file()]
        out.append(Run(d, sum(f.stat().st_size for f in files), max((f.stat().st_mtime for f in files),
                                                                     default=d.stat().st_mtime),
                       _count_lines(d / TRIALS_FILE), not _AUTO_ID.fullmatch(d.name), d.resolve() == latest))
    return sorted(out, key=lambda r: (r.mtime, r.path.name), reverse=True)


def to_prune(all_runs: list[Run], keep: int) -> list[Run]:
    """The runs `prune --keep N` removes: unnamed runs beyond the N newest unnamed ones (by
    their id, the UTC time they started: a later report rebuild does not make a run newer),
    never the latest run."""
    unnamed = sorted((r for r in all_runs if not r.named), key=lambda r: r.path.name, reverse=True)
    return [r for r in unnamed[keep:] if not r.latest]


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _cmd_runs(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    root = Path(args.report_dir)
    if not root.is_dir():
        print(f"sorg runs: {root} is not a directory (give --report-dir)", file=sys.stderr)
        return 2
    found = runs(root)
    if args.action == "list":
        rows = [[r.path.name + (" (latest)" if r.latest else ""), "named" if r.named else "-", r.trials, _mb(r.bytes),
                 time.strftime("%Y-%m-%d %H:%M", time.gmtime(r.mtime))] for r in found]
        print(tabulate(rows, headers=["run", "named", "trials", "size", "modified (UTC)"], disable_numparse=True))
        print(f"{len(found)} runs, {_mb(sum(r.bytes for r in found))}")
        return 0
    if args.keep < 0:
        print("sorg runs prune: --keep is a count of runs from 0", file=sys.stderr)
        return 2
    gone = to_prune(found, args.keep)
    verb = "removed" if args.apply else "would remove"
    for r in gone:
        print(f"{verb} {r.path} ({r.trials} trials, {_mb(r.bytes)})")
    kept = len(found) - len(gone)
    print(f"{verb} {len(gone)} runs ({_mb(sum(r.bytes for r in gone))}); kept {kept} (the {args.keep} newest, "
          "every named run, and latest)" + ("" if args.apply or not gone else "; add --apply to remove them"))
    if args.apply:
        for r in gone:
            shutil.rmtree(r.path)
    return 0


def register(sub: Any) -> None:
    """Add `runs` to the `sorg` command's subparsers."""
    r = sub.add_parser("runs", help="list the run directories under reports/, or prune old ones (keep the newest N, "
                                    "every named run and latest; removed only with --apply)")
    r.add_argument("action", choices=["list", "prune"])
    r.add_argument("--report-dir", default="reports", help="where runs live (default reports)")
    r.add_argument("--keep", type=int, default=5, help="prune: unnamed runs to keep, newest first (default 5)")
    r.add_argument("--apply", action="store_true", help="prune: remove them (default: only list them)")
    r.set_defaults(fn=_cmd_runs)
