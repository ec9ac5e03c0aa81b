"""sorg's pytest plugin: options, fixtures, sweeps, trial gathering (also under xdist), claims.

How a run flows, and why:
- Collection: `pytest_generate_tests` fills the arguments `model`, `protocol`, `n_agents`,
  `task`, `seed` from the `--sorg-*` options (or a test's `@pytest.mark.sorg(...)`), so an eval
  file is one small function. Claim functions (`@claims.claim`, mark `sorg_claim`) are taken
  out of the item list: they are not tests a worker can run, they judge the whole session.
- Trials: the `sorg_trial` fixture runs one trial and attaches its record, encoded as its
  store line, to the test's report (`user_properties`), the one channel that reaches the
  controller under xdist. The controller (or the single process without xdist) appends each
  record to `reports/<run-id>/trials.jsonl` the moment the report arrives (`sorg.store`).
- Claims: each worker sends the claims it collected through `config.workeroutput`; the
  controller receives them in `pytest_testnodedown`. After the run loop, the controller reads
  the session's trials back from the store, calls every claim, Holm-adjusts them together
  (`claims.finalize`) and reports each as an ordinary test report (terminal, -rA, junit XML),
  honouring skip and xfail(strict) marks. The same code path runs with no -n, -n 2, -n 32.

This module is imported by every pytest run in the venv, so it imports nothing heavy at
module level (no litellm, scipy, numpy, matplotlib).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from sorg import options as _opts
from sorg.errors import LocalModelUnavailable

TRIAL_PROP = "sorg_trial"
TRIAL_ID_PROP = "sorg_trial_id"
CLAIMS_OUTPUT_KEY = "sorg_claims"
SWEEP_ARGS = ("model", "protocol", "n_agents", "task", "stream", "seed")
MARK_KEYS = ("models", "protocols", "agents", "levels", "domains", "tasks_per_level", "seeds", "tasks",
             "stream_length")


@dataclass
class _State:
    """Per-run plugin state, kept on `config.stash`."""

    opts: _opts.SorgOptions | None = None
    store: Any = None
    bank: Any = None
    claims: dict[str, dict] = field(default_factory=dict)  # nodeid -> claim entry
    claim_items: dict[str, Any] = field(default_factory=dict)  # nodeid -> Item (no xdist)
    verdict_rows: list[dict] = field(default_factory=list)
    report_paths: list[str] = field(default_factory=list)
    report_error: str = ""
    trials_reported: int = 0


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
        try:
            st.opts = _opts.resolve(config)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    return st.opts


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    _opts.addoptions(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sorg(models=, protocols=, agents=, levels=, domains=, tasks_per_level=, seeds=, tasks=): "
        "override the --sorg-* sweep for this test",
    )
    config.addinivalue_line("markers", "sorg_claim: a sorg claim, judged once after every trial of the session")
    _sorg_opts(config)  # fail fast on a bad option value, before collection
    if not _is_worker(config):
        config.pluginmanager.register(_Gatherer(config), "sorg-gatherer")
        _register_results_hooks(config)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def sorg_options(request: pytest.FixtureRequest) -> _opts.SorgOptions:
    """The run's resolved `--sorg-*` settings."""
    return _sorg_opts(request.config)


@pytest.fixture(scope="session")
def sorg_client(sorg_options: _opts.SorgOptions) -> Iterator[Any]:
    """The model door for this run (cassettes, record mode, cache, budget); closed at the end."""
    from sorg.model.client import ModelClient

    client = ModelClient(
        cassette_dir=sorg_options.cassette_dir,
        record=sorg_options.record,
        cache_dir=sorg_options.cache_dir,
        budget_usd=sorg_options.budget_usd,
        meter=_live_meter(sorg_options),
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def sorg_bank(request: pytest.FixtureRequest) -> Any:
    """The validated task bank (`sorg.tasks.load_bank()`)."""
    return _bank(request.config)


@pytest.fixture(scope="session")
def sorg_runner() -> Callable[..., Any]:
    """The function that runs one trial (`sorg.trial.run_trial`); override this fixture to
    run trials another way (the plugin's own tests use a fake)."""
    from sorg.trial import run_trial

    return run_trial


@pytest.fixture
def sorg_trial(request: pytest.FixtureRequest, sorg_runner: Callable[..., Any], sorg_client: Any,
               sorg_options: _opts.SorgOptions) -> Callable[..., Any]:
    """`sorg_trial(task, protocol, model, n_agents, seed, **kw) -> TrialRecord`.

    Runs the trial with the run's model door and judge, and attaches the record to this
    test's report so it reaches the store (also from an xdist worker). `task` may be a Task
    or a task id. Extra keywords go to `run_trial` (e.g. `context_tokens=`).
    """

    def run(task: Any, protocol: str, model: str, n_agents: int, seed: int, **kw: Any) -> Any:
        if isinstance(task, str):
            task = _bank(request.config).get(task)
        _run_kwargs(kw, sorg_options)
        kw.setdefault("label", request.node.nodeid)
        with _stop_on_unavailable(request):
            record = sorg_runner(task, protocol, model, n_agents, seed, client=sorg_client, **kw)
        request.node.user_properties.append((TRIAL_PROP, trial_payload(record)))
        return record

    return run


def _run_kwargs(kw: dict[str, Any], o: _opts.SorgOptions) -> None:
    """The run's judge and scorers, unless the caller set them ('self' judge = the trial's model)."""
    kw.setdefault("judge_model", None if o.judge_model in (None, "self") else o.judge_model)
    kw.setdefault("scorers", tuple(o.scorers))


@contextlib.contextmanager
def _stop_on_unavailable(request: pytest.FixtureRequest) -> Iterator[None]:
    """Not this trial's fault: the embedded model is missing or its server keeps dying. Every
    later trial would fail the same way, so the sweep stops after this test (under xdist too);
    finished trials are already stored and a rerun resumes."""
    try:
        yield
    except LocalModelUnavailable as exc:
        request.session.shouldstop = f"sorg: the embedded model is unavailable: {str(exc).splitlines()[0]}"
        raise


@pytest.fixture(scope="session")
def sorg_stream_runner() -> Callable[..., Any]:
    """The function that runs one stream (`sorg.trial.run_stream`); override to run streams
    another way."""
    from sorg.trial import run_stream

    return run_stream


@pytest.fixture
def sorg_stream(request: pytest.FixtureRequest, sorg_stream_runner: Callable[..., Any], sorg_client: Any,
                sorg_options: _opts.SorgOptions) -> Callable[..., Any]:
    """`sorg_stream(tasks, protocol, model, n_agents, seed, **kw) -> list[TrialRecord]`.

    One persistent team works through `tasks` in order (a stream: one test, so pytest's
    selection and xdist's scheduling never split or reorder it); every record reaches the
    store like `sorg_trial`'s. `tasks` may hold Tasks or task ids.
    """

    def run(tasks: Any, protocol: str, model: str, n_agents: int, seed: int, **kw: Any) -> Any:
        tasks = [_bank(request.config).get(t) if isinstance(t, str) else t for t in tasks]
        _run_kwargs(kw, sorg_options)
        with _stop_on_unavailable(request):
            records = sorg_stream_runner(tasks, protocol, model, n_agents, seed, client=sorg_client, **kw)
        for record in records:
            request.node.user_properties.append((TRIAL_PROP, trial_payload(record)))
        return records

    return run


def trial_payload(record: Any) -> dict[str, str]:
    """What a trial's report carries to the controller: its id and its store line, encoded
    here (in the worker) so that execnet moves one string instead of a nested record."""
    from sorg.store import encode

    return {"trial_id": record.trial_id, "line": encode(record_dict(record))}


def record_dict(record: Any) -> dict[str, Any]:
    """`record.to_dict()`, about 10x faster for a TrialRecord of the known shape.

    `dataclasses.asdict` deep-copies every value through generic recursion; at 25,000 trials
    of hundreds of replies that was the plugin's largest per-trial cost. Records are frozen
    and their leaves are str/int/float/bool, so a shallow copy per nested record is exact.
    Anything of another shape (a subclass, an unexpected nested type) takes `to_dict()`.
    """
    from sorg.record import AgentReply, TrialRecord, UsageRow

    if type(record) is not TrialRecord:
        return record.to_dict()
    d = dict(record.__dict__)
    try:
        d["per_agent"] = [_flat(u, UsageRow) for u in record.per_agent]
        d["per_round"] = [_flat(u, UsageRow) for u in record.per_round]
        d["replies"] = [_flat(r, AgentReply) for r in record.replies]
    except TypeError:
        return record.to_dict()
    d["roles"] = list(record.roles)
    d["quality"] = dict(record.quality)
    d["sources"] = dict(record.sources)
    if record.judge and not all(isinstance(v, (str, int, float, bool, type(None))) for v in record.judge.values()):
        return record.to_dict()
    d["judge"] = dict(record.judge)
    return d


def _flat(obj: Any, cls: type) -> dict[str, Any]:
    if type(obj) is not cls:
        raise TypeError(type(obj).__name__)
    d = dict(obj.__dict__)
    for k, v in d.items():
        if isinstance(v, tuple):
            d[k] = list(v)
        elif not isinstance(v, (str, int, float, bool, type(None))):
            raise TypeError(k)
    return d


def _bank(config: pytest.Config) -> Any:
    st = _state(config)
    if st.bank is None:
        from sorg.tasks import load_bank

        st.bank = load_bank()
    return st.bank


# --------------------------------------------------------------------------- parametrization


def _slugs(models: list[str]) -> dict[str, str]:
    """Short model ids for test ids: the part after the last '/', unless two collide."""
    short = {m: m.rsplit("/", 1)[-1] for m in models}
    if len(set(short.values())) < len(short):
        return {m: m.replace("/", "_") for m in models}
    return short


def _mark_overrides(metafunc: pytest.Metafunc) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mark in reversed(list(metafunc.definition.iter_markers("sorg"))):  # closest mark wins
        if mark.args:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: @pytest.mark.sorg takes keywords only ({', '.join(MARK_KEYS)})")
        bad = set(mark.kwargs) - set(MARK_KEYS)
        if bad:
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid}: unknown @pytest.mark.sorg keyword(s) {sorted(bad)}; known: {', '.join(MARK_KEYS)}")
        out.update(mark.kwargs)
    return out


def _as_list(value: Any, name: str, nodeid: str) -> list:
    if isinstance(value, (str, int)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise pytest.UsageError(f"{nodeid}: @pytest.mark.sorg({name}=...) must be a list, got {value!r}") from None


def _check_protocols(protocols: list[str], nodeid: str) -> None:
    """Unknown protocol names fail at collection, naming the test (not 700 trials later)."""
    try:
        from sorg.protocols import PROTOCOLS

        known = set(PROTOCOLS) or set(_opts.ALL_PROTOCOLS)
    except Exception:  # a broken protocol module must not hide every test; trials show it
        known = set(_opts.ALL_PROTOCOLS)
    unknown = [p for p in protocols if p not in known]
    if unknown:
        raise pytest.UsageError(f"{nodeid}: unknown protocol(s) {unknown}; known: {', '.join(sorted(known))}")


def stream_order(tasks: list[Any]) -> list[Any]:
    from sorg.tasks.bank import stream_order as order

    return order(tasks)


def _registered_protocols() -> list[str]:
    """'all': every protocol registered now (a user's too), in registry order."""
    try:
        from sorg.protocols import PROTOCOLS

        return list(PROTOCOLS) or list(_opts.ALL_PROTOCOLS)
    except Exception:  # a broken protocol module must not hide every test; trials show it
        return list(_opts.ALL_PROTOCOLS)


def _stream_label(tasks: tuple[Any, ...]) -> str:
    ids = [getattr(t, "id", str(t)) for t in tasks]
    return ids[0] if len(ids) == 1 else f"{ids[0]}..{ids[-1]}+{len(ids)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Fill `model`, `protocol`, `n_agents`, `task`, `seed` from the options / sorg mark."""
    wanted = [a for a in SWEEP_ARGS if a in metafunc.fixturenames]
    if not wanted or metafunc.definition.get_closest_marker("sorg_claim"):
        return
    explicit = set()
    for m in metafunc.definition.iter_markers("parametrize"):
        names = m.args[0] if m.args else m.kwargs.get("argnames", ())
        explicit.update(n.strip() for n in (names.split(",") if isinstance(names, str) else names))
    # A fixture of the same name (a test suite's own `task` or `seed`) is the user's: leave it.
    fixtures = getattr(metafunc, "_arg2fixturedefs", {})
    wanted = [a for a in wanted if a not in explicit and a not in fixtures]
    if not wanted:
        return
    config = metafunc.config
    o = _sorg_opts(config)
    nodeid = metafunc.definition.nodeid
    ov = _mark_overrides(metafunc)
    models = _as_list(ov.get("models", o.models), "models", nodeid)
    protocols = _as_list(ov.get("protocols", o.protocols), "protocols", nodeid)
    if protocols == ["all"]:
        protocols = _registered_protocols()
    agents = [int(a) for a in _as_list(ov.get("agents", o.agents), "agents", nodeid)]
    seeds_v = ov.get("seeds", o.seeds)
    seeds = list(range(int(seeds_v))) if isinstance(seeds_v, int) else [int(s) for s in _as_list(seeds_v, "seeds", nodeid)]
    if "protocol" in wanted:
        _check_protocols(protocols, nodeid)
    tasks: list[Any] = [None]
    if "task" in wanted or "stream" in wanted:
        bank = _bank(config)
        if "tasks" in ov:
            tasks = [bank.get(t) for t in _as_list(ov["tasks"], "tasks", nodeid)]
        else:
            levels = [int(x) for x in _as_list(ov.get("levels", o.levels), "levels", nodeid)]
            domains = ov.get("domains", o.domains)
            tasks = list(bank.select(levels=tuple(levels), domains=domains,
                                     per_level=ov.get("tasks_per_level", o.tasks_per_level)))
        if not tasks:
            raise pytest.UsageError(f"{nodeid}: the task selection (levels, domains) matched no task in the bank")
    length = int(ov.get("stream_length", o.stream_length))
    ordered = stream_order(tasks) if tasks != [None] else tasks
    streams = [tuple(ordered[i:i + length]) for i in range(0, len(ordered), length)]
    slug = _slugs(models)
    axes = {
        "model": [(m, slug[m]) for m in models],
        "task": [(t, getattr(t, "id", str(t))) for t in tasks],
        "stream": [(st, _stream_label(st)) for st in streams],
        "protocol": [(p, p) for p in protocols],
        "n_agents": [(n, f"n{n}") for n in agents],
        "seed": [(s, f"s{s}") for s in seeds],
    }
    order = [a for a in ("model", "task", "stream", "protocol", "n_agents", "seed") if a in wanted]
    combos: list[tuple[list, list]] = [([], [])]
    for a in order:
        combos = [(vals + [v], ids + [i]) for vals, ids in combos for v, i in axes[a]]
    id_order = [a for a in ("task", "stream", "protocol", "n_agents", "seed", "model") if a in wanted]
    ids = ["-".join(ids[order.index(a)] for a in id_order) for _, ids in combos]
    values = [tuple(vals) if len(order) > 1 else vals[0] for vals, _ in combos]
    metafunc.parametrize(order if len(order) > 1 else order[0], values, ids=ids)


# --------------------------------------------------------------------------- trials -> store


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    """Each record travels in exactly one report: once a phase's report holds it, it leaves
    the item (otherwise the teardown report would carry it again, and junit XML would get a
    whole trial as a property); the trial id stays as a small property instead."""
    rep = yield
    props = item.user_properties
    if any(k == TRIAL_PROP for k, _ in props):
        ids = [v.get("trial_id") for k, v in props if k == TRIAL_PROP]
        props[:] = [(k, v) for k, v in props if k != TRIAL_PROP] + [("sorg_trial_id", i) for i in ids]
    return rep


def _store(config: pytest.Config) -> Any:
    st = _state(config)
    if st.store is None:
        from sorg.store import TrialStore, new_run_id

        o = _sorg_opts(config)
        st.store = TrialStore(o.report_dir, o.run_id or new_run_id())
    return st.store


class _Gatherer:
    """Registered on the controller (or the single process): stores each trial record as its
    report arrives. A plugin object rather than a module hook because it needs the config,
    which `pytest_runtest_logreport` is not given."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = getattr(report, "user_properties", None)
        if not props:
            return
        recs = [v for k, v in props if k == TRIAL_PROP]
        if not recs:
            return
        store = _store(self.config)
        st = _state(self.config)
        for rec in recs:
            if store.append_line(rec["trial_id"], rec["line"]):
                st.trials_reported += 1
        # Once stored, the report keeps only the trial's id: pytest's terminal reporter holds
        # every report to the end of the session, and 25,000 whole records (about 26 KB each)
        # took the controller past 1 GB (benchmarks/bench_sweep.py: 1,380 MB -> 705 MB).
        report.user_properties = [(TRIAL_ID_PROP, v["trial_id"]) if k == TRIAL_PROP else (k, v)
                                  for k, v in props]


# --------------------------------------------------------------------------- claims: collect


def _claim_entry(item: pytest.Item) -> dict:
    """What the controller needs to call and report a claim: plain data (sent by execnet)."""
    from _pytest.skipping import evaluate_skip_marks, evaluate_xfail_marks

    entry: dict[str, Any] = {
        "nodeid": item.nodeid,
        "path": str(item.path),
        "qualname": _qualname(item),
        "location": [item.location[0], item.location[1], item.location[2]],
        "keywords": sorted(str(k) for k in item.keywords),
        "params": {},
        "skip": None,
        "xfail": None,
        "error": None,
    }
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        entry["params"] = dict(callspec.params)
    try:
        skipped = evaluate_skip_marks(item)
        if skipped is not None:
            entry["skip"] = skipped.reason
        xf = evaluate_xfail_marks(item)
        if xf is not None:
            entry["xfail"] = {"reason": xf.reason, "strict": bool(xf.strict), "run": bool(xf.run)}
    except Exception as exc:  # a bad skipif/xfail condition: report it on the claim
        entry["error"] = f"evaluating the claim's skip/xfail marks failed: {exc}"
    return entry


def _qualname(item: pytest.Item) -> str:
    parts = [item.originalname if hasattr(item, "originalname") else item.name]
    parent = item.parent
    while parent is not None and isinstance(parent, pytest.Class):
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Take claims out of the run (after -k/-m deselection); remember them for the controller."""
    if config.option.collectonly:
        return  # `pytest --collect-only` lists claims like tests
    claims = [it for it in items if it.get_closest_marker("sorg_claim") is not None]
    if not claims:
        return
    st = _state(config)
    keep = [it for it in items if it.get_closest_marker("sorg_claim") is None]
    items[:] = keep
    entries = [_claim_entry(it) for it in claims]
    for it, e in zip(claims, entries):
        st.claims[e["nodeid"]] = e
        st.claim_items[e["nodeid"]] = it
    if _is_worker(config):
        try:
            config.workeroutput[CLAIMS_OUTPUT_KEY] = entries  # type: ignore[attr-defined]
        except Exception as exc:  # non-serialisable parametrize values
            raise pytest.UsageError(f"sorg: cannot send claims to the xdist controller: {exc}") from None


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker finished; take the claims it collected."""
    out = getattr(node, "workeroutput", None) or {}
    config = node.config
    st = _state(config)
    for e in out.get(CLAIMS_OUTPUT_KEY, ()):
        st.claims.setdefault(e["nodeid"], e)


# --------------------------------------------------------------------------- claims: judge


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[Any]:
    """After every trial (all workers done, under xdist): judge the claims, write the report.

    A run that stopped early (-x, maxfail, Ctrl-C) still writes its report; its claims are
    reported skipped, because a claim judged on part of a sweep would say something the
    full sweep might not."""
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
    st = _state(config)
    try:
        if st.claims and not isinstance(stop, KeyboardInterrupt):
            reason = ""
            if stop is not None or session.shouldfail or session.shouldstop:
                reason = str(session.shouldfail or session.shouldstop or stop) or type(stop).__name__
            _judge_claims(session, st, stopped=reason)
    finally:
        _finish_store(session, st)
    if stop is not None:
        raise stop
    return result


def _load_claim(session: pytest.Session, st: _State, entry: dict) -> Callable[..., Any]:
    item = st.claim_items.get(entry["nodeid"])
    if item is not None:
        return item.obj  # type: ignore[attr-defined]
    from _pytest.pathlib import import_path

    config = session.config
    path = Path(entry["path"])
    mod = import_path(path, mode=config.getoption("importmode"), root=config.rootpath,
                      consider_namespace_packages=bool(config.getini("consider_namespace_packages")))
    obj: Any = mod
    parts = entry["qualname"].split(".")
    for i, name in enumerate(parts):
        obj = getattr(obj, name)
        if i < len(parts) - 1 and isinstance(obj, type):
            obj = obj()
    return obj


@dataclass
class _Outcome:
    kind: str  # "verdict" | "skip" | "error"
    verdict: Any = None
    reason: str = ""
    longrepr: str = ""
    duration: float = 0.0


def _session_trials(config: pytest.Config) -> Any:
    """Every ok trial in the run's store. The store is the session's own records, plus those
    already in the run directory when `--sorg-run-id` names an existing run (a resumed run, or
    `pytest evals/test_claims.py --sorg-run-id=<run>` to judge claims over a stored run)."""
    from sorg.results import Trials
    from sorg.store import read_records

    store = _store(config)
    recs = []
    if store.path.exists():
        store.close()
        recs = read_records(store.path)
    return Trials([r for r in recs if r.status == "ok"])


def _judge_claims(session: pytest.Session, st: _State, stopped: str = "") -> None:
    from sorg import claims as _claims

    config = session.config
    entries = [st.claims[k] for k in sorted(st.claims, key=_claim_order(st))]
    trials = None
    outcomes: dict[str, _Outcome] = {}
    verdict_ids: list[str] = []
    for e in entries:
        nid = e["nodeid"]
        if e["error"]:
            outcomes[nid] = _Outcome("error", longrepr=e["error"])
            continue
        if e["skip"] is not None:
            outcomes[nid] = _Outcome("skip", reason=e["skip"])
            continue
        if e["xfail"] and not e["xfail"]["run"]:
            outcomes[nid] = _Outcome("skip", reason="[NOTRUN] " + e["xfail"]["reason"])
            continue
        if stopped:
            outcomes[nid] = _Outcome("skip", reason=f"the run stopped early ({stopped}); claims judge complete runs only")
            continue
        if trials is None:
            trials = _session_trials(config)
        t0 = time.perf_counter()
        try:
            fn = _load_claim(session, st, e)
            v = fn(trials, **e["params"])
        except pytest.skip.Exception as exc:
            outcomes[nid] = _Outcome("skip", reason=str(exc.msg), duration=time.perf_counter() - t0)
            continue
        except (Exception, pytest.fail.Exception):
            outcomes[nid] = _Outcome("error", longrepr=_short_tb(), duration=time.perf_counter() - t0)
            continue
        if not isinstance(v, _claims.Verdict):
            outcomes[nid] = _Outcome(
                "error", duration=time.perf_counter() - t0,
                longrepr=f"claim {nid} returned {type(v).__name__}, not a Verdict: a claim must `return claims.beats(...)` "
                         f"(or spread/equivalent/growth/ratio/count/skip)")
            continue
        outcomes[nid] = _Outcome("verdict", verdict=v.named(nid), duration=time.perf_counter() - t0)
        verdict_ids.append(nid)
    final = _claims.finalize([outcomes[n].verdict for n in verdict_ids])
    for nid, v in zip(verdict_ids, final):
        outcomes[nid].verdict = v
    # Claims count as collected tests, so progress and totals add up.
    session.testscollected += len(entries)
    for e in entries:
        _report_claim(config, e, outcomes[e["nodeid"]], st)


def _claim_order(st: _State) -> Callable[[str], Any]:
    return lambda nid: (st.claims[nid]["location"][0], st.claims[nid]["location"][1] or 0, nid)


def _short_tb() -> str:
    etype, value, tb = sys.exc_info()
    # Drop the plugin's own frame so the trace starts in the claim.
    frames = traceback.extract_tb(tb)
    here = os.path.abspath(__file__)
    frames = [f for f in frames if os.path.abspath(f.filename) != here] or frames
    return "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(etype, value))


def _report_claim(config: pytest.Config, e: dict, out: _Outcome, st: _State) -> None:
    """Send the claim through pytest's report hooks as setup/call/teardown of a test."""
    from _pytest.reports import TestReport

    nid = e["nodeid"]
    loc = (e["location"][0], e["location"][1], e["location"][2])
    kw = {k: 1 for k in e["keywords"]}
    xf = e["xfail"]
    extra: dict[str, Any] = {}
    v = out.verdict
    if out.kind == "skip":
        outcome, longrepr = "skipped", (str(e["path"]), (loc[1] or 0) + 1, f"Skipped: {out.reason}")
        if xf and out.reason.startswith("[NOTRUN]"):
            extra["wasxfail"] = out.reason
            longrepr = None
    elif out.kind == "error":
        outcome, longrepr = "failed", out.longrepr
    elif v.passed is None:
        reason = f"{v.statement or v.name}: {v.skip_reason}" if v.skip_reason else v.message
        outcome, longrepr = "skipped", (str(e["path"]), (loc[1] or 0) + 1, f"Skipped: {reason}")
    elif v.passed:
        outcome, longrepr = "passed", None
    else:
        outcome, longrepr = "failed", v.message
    if xf and out.kind != "skip" and outcome != "skipped":
        if outcome == "failed":
            outcome, longrepr = "skipped", None
            extra["wasxfail"] = xf["reason"]
        elif xf["strict"]:
            outcome, longrepr = "failed", f"[XPASS(strict)] {xf['reason']}" + (f"\n{v.message}" if v is not None else "")
        else:
            extra["wasxfail"] = xf["reason"]
    word = _word(outcome, extra)
    message = v.message if v is not None else (out.reason or out.longrepr)
    if word in ("xfailed", "xpassed") or (xf and xf["strict"] and outcome == "failed" and v is not None):
        message = f"[xfail{'(strict)' if xf['strict'] else ''}: {xf['reason']}] {message}"
    row = {"nodeid": nid, "outcome": word, "message": message}
    if v is not None:
        row["verdict"] = v.to_dict()
    st.verdict_rows.append(row)
    hook = config.hook
    now = time.time()
    hook.pytest_runtest_logstart(nodeid=nid, location=loc)
    props = [("sorg_claim", row["message"][:2000])]
    for when, oc, lr, dur, ex in (("setup", "passed", None, 0.0, {}),
                                  ("call", outcome, longrepr, out.duration, extra),
                                  ("teardown", "passed", None, 0.0, {})):
        rep = TestReport(nid, loc, kw, oc, lr, when, (), dur, now, now + dur,
                         props if when == "teardown" else [], **ex)
        hook.pytest_runtest_logreport(report=rep)
    hook.pytest_runtest_logfinish(nodeid=nid, location=loc)


def _word(outcome: str, extra: dict) -> str:
    if "wasxfail" in extra:
        return "xfailed" if outcome == "skipped" else "xpassed"
    return outcome


# --------------------------------------------------------------------------- reports


def _finish_store(session: pytest.Session, st: _State) -> None:
    """Close the store; write claims.json and the report into the run directory."""
    store = st.store
    if store is None and not st.verdict_rows:
        return
    store = _store(session.config)
    try:
        store.open()
        store.close()
        from sorg import report

        o = _sorg_opts(session.config)
        report.write_claims(store.run_dir, st.verdict_rows, report.run_meta(o, session.config))
        st.report_paths = [str(p) for p in report.build(store.run_dir, plots=o.plots)]
    except Exception as exc:  # a report bug must not hide the run's results
        st.report_error = f"{type(exc).__name__}: {exc}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    st = config.stash.get(_STATE, None)
    if st is None or (st.store is None and not st.verdict_rows):
        return
    tr = terminalreporter
    if st.verdict_rows:
        from sorg import report

        tr.write_sep("=", "sorg claims")
        tr.write_line(report.claims_table(st.verdict_rows, fmt="simple"))
    if st.store is not None:
        tr.write_sep("-", "sorg run")
        tr.write_line(f"trials stored: {st.store.path} ({st.trials_reported} new this session)")
        for p in st.report_paths:
            if p.endswith("summary.md"):
                tr.write_line(f"report: {p}")
        if st.report_error:
            tr.write_line(f"report NOT written: {st.report_error}", red=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    st = config.stash.get(_STATE, None)
    if st is not None and st.store is not None:
        st.store.close()


# --------------------------------------------------------------------------- results side


def _live_meter(o: _opts.SorgOptions) -> Any:
    """The run's live-call meter for `sorg_client` (None with --sorg-progress=off)."""
    from sorg import progress

    return progress.meter() if o.progress else None


def _register_results_hooks(config: pytest.Config) -> None:
    """Controller only: cassette-use log, record mode "rewrite" (`sorg.run_hooks`), live progress."""
    from sorg.run_hooks import RunHooks

    def run_dir() -> Path | None:
        store = _state(config).store
        return store.run_dir if store is not None else None

    hooks = RunHooks(config, run_dir)
    config.pluginmanager.register(hooks, "sorg-run-hooks")
    o = _sorg_opts(config)
    if o.progress and not config.option.collectonly:
        from sorg.run_hooks import ProgressReporter

        config.pluginmanager.register(ProgressReporter(config, hooks.folder, o.budget_usd), "sorg-progress")
