"""`sorg diff`, `sorg cassettes` and `sorg restore`: the subcommands that look back at runs and
recordings.

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


def _project_dirs() -> tuple[str, str]:
    """The project's cassette dir and state dir (the cache dir's parent), as a run would use
    them: its `sorg_cassette_dir` / `sorg_cache_dir` ini keys (else the defaults) under its
    rootdir, or the current directory outside a project."""
    import os

    from sorg import cli_project

    project = cli_project.find()
    root = project.root if project is not None else Path.cwd()
    ini = project.ini if project is not None else {}
    cassettes = os.environ.get("SORG_CASSETTE_DIR") or ini.get("sorg_cassette_dir") or "cassettes"
    cache = os.environ.get("SORG_CACHE_DIR") or ini.get("sorg_cache_dir") or ".sorg/cache"
    state = Path(cache).parent if cache.strip().lower() != "none" else Path(".sorg")
    return str(root / cassettes), str(root / state)


def _cmd_restore(args: argparse.Namespace) -> int:
    """Put the paid replies a full disk left unsaved back into their cassettes."""
    from sorg.model.unsaved import restore

    found_cas, found_state = _project_dirs()
    cassettes, state = args.cassette_dir or found_cas, args.state_dir or found_state
    done = restore(cassettes, state, dry_run=args.dry_run)
    if not done:
        print(f"sorg restore: no kept replies (looked in {Path(state) / 'unsaved'} and the temp folder's "
              "sorg-unsaved)")
        return 0
    for r in done:
        what = f"{r.model} {r.key[:12]}" if r.model else r.path.name
        print(f"{r.outcome:17} {what}  {r.detail or r.path}")
    counts: dict[str, int] = {}
    for r in done:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    print(f"sorg restore: {', '.join(f'{n} {o}' for o, n in counts.items())} (cassettes {cassettes})"
          + ("; rerun without --dry-run to write them" if args.dry_run else ""))
    return 0 if all(r.ok for r in done) else 1


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
    r = sub.add_parser("restore", help="put the paid replies a full disk left unsaved (<state dir>/unsaved, the "
                                       "temp folder) back into their cassettes, so the rerun replays them")
    r.add_argument("--cassette-dir",
                   help="the cassette root (default: the project's sorg_cassette_dir, else cassettes/)")
    r.add_argument("--state-dir", help="the run state folder holding unsaved/ (default: the parent of the project's "
                                       "sorg_cache_dir, else .sorg)")
    r.add_argument("--dry-run", action="store_true", help="only list what would be restored")
    r.set_defaults(fn=_cmd_restore)
