"""`sorg diff` and `sorg cassettes`: the subcommands that look back at runs and recordings.

Why a module of their own: `sorg.cli` gains subcommands from several people at once; these
register themselves through `register(sub)`, one line in `sorg.cli.main`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _cmd_diff(args: argparse.Namespace) -> int:
    """Print what changed from run A to run B; exit 1 when a verdict flipped or B lacks claims or cells."""
    from sorg.report.diff import diff_runs, render_md

    try:
        d = diff_runs(args.run_a, args.run_b, allow_missing=args.allow_missing)
    except FileNotFoundError as exc:
        print(f"sorg diff: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(d.to_json() if args.format == "json" else render_md(d))
    if args.json_out:
        Path(args.json_out).write_text(d.to_json(), encoding="utf-8")
    if args.md_out:
        Path(args.md_out).write_text(render_md(d), encoding="utf-8")
    return d.exit_code


def _cmd_cassettes(args: argparse.Namespace) -> int:
    """Calls per cassette file and model (`stats`), or entries no trial of a run used (`prune`)."""
    from sorg.model import cassette_care as care

    root = Path(args.cassette_dir)
    if not root.is_dir():
        print(f"sorg cassettes: {root} is not a directory", file=sys.stderr)
        return 2
    if args.action == "stats":
        print(care.render_stats(care.stats(root)))
        return 0
    if not args.run:
        print("sorg cassettes prune: give --run reports/<run-id> (a run that replayed every test you keep)",
              file=sys.stderr)
        return 2
    from sorg.store import resolve_run_dir

    plan = care.unused(root, resolve_run_dir(args.run))
    print(care.render_prune(plan, applied=args.apply))
    if args.apply:
        care.prune(plan)
    return 0


def register(sub: Any) -> None:
    """Add `diff` and `cassettes` to the `sorg` command's subparsers."""
    d = sub.add_parser("diff", help="what changed between two runs: flipped verdicts, moved estimates, cells, "
                                    "versions, cassettes (exit 1 when a verdict flipped or B lacks claims or cells)")
    d.add_argument("run_a", help="the base run (reports/<run-id>)")
    d.add_argument("run_b", help="the run to compare with it")
    d.add_argument("--format", choices=["md", "json"], default="md", help="what to print (default markdown)")
    d.add_argument("--allow-missing", action="store_true",
                   help="claims or cells that run B lacks do not fail the diff (a deliberate slice)")
    d.add_argument("--json-out", help="also write the JSON diff to this file")
    d.add_argument("--md-out", help="also write the markdown diff to this file (a pull-request comment)")
    d.set_defaults(fn=_cmd_diff)
    c = sub.add_parser("cassettes", help="cassette care: calls per file and model (stats); entries a run did "
                                         "not use (prune, removed only with --apply)")
    c.add_argument("action", choices=["stats", "prune"])
    c.add_argument("--cassette-dir", default="cassettes", help="the cassette root (default cassettes/)")
    c.add_argument("--run", help="prune: the run whose trials define what is used (reports/<run-id>)")
    c.add_argument("--apply", action="store_true", help="prune: remove the unused entries (default: only list them)")
    c.set_defaults(fn=_cmd_cassettes)
