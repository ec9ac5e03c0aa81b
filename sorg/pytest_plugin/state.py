"""The plugin's per-run state and the settings, bank and store it opens lazily.

Why its own module: the hooks (`sorg.plugin`) and the fixtures (`sorg.pytest_plugin.fixtures`)
share this state; keeping it here lets each of them stay one concern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from sorg import options as _opts
from sorg.pytest_plugin import params as _params
from sorg.pytest_plugin import sweep as _sweep


@dataclass
class _State:
    """Per-run plugin state, kept on `config.stash`."""

    opts: _opts.SorgOptions | None = None
    session: Any = None  # the pytest session (the gatherer stops it on a fault of the whole run)
    run_lock: Any = None  # held from start-up to unconfigure when the run is named (store.run_lock)
    store: Any = None
    nodes: Any = None  # manifest.NodeLog
    bank: Any = None
    plan: _sweep.Plan | None = None  # set by collection (no xdist) or read from the workers' files
    plan_dir: str = ""  # xdist: where workers write their plans
    claim_items: dict[str, Any] = field(default_factory=dict)  # nodeid -> Item (no xdist)
    finished: set[str] = field(default_factory=set)  # sweep tests whose every trial is stored ok
    cut: dict[str, str] = field(default_factory=dict)  # trial id -> status, of trials stored not ok here
    coverage: _sweep.Coverage | None = None
    verdict_rows: list[dict] = field(default_factory=list)
    unselected_rows: list[dict] = field(default_factory=list)  # claims.json rows of claims not selected here
    run_missing: bool = False  # --sorg-claims-only named a run that does not exist
    keep_failed: list[str] = field(default_factory=list)  # claims --lf must not forget
    report_paths: list[str] = field(default_factory=list)
    report_error: str = ""
    plan_error: str = ""  # xdist: no worker's collection plan reached the controller
    latest_moved: bool = False
    trials_reported: int = 0
    faults: dict[str, str] = field(default_factory=dict)  # run-wide fault -> node id that met it first
    usage_errors: int = 0  # collection errors raised by sorg's own checks
    configured: tuple | None = None  # (the project's sweep settings when this run is a slice of them, or None,)
    slice_ids: dict[str, list[str]] = field(default_factory=dict)  # test function -> node ids of the full sweep


_STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State:
    st = config.stash.get(_STATE, None)
    if st is None:
        st = config.stash[_STATE] = _State()
    return st


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _sorg_opts(config: pytest.Config) -> _opts.SorgOptions:
    st = _state(config)
    if st.opts is None:
        from sorg.errors import SettingError

        try:
            st.opts = _opts.resolve(config)
        except SettingError as exc:  # a bad setting: one line, whatever its source
            raise pytest.UsageError(f"sorg: {exc}") from None
    return st.opts


def _check_startup(config: pytest.Config) -> None:
    """Options, `--sorg-protocols` names and `--sorg-bank`, checked once before collection (a
    UsageError here is one line, and under xdist it stops the run before a worker starts)."""
    from sorg.errors import RegistryError, SettingError, TaskBankError

    o = _sorg_opts(config)
    try:
        unknown, known = _params.unknown_protocols([p for p in o.protocols if p != "all"])
    except RegistryError as exc:
        raise pytest.UsageError(f"sorg: {exc}") from None
    if unknown:
        raw, source = _opts.raw_and_source("protocols", config)
        err = SettingError("protocols", raw, source,
                           f"unknown protocol(s) {unknown}{_opts.did_you_mean(unknown[0], sorted(known))}; "
                           f"known: {', '.join(sorted(known))} (a protocol of your own "
                           "registers with @sorg.protocols.protocol in a conftest.py, or an entry point in group "
                           "sorg.protocols)")
        raise pytest.UsageError(f"sorg: {err}") from None
    _check_paths(config, o)
    _lock_run(config, o)
    if o.bank:
        try:
            _load_bank(config)
        except TaskBankError as exc:
            raw, source = _opts.raw_and_source("bank", config)
            raise pytest.UsageError(f"sorg: {SettingError('bank', raw, source, str(exc))}") from None


def _check_paths(config: pytest.Config, o: _opts.SorgOptions) -> None:
    """The directories a run writes, and the stored run it continues, checked before any trial
    (a report dir that is a file, or a corrupt trials.jsonl, used to surface as an
    INTERNALERROR after every trial was paid for; a cassette dir that is a file, after a paid
    call per trial)."""
    from pathlib import Path

    from sorg.errors import SettingError, StoreCorrupt

    for name in ("report_dir", "cassette_dir", "cache_dir"):
        value = getattr(o, name)
        if value is not None and Path(value).exists() and not Path(value).is_dir():
            raw, source = _opts.raw_and_source(name, config)
            raise pytest.UsageError(f"sorg: {SettingError(name, raw, source, f'{value} is a file, not a directory')}")
    if o.run_id:
        trials = Path(o.report_dir) / o.run_id / "trials.jsonl"
        if trials.exists():
            import warnings

            from sorg.store import iter_records

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for _ in iter_records(trials):
                        pass
            except (StoreCorrupt, OSError) as exc:
                raise pytest.UsageError(f"sorg: --sorg-run-id={o.run_id} continues a run whose store cannot be "
                                        f"read: {exc}") from None


def _lock_run(config: pytest.Config, o: _opts.SorgOptions) -> None:
    """A named run (`--sorg-run-id`) is written by one pytest run at a time: a second one stops
    here, in one line, before any trial (an unnamed run's id holds the pid: never shared)."""
    from sorg.errors import RunInUse
    from sorg.store import run_lock

    if not o.run_id or config.option.collectonly:
        return
    try:
        _state(config).run_lock = run_lock(o.report_dir, o.run_id)
    except RunInUse as exc:
        raise pytest.UsageError(f"sorg: {exc}") from None
    except OSError:
        return  # a read-only report dir: nothing will be written there either


def _load_bank(config: pytest.Config) -> Any:
    """The run's task bank: `--sorg-bank` DIR when given, else the packaged one. Raises
    TaskBankError naming file, task and field."""
    st = _state(config)
    if st.bank is None:
        from sorg.tasks import load_bank

        st.bank = load_bank(_sorg_opts(config).bank)
    return st.bank


def _bank(config: pytest.Config) -> Any:
    """`_load_bank`, a bad bank as a one-line error (collection, or the test that asked)."""
    from sorg.errors import TaskBankError

    try:
        return _load_bank(config)
    except TaskBankError as exc:
        _params.usage_error(f"--sorg-bank: {exc}" if _sorg_opts(config).bank else str(exc))


def _store(config: pytest.Config) -> Any:
    st = _state(config)
    if st.store is None:
        from sorg.manifest import NodeLog
        from sorg.store import TrialStore, new_run_id

        o = _sorg_opts(config)
        st.store = TrialStore(o.report_dir, o.run_id or new_run_id(), point_latest_on_open=False)
        st.nodes = NodeLog(st.store.run_dir)
    return st.store


def _declared(st: _State, items: list[pytest.Item]) -> list[str]:
    """Node ids of the declared sweep: the collected sweep tests, except that a test whose
    sweep this run's options narrowed (a slice) declares the node ids of the full sweep."""
    out: list[str] = []
    done: set[str] = set()
    for it in items:
        if not _sweep.is_sweep_item(it):
            continue
        fn = it.nodeid.split("[", 1)[0]
        if fn in st.slice_ids:
            if fn not in done:
                out += st.slice_ids[fn]
                done.add(fn)
        else:
            out.append(it.nodeid)
    return out
