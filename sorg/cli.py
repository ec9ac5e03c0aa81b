"""The `sorg` command: rebuild a report, plan a sweep, score an answer, manage the embedded model.

Why a separate command: reports and plans are read from files (a run directory, a pilot's
trials) and must work without pytest, a model or a network.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _cmd_report(args: argparse.Namespace) -> int:
    from sorg import report
    from sorg.store import TRIALS_FILE, resolve_run_dir

    run_dir = resolve_run_dir(args.run_dir)
    if not (run_dir / TRIALS_FILE).exists():
        print(f"sorg report: {run_dir} has no {TRIALS_FILE} (give a run directory, e.g. reports/latest)",
              file=sys.stderr)
        return 2
    if args.prompts:
        from sorg import cli_project
        from sorg.report.prompts import capture

        project = cli_project.find()
        got = capture(run_dir, args.cassette_dir, args.bank or (project.bank() if project else None))
        print(f"prompts: {got['trials']} trials replayed from {args.cassette_dir}"
              + (f"; {got['streams_failed']} streams did not replay ({got['first_failure']})"
                 if got["streams_failed"] else ""), file=sys.stderr)
    if args.html:
        from sorg.report.html import write_html
        from sorg.report.plots import PLOTS

        pngs = [] if args.no_plots else [run_dir / n for n in PLOTS if (run_dir / n).exists()]
        print(write_html(run_dir, report.summary(run_dir), pngs))
        return 0
    for p in report.build(run_dir, plots=not args.no_plots):
        print(p)
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    """Units needed per claim at the target power, from a pilot run, and what they cost."""
    from tabulate import tabulate

    from sorg import claims
    from sorg.pytest_plugin.loader import collect_claims
    from sorg.results import Trials
    from sorg.store import TRIALS_FILE, read_records, resolve_run_dir

    ok = []
    if args.pilot:
        run_dir = resolve_run_dir(args.pilot)
        ok = [r for r in read_records(run_dir / TRIALS_FILE) if r.status == "ok"]
        if not ok:
            print(f"sorg plan: the pilot {run_dir} has no ok trials", file=sys.stderr)
            return 2
    elif args.per_trial_usd is None:
        print("sorg plan: give --pilot reports/<run-id>, or per-trial estimates (--per-trial-usd, "
              "--per-trial-calls, --per-trial-tokens) with claims that declare expected_d", file=sys.stderr)
        return 2
    trials = Trials(ok)
    # The plugin's loader: eval files imported by pytest itself, claims named by node id.
    found = collect_claims(args.paths)
    verdicts = []
    names = []
    for name, fn in found:
        try:
            v = fn(trials)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # pytest.skip (a BaseException) and bugs alike: shown, not fatal
            v = claims.skip(f"{type(exc).__name__}: {exc}", name=name)
        verdicts.append(v.named(name) if isinstance(v, claims.Verdict)
                        else claims.skip("did not return a Verdict", name=name))
        names.append(name)
    verdicts = claims.finalize(verdicts)
    if ok:
        from sorg.instrument import judge_usage

        judge = judge_usage(ok)  # the judge's calls are the sweep's too
        per_trial_cost = (sum(r.cost_usd for r in ok) + judge["cost_usd"]) / len(ok)
        per_trial_tokens = (sum(r.prompt_tokens + r.completion_tokens for r in ok) + judge["tokens"]) / len(ok)
        per_trial_calls = (sum(r.calls for r in ok) + judge["calls"]) / len(ok)
        source = f"pilot: {run_dir} ({len(ok)} ok trials, judge included"
    else:
        per_trial_cost, per_trial_tokens = args.per_trial_usd, args.per_trial_tokens
        per_trial_calls = args.per_trial_calls
        source = "stated estimates ("
    # A unit (pair, task, trial per group) costs this many trials in the pilot's design.
    rows = []
    for name, v in zip(names, verdicts):
        pl = claims.plan(v, power=args.power, effect=args.effect)
        # Trials one unit costs: a pair or one trial per group is one trial in each of two
        # arms; for task-level designs, the pilot's trials per unit.
        if pl.design in ("paired", "two_sample", "tost"):
            per_unit = 2.0
        else:
            per_unit = len(ok) / max(pl.n_now, 1) if ok else 1.0
        need_trials = None if pl.n_needed is None else math.ceil(pl.n_needed * per_unit)
        if pl.trials_needed is not None:  # units are tasks: the pilot's trials per task
            need_trials = pl.trials_needed
        rows.append([name.rsplit("::", 1)[-1], pl.design, pl.unit, pl.n_now,
                     pl.n_needed if pl.n_needed is not None else "-",
                     f"{pl.effect:.3f}" if isinstance(pl.effect, float)
                     else (pl.effect if pl.effect is not None else "-"),
                     f"{pl.alpha:.2g}",
                     "-" if need_trials is None else int(need_trials),
                     "-" if need_trials is None else int(need_trials * per_trial_calls),
                     "-" if need_trials is None else int(need_trials * per_trial_tokens),
                     "-" if need_trials is None else f"{need_trials * per_trial_cost:.4f}",
                     pl.note])
    print(f"{source}; per trial {per_trial_calls:.1f} calls, "
          f"{per_trial_tokens:.0f} tokens, ${per_trial_cost:.6f}); power target {args.power}")
    print(tabulate(rows, headers=["claim", "design", "unit", "n now", "n needed", "effect", "alpha (Holm worst)",
                                  "trials", "calls", "tokens", "USD", "note"], disable_numparse=True))
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    """Every deterministic scorer's score and details for one answer to one task, as one JSON
    object: to see why an answer scores what it does, without a trial or a model. The scorers
    see the answer's bounded view (`sorg.scoring.view`), as in a trial."""
    import difflib
    import json

    import sorg.scoring.coverage  # noqa: F401  (registers `coverage`)
    from sorg import cli_project
    from sorg.errors import TaskBankError
    from sorg.scoring import SCORERS
    from sorg.tasks import load_bank

    project = cli_project.find()
    bank_path = args.bank
    if project is not None:
        try:  # the project's scorers (its rootdir conftest.py), as `pytest` there would load them
            cli_project.load_conftest(project)
        except Exception as exc:  # a broken conftest: say so, score with what is registered
            print(f"sorg score: {project.root / 'conftest.py'} did not import ({type(exc).__name__}: {exc}); "
                  "scoring with the packaged and installed scorers", file=sys.stderr)
        if bank_path is None:
            bank_path = project.bank()
    try:
        bank = load_bank(bank_path)
    except TaskBankError as exc:
        print(f"sorg score: {exc}", file=sys.stderr)
        return 2
    ids = sorted(t.id for t in bank)
    if args.task_id not in bank:
        near = difflib.get_close_matches(args.task_id, ids, n=5, cutoff=0.5)
        hint = f"near matches: {', '.join(near)}" if near else f"known ids: {', '.join(ids)}"
        print(f"sorg score: no task {args.task_id!r} in the bank; {hint}", file=sys.stderr)
        return 2
    task = bank.get(args.task_id)
    path = Path(args.answer_file)
    try:
        answer = sys.stdin.read() if args.answer_file == "-" else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"sorg score: answer file {path} does not exist", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"sorg score: cannot read answer file {path}: {exc}", file=sys.stderr)
        return 2
    from sorg.scoring.view import scored_view

    view = scored_view(answer)  # what a trial's scorers see of this answer
    scores: dict[str, object] = {}
    failed = False
    for name, scorer in sorted(SCORERS.items()):
        if scorer.needs_model:
            continue
        try:
            s = scorer.compute(task, view.text)
        except Exception as exc:  # one broken scorer must not hide the others' scores
            scores[name] = {"value": None, "details": {"error": f"{type(exc).__name__}: {exc}"}}
            failed = True
            continue
        scores[name] = {"value": s.value, "details": dict(s.details)}
    print(json.dumps({"task_id": task.id, "answer_file": args.answer_file, "answer_chars": len(answer),
                      "scored_chars": len(view.text), "scored_cut": view.cut, "scores": scores},
                     indent=2, default=str))
    return 1 if failed else 0


def _cmd_local(args: argparse.Namespace) -> int:
    """Start / stop / inspect the embedded model's server outside a pytest run (a run starts
    it on its own when a `local/` model is first called). `start` pins it: it keeps running
    for later runs until `sorg local stop`."""
    from sorg.model import local

    if args.action == "start":
        print(f"running: {' '.join(local.ensure_servers(keep=True))}")
    elif args.action == "stop":
        print("stopped" if local.stop_server(local.DEFAULT_STATE_DIR, force=True) else "no server was running")
    else:
        found = [st for i in range(local.server_count())
                 if (st := local.status(local.replica_dir(None, i))) is not None]
        if not found:
            print("not running")
            return 1
        for st in found:
            print(" ".join(f"{k}={v}" for k, v in st.items()))
        return 0 if all(st.get("healthy", True) for st in found) else 1
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    """Merge run directories (shards) into one; the claims are judged over it afterwards."""
    from sorg.merge import MergeRefused, merge_runs

    try:
        res = merge_runs(args.report_dir, args.out, args.runs)
    except MergeRefused as exc:
        print(f"sorg merge: {exc}", file=sys.stderr)
        return 2
    print(f"merged {', '.join(res.runs)} -> {res.out}: {res.records} trials "
          f"({res.replaced} not-ok records replaced by ok ones), {res.nodes} of {res.declared} declared tests finished")
    print(f"judge the claims: pytest evals/ --sorg-run-id={args.out} --sorg-claims-only")
    return 0


def _add_merge(sub: Any) -> None:
    m = sub.add_parser("merge", help="merge run directories (shards) into one run, preferring ok records")
    m.add_argument("out", help="the merged run's id (a new directory under --report-dir)")
    m.add_argument("runs", nargs="+", help="run ids under --report-dir, or run directories")
    m.add_argument("--report-dir", default="reports", help="where runs live (default reports)")
    m.set_defaults(fn=_cmd_merge)


def main(argv: Sequence[str] | None = None) -> int:
    import sorg

    ap = argparse.ArgumentParser(prog="sorg", description="sorg: multi-agent LLM experiments as pytest tests")
    ap.add_argument("--version", action="version", version=f"sorg {sorg.__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="rebuild summary.md / summary.json / report.html / plots of a run from its files")
    r.add_argument("run_dir", help="reports/<run-id>, reports/latest, or reports")
    r.add_argument("--no-plots", action="store_true", help="tables only, even when matplotlib is installed")
    r.add_argument("--html", action="store_true",
                   help="write only report.html (one self-contained page; embeds the run's existing plots)")
    r.add_argument("--prompts", action="store_true",
                   help="replay the run from its cassettes (no model call) to show every call's prompt in the page")
    r.add_argument("--cassette-dir", default="cassettes", help="with --prompts: the cassettes (default cassettes/)")
    r.add_argument("--bank", default=os.environ.get("SORG_BANK") or None,
                   help="with --prompts: the run's task bank (default: $SORG_BANK, else the packaged bank)")
    r.set_defaults(fn=_cmd_report)
    p = sub.add_parser("plan", help="trials, calls, tokens and dollars each claim needs at the target power")
    p.add_argument("paths", nargs="*", default=["evals"], help="claim files or directories (default evals/)")
    p.add_argument("--pilot", help="a pilot run directory (reports/<run-id>) whose trials estimate effects and cost")
    p.add_argument("--per-trial-usd", type=float, help="without a pilot: stated dollars per trial")
    p.add_argument("--per-trial-calls", type=float, default=0.0, help="without a pilot: model calls per trial")
    p.add_argument("--per-trial-tokens", type=float, default=0.0, help="without a pilot: tokens per trial")
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--effect", type=float, default=None, help="a stated effect (Cohen's d) instead of the pilot's")
    p.set_defaults(fn=_cmd_plan)
    sc = sub.add_parser("score", help="every deterministic scorer's score and details for one answer, as JSON")
    sc.add_argument("task_id", help="a task id of the bank, e.g. evt-l2-01")
    sc.add_argument("answer_file", help="a text file holding the answer (- for stdin)")
    sc.add_argument("--bank", default=os.environ.get("SORG_BANK") or None,
                    help="a directory of your own task files (default: $SORG_BANK, else the project's sorg_bank "
                         "ini key, else the packaged bank); the project's conftest.py scorers are loaded too")
    sc.set_defaults(fn=_cmd_score)
    lo = sub.add_parser("local", help="the embedded model's server")
    lo.add_argument("action", choices=["start", "stop", "status"])
    lo.set_defaults(fn=_cmd_local)
    from sorg import cli_results, cli_runs

    cli_results.register(sub)  # diff, cassettes, restore
    from sorg import cli_validate

    cli_validate.register(sub)  # validate
    cli_runs.register(sub)  # runs list|prune
    _add_merge(sub)
    args = ap.parse_args(argv)
    try:
        return int(args.fn(args))
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as exc:
        from sorg.errors import SettingError, SorgError

        if isinstance(exc, SettingError):  # a bad setting: the plugin's message, a usage error's status
            print(f"sorg: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, SorgError):
            print(f"sorg {args.cmd}: {exc}", file=sys.stderr)
            return 1
        raise


def _quiet_broken_pipe() -> int:
    """`sorg ... | head` closed our stdout: stop quietly, as a Unix filter does (no traceback,
    and none from the interpreter's final flush either: stdout now points at /dev/null)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture): nothing to redirect
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a filter cut off by its reader


if __name__ == "__main__":
    sys.exit(main())
