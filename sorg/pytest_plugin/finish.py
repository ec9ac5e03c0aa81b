"""The end of a run on the controller: judge the claims over the sweep's coverage, write the
run directory's sweep manifest, claims and report, move `latest`, and say all of it.

Why apart from the hooks: these steps decide what a run may claim, and each is a plain
function of the plan, the store and the options, testable without a pytest session.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from sorg.pytest_plugin import sweep as _sweep
from sorg.pytest_plugin import verdicts as _verdicts
from sorg.report.fmt import simulated_notice


def _trials(store: Any) -> Any:
    """Every ok trial in the run's store: the session's own records plus those already in the
    run directory (a resumed run, merged shards, `--sorg-claims-only`)."""
    from sorg.results import Trials
    from sorg.store import read_records

    recs = []
    if store.path.exists():
        store.close()
        recs = read_records(store.path)
    return Trials([r for r in recs if r.status == "ok"])


def judge_claims(session: pytest.Session, st: Any, store: Any, opts: Any, stopped: str) -> None:
    """Judge every declared claim when the sweep is complete, else skip them as partial;
    report the selected ones as tests. A claim that cannot be judged at all (claims-only over
    a run that is missing, half-merged or partial; an unknown protocol, model or metric) is
    an error: reported FAILED, naming the cause, never skipped and never xfailed."""
    from sorg.manifest import read_nodes, read_sweep

    config = session.config
    plan = st.plan
    stored = read_sweep(store.run_dir) if store.run_dir.exists() else None
    cov = _sweep.coverage(plan, st.finished, read_nodes(store.run_dir),
                          (stored or {}).get("declared"), stopped, st.cut, (stored or {}).get("claims"))
    st.coverage = cov
    if not plan.claims:
        return
    skip_all = "" if cov.complete else cov.reason()
    error_all = claims_only_error(store, cov) if opts.claims_only else ""
    st.run_missing = bool(error_all) and not store.run_dir.exists()
    entries = _verdicts.order(plan.claims)
    data: list[Any] = []

    def trials() -> Any:
        if not data:
            data.append(_trials(store))
        return data[0]

    if error_all:
        outcomes = {e["nodeid"]: _verdicts.Outcome("skip", reason=e["skip"]) if e["skip"] is not None and not e["error"]
                    else _verdicts.Outcome("error", longrepr=e["error"] or error_all) for e in entries}
    else:
        outcomes = _verdicts.judge(session, entries, skip_all, trials, st.claim_items,
                                   _verdicts.instrument_gate(config, opts, store.run_dir))
        for nid, out in outcomes.items():
            outcomes[nid] = _as_error(out, trials)
    selected = [e for e in entries if e.get("selected")]
    # Claims count as collected tests (a plain Session attribute, not `_pytest`: no public
    # setter exists); without it a `--sorg-claims-only` run ends "no tests collected" (exit 5).
    session.testscollected += len(selected)
    before = _last_failed(config)
    for e in selected:
        st.verdict_rows.append(_verdicts.report(config, e, outcomes[e["nodeid"]]))
        if skip_all and e["nodeid"] in before:
            st.keep_failed.append(e["nodeid"])
    # claims.json holds the whole declared family, also the claims `-k` left out here: a
    # rerun of a few trials into a finished run must not leave it with fewer claims.
    for e in entries:
        if not e.get("selected"):
            st.unselected_rows.append(_verdicts.report(_QUIET, e, outcomes[e["nodeid"]]))


def claims_only_error(store: Any, cov: _sweep.Coverage) -> str:
    """Why `--sorg-claims-only` cannot judge the stored run ("" when it can): the run does not
    exist (a mistyped id), `sorg merge` was cut short, it holds no trials, or it is partial."""
    from sorg.merge import MERGING_FILE

    where = f"--sorg-claims-only: run {store.run_id!r}"
    if not store.run_dir.is_dir():
        runs = sorted(p.name for p in store.report_dir.iterdir() if p.is_dir()) if store.report_dir.is_dir() else []
        shown = ", ".join(runs[-8:]) or "none"
        return f"{where} does not exist under {store.report_dir} (runs there: {shown})"
    if (store.run_dir / MERGING_FILE).exists():
        return (f"{where} is half-merged: `sorg merge` into it was cut short ({store.run_dir / MERGING_FILE}); "
                f"run the same `sorg merge` again")
    if not store.path.exists():
        return f"{where} has no stored trials ({store.path})"
    if not cov.complete:
        return f"{where} is not complete: {cov.reason()}"
    return ""


def _as_error(out: Any, trials: Any) -> Any:
    """A judged verdict that cannot be judged at all (`claims._common.unjudgeable`), or a claim
    that raised on an unknown metric name, as the plugin's error outcome."""
    from sorg.claims._common import unjudgeable

    if out.kind == "verdict":
        out.verdict = unjudgeable(out.verdict, trials())  # outcome "error": reported FAILED, never xfailed
    elif out.kind == "raised" and "builtins.KeyError" in out.exc_names and "unknown metric" in out.longrepr:
        return _verdicts.Outcome("error", longrepr=out.longrepr, duration=out.duration)
    return out


class _NoHooks:
    """A config whose report hooks do nothing: rows for claims.json of claims not reported."""

    class hook:  # noqa: N801 (stands in for `config.hook`)
        @staticmethod
        def pytest_runtest_logstart(**kw: Any) -> None:
            return None

        pytest_runtest_logreport = pytest_runtest_logfinish = pytest_runtest_logstart


_QUIET: Any = _NoHooks()


def _last_failed(config: pytest.Config) -> set[str]:
    cache = getattr(config, "cache", None)
    return set(cache.get("cache/lastfailed", {})) if cache is not None else set()


def finish_store(session: pytest.Session, st: Any, store: Any, opts: Any) -> None:
    """Close the store; write sweep.json, claims.json and the report; move `latest` when the
    sweep is complete."""
    from sorg import report
    from sorg.manifest import write_sweep
    from sorg.store import point_latest

    if st.run_missing:  # claims-only over a run that does not exist: create nothing
        return
    try:
        store.open()
        store.close()
        plan, cov = st.plan, st.coverage
        meta = report.run_meta(opts, session.config)
        if plan is not None and cov is not None:
            meta["sweep"] = _sweep.plan_meta(plan, cov)
            if plan.declared and not plan.filtered:  # a filtered collection (--lf) is not the declared sweep
                write_sweep(store.run_dir, plan.declared, [c["nodeid"] for c in plan.claims])
        rows = st.verdict_rows + st.unselected_rows
        if plan is not None and plan.filtered:
            rows = _kept_rows(store, rows)
        report.write_claims(store.run_dir, rows, meta)
        st.report_paths = [str(p) for p in report.build(store.run_dir, plots=opts.plots)]
        if cov is not None and cov.complete:
            point_latest(store.report_dir, store.run_dir)
            st.latest_moved = True
    except Exception as exc:  # a report bug must not hide the run's results
        st.report_error = f"{type(exc).__name__}: {exc}"


def _kept_rows(store: Any, rows: list[dict]) -> list[dict]:
    """`rows`, plus the rows of the run's previous claims.json for claims this session did not
    collect (`--lf` collects only the last failures): a run's claims never shrink."""
    import json

    from sorg.store import CLAIMS_FILE

    p = store.run_dir / CLAIMS_FILE
    try:
        old = json.loads(p.read_text(encoding="utf-8")).get("claims") or [] if p.exists() else []
    except (OSError, ValueError, AttributeError):
        old = []
    have = {r["nodeid"] for r in rows}
    return rows + [r for r in old if isinstance(r, dict) and r.get("nodeid") not in have]


def summary(tr: Any, st: Any) -> None:
    """The terminal's sorg sections: claims (with each skip's reason, no -rs needed), the
    sweep's coverage and Holm family, what the store kept and replaced, and where it went."""
    if st.verdict_rows:
        from sorg import report

        tr.write_sep("=", "sorg claims")
        width = tr.config.get_terminal_writer().fullwidth
        notice = simulated_notice(st.opts.models if st.opts is not None else [])
        if notice:
            for part in textwrap.wrap(notice, max(width, 40), subsequent_indent="    ", break_on_hyphens=False):
                tr.write_line(part, yellow=True, bold=True)
        tr.write_line(report.terminal_claims(st.verdict_rows, width))
        for line, markup in _verdicts.gate_lines(tr.config, st.verdict_rows):
            for part in textwrap.wrap(line, max(width, 40), subsequent_indent="    ", break_on_hyphens=False):
                tr.write_line(part, **markup)
        red = False
        for line in report.unjudged_lines(st.verdict_rows, width):
            red = line.startswith("ERROR ") if not line.startswith(" ") else red
            tr.write_line(line, red=red, yellow=not red)
    plan, cov = st.plan, st.coverage
    if plan is not None and cov is not None and plan.claims:
        n_sel = sum(1 for c in plan.claims if c.get("selected"))
        tr.write_line(f"Holm family: the {len(plan.claims)} claims the eval files declare ({n_sel} selected here)")
    store = st.store
    if store is None or st.run_missing:
        return
    tr.write_sep("-", "sorg run")
    tr.write_line(f"trials stored: {store.path} ({st.trials_reported} new this session)")
    if store.replaced:
        kinds: dict[str, int] = {}
        for _, old, _new in store.replaced:
            kinds[old] = kinds.get(old, 0) + 1
        what = ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items()))
        tr.write_line(f"resumed: replaced {len(store.replaced)} record(s) that were not ok ({what}); ok records kept")
        for tid, old, new in store.replaced[:10]:
            tr.write_line(f"  replaced {tid}: {old} -> {new}")
    if cov is not None:
        if cov.complete:
            tr.write_line(f"sweep complete: {cov.done} of {cov.total} sweep tests; reports/latest -> {store.run_id}")
        else:
            tr.write_line(f"{cov.reason()}; this run stays in {store.run_dir} and reports/latest was not moved",
                          yellow=True)
    for p in st.report_paths:
        if p.endswith("summary.md"):
            tr.write_line(f"report: {p}")
    if st.report_error:
        tr.write_line(f"report NOT written: {st.report_error}", red=True)
