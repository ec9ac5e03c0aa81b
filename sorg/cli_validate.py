"""`sorg validate`: each scorer's instrument-gate result, printed, and optionally written.

Why a command of its own: whether a judge can tell a good answer from a bad one is a property
of the judge model and the scorer, not of a sweep; it is cheap to check before spending a
sweep on it (a dozen tasks, five answers each), and its calls go through the model door, so
they replay from the cassette file ``gate`` like any recorded call.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _cmd_validate(args: argparse.Namespace) -> int:
    from sorg.scoring import SCORERS
    from sorg.scoring.gate import run_gate, table
    from sorg.scoring.ladder import load_references, references_dir
    from sorg.tasks.bank import load_bank

    bank = load_bank(args.bank)
    refs = load_references(args.bank)
    if not refs:
        print(f"sorg validate: the bank has no reference answers ({references_dir(args.bank)}/*.json): "
              "no scorer can be validated, and claims over any scorer read 'not measured'", file=sys.stderr)
    names = [s.strip() for s in args.scorers.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCORERS]
    if unknown:
        print(f"sorg validate: unknown scorer(s) {unknown}; known: {', '.join(sorted(SCORERS))}", file=sys.stderr)
        return 2
    client = None
    if any(SCORERS[n].needs_model for n in names):
        from sorg.model.client import ModelClient

        client = ModelClient(cassette_dir=None if args.cassette_dir == "none" else args.cassette_dir,
                             record=args.record, cassette_name="gate",
                             cache_dir=None if args.cache_dir == "none" else args.cache_dir)
    n_tasks = None if args.tasks == "all" else int(args.tasks)
    try:
        results = run_gate(names, list(bank), refs, client=client, model=args.model,
                           judge_models=(args.judge_model or args.model,), n_tasks=n_tasks)
    finally:
        if client is not None:
            client.close()
    print(table(results))
    if args.out:
        doc: dict[str, Any] = {"bank": str(args.bank or "packaged"), "results": [r.to_dict() for r in results]}
        Path(args.out).write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"written: {args.out}")
    return 1 if args.strict and any(not r.passed for r in results) else 0


def register(sub: Any) -> None:
    """Add `sorg validate` to the `sorg` command's subparsers."""
    from sorg.scoring.gate import DEFAULT_TASKS

    v = sub.add_parser("validate", help="run each scorer through the instrument gate (the validation ladder)")
    v.add_argument("--scorers", default="coverage,judge_q",
                   help="comma-separated scorers (default coverage,judge_q; judge variants: judge_q_shuffled, "
                        "judge_q_dims)")
    v.add_argument("--model", default="local/smollm2-135m",
                   help="the agents' model (the judge's, unless --judge-model; default local/smollm2-135m)")
    v.add_argument("--judge-model", default=None, help="the judge model (default: --model, a self-judge)")
    v.add_argument("--tasks", default=str(DEFAULT_TASKS),
                   help=f"how many of the bank's tasks (a spread), or 'all' (default {DEFAULT_TASKS}, as a run's gate)")
    v.add_argument("--bank", default=None, help="a directory of your own task files with references/ beside them")
    v.add_argument("--record", default="none", choices=["none", "new", "all", "once"],
                   help="record mode of the judge's calls (default none: replay only)")
    v.add_argument("--cassette-dir", default="cassettes", help="cassettes root, or 'none' (default cassettes)")
    v.add_argument("--cache-dir", default=".sorg/cache", help="disk cache of replies, or 'none'")
    v.add_argument("--out", default=None, help="also write the results as JSON to this file")
    v.add_argument("--strict", action="store_true", help="exit 1 when a scorer did not pass")
    v.set_defaults(fn=_cmd_validate)
