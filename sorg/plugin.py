"""sorg's pytest plugin: options, fixtures, sweeps, trial gathering (also under xdist), claims.

How a run flows, and why:
- Start-up: options are checked where sorg is used (a `--sorg-*` flag or `sorg_*` ini key),
  so a bad value stops the run in one line before any trial; elsewhere they are checked when
  a test first asks for a sorg fixture.
- Collection: `pytest_generate_tests` fills `model`, `protocol`, `n_agents`, `task`, `seed`
  (`sorg.pytest_plugin.params`). Before any deselection the plugin notes the declared sweep
  (every test using `sorg_trial`) and the declared claims (`@claims.claim`); after `-k`,
  `-m`, `--lf`, `--deselect`, pytest-split and `--sorg-shard`, what was selected
  (`sorg.pytest_plugin.sweep`). Claims leave the item list: they judge the whole sweep.
- Trials: the `sorg_trial` fixture (`sorg.pytest_plugin.fixtures`) attaches each record,
  encoded, to its test's report (the one channel that reaches the controller under xdist).
  The controller appends it to
  `reports/<run-id>/trials.jsonl` (`sorg.store`) and notes the finished test in
  `nodes.jsonl` (`sorg.manifest`).
- Claims: after the run loop the controller judges every declared claim once, only if every
  declared sweep test finished here or in the run it continues; otherwise each is skipped
  with "partial sweep: n of N sweep tests" (`sorg.pytest_plugin.verdicts`).
- Run-wide faults (a corrupt cassette, a model never recorded) are reported once
  (`sorg.pytest_plugin.faults`); `reports/latest` moves only to a run whose sweep is complete.

This module is imported by every pytest run in the venv, so it imports nothing heavy at
module level (no litellm, scipy, numpy, matplotlib).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from sorg import options as _opts
from sorg.pytest_plugin import faults as _faults
from sorg.pytest_plugin import params as _params
from sorg.pytest_plugin import records as _records
from sorg.pytest_plugin import sweep as _sweep
from sorg.pytest_plugin.fixtures import (  # noqa: F401
    TRIAL_PROP,
    sorg_bank,
    sorg_client,
    sorg_options,
    sorg_runner,
    sorg_stream,
    sorg_stream_runner,
    sorg_trial,
)
from sorg.pytest_plugin.state import _STATE, _bank, _check_startup, _declared, _is_worker, _sorg_opts, _state, _store
from sorg.pytest_plugin.verdicts import pytest_report_teststatus  # noqa: F401  (a claim outcome's word)

TRIAL_ID_PROP = "sorg_trial_id"
SWEEP_ARGS = _params.SWEEP_ARGS
trial_payload = _records.trial_payload
record_dict = _records.record_dict


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    _opts.addoptions(parser)


def pytest_configure(config: pytest.Config) -> None:
    # The settings the library reads when it uses them (`sorg.options.setting`: the embedded
    # model's server, locks, the budget's run id, prices) come from this run from now on.
    _opts.install(config)
    config.addinivalue_line(
        "markers",
        "sorg(models=, protocols=, agents=, levels=, domains=, tasks_per_level=, seeds=, tasks=): "
        "override the --sorg-* sweep for this test",
    )
    config.addinivalue_line("markers", "sorg_claim: a sorg claim, judged once after every trial of the session")
    if _opts.used(config) and not _is_worker(config):
        _check_startup(config)
    config.pluginmanager.register(_UsageWatch(config), "sorg-usage-watch")
    if not _is_worker(config):
        config.pluginmanager.register(_Gatherer(config), "sorg-gatherer")
        _register_results_hooks(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    _state(session.config).session = session


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: tell each worker where to write its collection plan."""
    st = _state(node.config)
    if not st.plan_dir:
        st.plan_dir = _sweep.new_plan_dir()
    node.workerinput[_sweep.PLAN_DIR_KEY] = st.plan_dir


# --------------------------------------------------------------------------- collection


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Fill `model`, `protocol`, `n_agents`, `task`, `seed` from the options / sorg mark."""
    config = metafunc.config

    def opts() -> _opts.SorgOptions:
        try:
            return _sorg_opts(config)
        except pytest.UsageError as exc:  # in a worker: one collection error, not a traceback each
            _params.usage_error(str(exc))

    def configured() -> _opts.SorgOptions | None:
        st = _state(config)
        if st.configured is None:
            try:
                conf = _opts.resolve(config, env={}, cli=False)
            except ValueError:
                conf = None
            st.configured = (conf,) if conf is not None and _params.sweep_is_slice(opts(), conf) else (None,)
        return st.configured[0]

    ids = _params.generate(metafunc, opts, lambda: _bank(config), configured)
    if ids is not None:
        _state(config).slice_ids[metafunc.definition.nodeid] = ids


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> Iterator[None]:
    """Note the declared sweep and claims before any plugin deselects, then what was selected;
    apply `--sorg-shard` and `--sorg-claims-only`; take the claims out of the run."""
    declared = _declared(_state(config), items)
    all_claims = [it for it in items if _sweep.is_claim_item(it)]
    result = yield
    if _state(config).usage_errors and not config.option.continue_on_collection_errors:
        # A sorg usage error in collection (a typo'd protocol in a mark): run nothing. Without
        # xdist pytest stops on it anyway; an xdist worker would run the rest of the sweep.
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return result
    if config.option.collectonly or not (declared or all_claims):
        if not (declared or all_claims) and _is_worker(config):
            _sweep.write_no_plan(config.workerinput.get(_sweep.PLAN_DIR_KEY), config.workerinput["workerid"])  # type: ignore[attr-defined]
        return result  # `pytest --collect-only` lists claims like tests
    o = _sorg_opts(config)
    drop: list[pytest.Item] = []
    if o.claims_only:
        drop = [it for it in items if _sweep.is_sweep_item(it)]
    elif o.shard:
        i, n = _sweep.parse_shard(o.shard)  # type: ignore[misc]
        share = _sweep.shard_share(declared, i, n)
        drop = [it for it in items if _sweep.is_sweep_item(it) and it.nodeid not in share]
    if drop:
        gone = {id(it) for it in drop}
        items[:] = [it for it in items if id(it) not in gone]
        config.hook.pytest_deselected(items=drop)
    chosen = {it.nodeid for it in items if _sweep.is_claim_item(it)}
    from sorg.pytest_plugin.verdicts import claim_entry

    st = _state(config)
    plan = _sweep.Plan(declared=declared, selected=[it.nodeid for it in items if _sweep.is_sweep_item(it)],
                       claims=[claim_entry(it, it.nodeid in chosen) for it in all_claims], shard=o.shard,
                       narrowed=any(st.slice_ids.values()), filtered=_sweep.collection_filter(config))
    items[:] = [it for it in items if not _sweep.is_claim_item(it)]
    if _is_worker(config):
        plan_dir = config.workerinput.get(_sweep.PLAN_DIR_KEY)  # type: ignore[attr-defined]
        if plan_dir:
            try:
                _sweep.write_plan(plan_dir, config.workerinput["workerid"], plan)  # type: ignore[attr-defined]
            except (TypeError, ValueError) as exc:  # parametrize values JSON cannot carry
                _params.usage_error(f"cannot send the claims to the xdist controller: {exc}")
    else:
        st.plan = plan
        st.claim_items = {it.nodeid: it for it in all_claims}
    return result


class _UsageWatch:
    """Counts collection errors that are sorg usage errors (`params.usage_error`), in every
    process: a worker then runs nothing, the controller stops the run as pytest would."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and str(report.longrepr).startswith("sorg: "):
            _state(self.config).usage_errors += 1


# --------------------------------------------------------------------------- trials -> store


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    """Each record travels in exactly one report: once a phase's report holds it, it leaves
    the item (otherwise the teardown report would carry it again, and junit XML would get a
    whole trial as a property); the trial id stays as a small property instead."""
    rep = yield
    props = item.user_properties
    if any(k == TRIAL_PROP for k, _ in props):
        ids = [v.get("trial_id") for k, v in props if k == TRIAL_PROP and isinstance(v, dict)]
        props[:] = [(k, v) for k, v in props if k != TRIAL_PROP] + [("sorg_trial_id", i) for i in ids]
    return rep


class _Gatherer:
    """Registered on the controller (or the single process): stores each trial record as its
    report arrives and notes the finished sweep test. A plugin object rather than a module
    hook because it needs the config, which `pytest_runtest_logreport` is not given."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = getattr(report, "user_properties", None)
        if not props:
            return
        st = _state(self.config)
        for k, v in props:
            if k == _faults.FAULT_PROP:
                st.faults.setdefault(v, report.nodeid)
        recs = [v for k, v in props if k == TRIAL_PROP]
        if not recs:
            return
        store = _store(self.config)
        from sorg.errors import StoreWriteFailed

        try:
            for rec in recs:
                if store.append_line(rec["trial_id"], rec["line"], rec.get("status")):
                    st.trials_reported += 1
        except StoreWriteFailed as exc:  # a full disk: one fault of the whole run, the run stops
            st.faults.setdefault(f"the trial store cannot be written: {exc}", report.nodeid)
            if st.session is not None:
                st.session.shouldstop = f"sorg: {exc}"
            return
        # A sweep test counts as finished only when the store holds an ok record of each of
        # its trials: a cell cut by the budget or an error is not judged data, so the sweep
        # stays partial (naming it) until a rerun with the run id completes it.
        cut = {tid: s for tid, s in ((rec["trial_id"], store.status(rec["trial_id"])) for rec in recs) if s != "ok"}
        if cut:
            st.cut.update(cut)
            return
        st.finished.add(report.nodeid)
        st.nodes.append(report.nodeid, [rec["trial_id"] for rec in recs])
        # Once stored, the report keeps only the trial's id: pytest's terminal reporter holds
        # every report to the end of the session, so whole records would make the controller's
        # memory grow with the sweep (benchmarks/bench_sweep.py prints its peak).
        report.user_properties = [(TRIAL_ID_PROP, v["trial_id"]) if k == TRIAL_PROP else (k, v)
                                  for k, v in props]


# --------------------------------------------------------------------------- the end of a run


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[Any]:
    """After every trial (all workers done, under xdist): judge the claims, write the report.

    A run stopped early (-x, maxfail, a run-wide fault; under xdist -x raises Interrupted)
    still reports its claims, skipped as a partial sweep. Only a Ctrl-C skips them."""
    config = session.config
    stop: BaseException | None = None
    result = None
    try:
        result = yield
    except BaseException as exc:  # re-raised below, after the store is closed
        stop = exc
    if _is_worker(config) or config.option.collectonly:
        if stop is not None:
            raise stop
        return result
    from sorg.pytest_plugin import finish

    st = _state(config)
    if st.plan is None and st.plan_dir:
        st.plan = _sweep.read_plan(st.plan_dir)
        if st.plan is None and session.testscollected and not _sweep.nothing_planned(st.plan_dir):
            # Workers on another machine cannot reach the controller's plan directory.
            st.plan_error = ("sorg: no collection plan reached the controller from the xdist workers (remote "
                               "workers?): claims were not judged; judge them with --sorg-claims-only")
    # -x / maxfail under xdist raise xdist's own Interrupted (a KeyboardInterrupt) with
    # shouldstop set; a Ctrl-C sets neither.
    ctrl_c = (isinstance(stop, KeyboardInterrupt) and not (session.shouldstop or session.shouldfail)
              and type(stop).__name__ != "Interrupted")
    if st.usage_errors or (isinstance(stop, session.Interrupted) and "during collection" in str(stop)):
        raise stop if stop is not None else session.Interrupted(
            f"{st.usage_errors} sorg usage error(s) during collection")
    try:
        if st.plan is not None and (st.plan.claims or st.plan.declared) and not ctrl_c:
            stopped = str(session.shouldfail or session.shouldstop or (stop or ""))
            finish.judge_claims(session, st, _store(config), _sorg_opts(config), stopped)
    finally:
        if st.store is not None or st.verdict_rows:
            finish.finish_store(session, st, _store(config), _sorg_opts(config))
    if stop is not None:
        raise stop
    return result


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """`--lf`: a failed claim skipped here as a partial sweep stays in the last-failed cache
    (pytest's cache provider drops every test that did not fail), until it is judged.
    In CI (env `CI` set, as CI services do) a sweep with trials cut short (budget, error)
    exits non-zero: its claims were not judged, and a green job would hide that."""
    st = session.config.stash.get(_STATE, None)
    if st is not None and st.cut and _ci() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    cache = getattr(session.config, "cache", None)
    if st is None or not st.keep_failed or cache is None:
        return
    lastfailed = dict(cache.get("cache/lastfailed", {}))
    lastfailed.update({nid: True for nid in st.keep_failed})
    cache.set("cache/lastfailed", lastfailed)


def _ci() -> bool:
    import os

    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    st = config.stash.get(_STATE, None)
    if st is None:
        return
    if st.plan_error:
        terminalreporter.write_line(st.plan_error, red=True)
    if st.faults:
        total = len(st.plan.declared) if st.plan is not None else 0
        done = st.coverage.done if st.coverage is not None else len(st.finished)
        _faults.summary(terminalreporter, st.faults, max(total - done, 0), total)
    if st.store is None and not st.verdict_rows:
        return
    from sorg.pytest_plugin import finish

    finish.summary(terminalreporter, st)


def pytest_unconfigure(config: pytest.Config) -> None:
    _opts.uninstall(config)
    st = config.stash.get(_STATE, None)
    if st is None:
        return
    if st.store is not None:
        st.store.close()
    if st.nodes is not None:
        st.nodes.close()
    if st.plan_dir:
        shutil.rmtree(st.plan_dir, ignore_errors=True)
    if st.run_lock is not None:
        st.run_lock.release()
        st.run_lock = None


# --------------------------------------------------------------------------- results side


def _register_results_hooks(config: pytest.Config) -> None:
    """Controller only: cassette-use log, record mode "rewrite" (`sorg.run_hooks`), live progress."""
    from pathlib import Path

    from sorg.run_hooks import RunHooks

    def run_dir() -> Path | None:
        store = _state(config).store
        return store.run_dir if store is not None else None

    hooks = RunHooks(config, run_dir)
    config.pluginmanager.register(hooks, "sorg-run-hooks")
    try:  # options are only checked where sorg is used (a bad value fails in the fixtures)
        o = _opts.resolve(config)
    except ValueError:
        return
    if o.progress and not config.option.collectonly:
        from sorg.run_hooks import ProgressReporter

        config.pluginmanager.register(ProgressReporter(config, hooks.folder, o.budget_usd), "sorg-progress")
