"""The end of a run on the controller: judge the claims over the sweep's coverage, write the
run directory's sweep manifest, claims and report, move `latest`, and say all of it.

Why apart from the hooks: these steps decide what a run may claim, and each is a plain
function of the plan, the store and the options, testable without a pytest session.
"""

from __future__ import annotations

from typing import Any

import pytest

from sorg.pytest_plugin import sweep as _sweep
from sorg.pytest_plugin import verdicts as _verdicts


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
    report the selected ones as tests."""
    from sorg.manifest import read_nodes, read_sweep

    config = session.config
    plan = st.plan
    stored = read_sweep(store.run_dir) if store.run_dir.exists() else None
    cov = _sweep.coverage(plan, st.finished, read_nodes(store.run_dir),
                          (stored or {}).get("declared"), stopped)
    st.coverage = cov
    if not plan.claims:
        return
    skip_all = "" if cov.complete else cov.reason()
    if not cov.complete and opts.claims_only and not store.path.exists():
        skip_all = f"--sorg-claims-only: run {store.run_id!r} has no stored trials ({store.path})"
    entries = _verdicts.order(plan.claims)
    outcomes = _verdicts.judge(session, entries, skip_all, lambda: _trials(store), st.claim_items)
    selected = [e for e in entries if e.get("selected")]
    # Claims count as collected tests (a plain Session attribute, not `_pytest`: no public
    # setter exists); without it a `--sorg-claims-only` run ends "no tests collected" (exit 5).
    session.testscollected += len(selected)
    before = _last_failed(config)
    for e in selected:
        st.verdict_rows.append(_verdicts.report(config, e, outcomes[e["nodeid"]]))
        if skip_all and e["nodeid"] in before:
            st.keep_failed.append(e["nodeid"])


def _last_failed(config: pytest.Config) -> set[str]:
    cache = getattr(config, "cache", None)
    return set(cache.get("cache/lastfailed", {})) if cache is not None else set()


def finish_store(session: pytest.Session, st: Any, store: Any, opts: Any) -> None:
    """Close the store; write sweep.json, claims.json and the report; move `latest` when the
    sweep is complete."""
    from sorg import report
    from sorg.manifest import write_sweep
    from sorg.store import point_latest

    try:
        store.open()
        store.close()
        plan, cov = st.plan, st.coverage
        meta = report.run_meta(opts, session.config)
        if plan is not None and cov is not None:
            meta["sweep"] = _sweep.plan_meta(plan, cov)
            if plan.declared:
                write_sweep(store.run_dir, plan.declared, [c["nodeid"] for c in plan.claims])
        report.write_claims(store.run_dir, st.verdict_rows, meta)
        st.report_paths = [str(p) for p in report.build(store.run_dir, plots=opts.plots)]
        if cov is not None and cov.complete:
            point_latest(store.report_dir, store.run_dir)
            st.latest_moved = True
    except Exception as exc:  # a report bug must not hide the run's results
        st.report_error = f"{type(exc).__name__}: {exc}"


def summary(tr: Any, st: Any) -> None:
    """The terminal's sorg sections: claims (with each skip's reason, no -rs needed), the
    sweep's coverage and Holm family, what the store kept and replaced, and where it went."""
    if st.verdict_rows:
        from sorg import report

        tr.write_sep("=", "sorg claims")
        width = tr.config.get_terminal_writer().fullwidth
        tr.write_line(report.terminal_claims(st.verdict_rows, width))
        for line in report.unjudged_lines(st.verdict_rows, width):
            tr.write_line(line, yellow=True)
    plan, cov = st.plan, st.coverage
    if plan is not None and cov is not None and plan.claims:
        n_sel = sum(1 for c in plan.claims if c.get("selected"))
        tr.write_line(f"Holm family: the {len(plan.claims)} claims the eval files declare ({n_sel} selected here)")
    store = st.store
    if store is None:
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
