"""Parametrization of sweep tests from the `--sorg-*` options and `@pytest.mark.sorg`.

Why its own module: this is the one place that turns settings into test ids, so the ids
(and with them the declared sweep that claims are judged over) come from one function.
Errors here are the user's (a typo'd protocol, a bad mark): they are raised as one-line
collection failures, never as tracebacks, and never after a trial has run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import pytest

from sorg import options as _opts

SWEEP_ARGS = ("model", "protocol", "n_agents", "task", "stream", "seed")
MARK_KEYS = ("models", "protocols", "agents", "levels", "domains", "tasks_per_level", "seeds", "tasks",
             "stream_length", "cells")


def usage_error(msg: str) -> NoReturn:
    """Fail collection with `msg` alone (no traceback). A collection error stops the run
    before any test, with or without xdist (xdist prints one identical error once), where a
    UsageError raised in a worker's collection prints a pluggy traceback per worker."""
    pytest.fail(f"sorg: {msg.removeprefix('sorg: ')}", pytrace=False)


def model_test_ids(models: list[str]) -> dict[str, str]:
    """Each model's part of a test id: short, for reading (the part after the last '/'), and
    where two models share that part, the whole name as `sorg.model.identity.model_slug` gives
    it ('a/m', 'b/m' -> 'a--m', 'b--m'), so two models never share a test id. Not a slug of
    its own: directories and trial ids name a model by `model_slug` alone."""
    from sorg.model.identity import model_slug

    short = {m: m.rsplit("/", 1)[-1] for m in models}
    if len(set(short.values())) < len(short):
        return {m: model_slug(m) for m in models}
    return short


def _mark_overrides(metafunc: pytest.Metafunc) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mark in reversed(list(metafunc.definition.iter_markers("sorg"))):  # closest mark wins
        if mark.args:
            usage_error(f"{metafunc.definition.nodeid}: @pytest.mark.sorg takes keywords only ({', '.join(MARK_KEYS)})")
        bad = set(mark.kwargs) - set(MARK_KEYS)
        if bad:
            usage_error(
                f"{metafunc.definition.nodeid}: unknown @pytest.mark.sorg keyword(s) {sorted(bad)}; "
                f"known: {', '.join(MARK_KEYS)}")
        out.update(mark.kwargs)
    return out


def _as_list(value: Any, name: str, nodeid: str) -> list:
    if isinstance(value, (str, int)):
        return [value]
    try:
        return list(value)
    except TypeError:
        usage_error(f"{nodeid}: @pytest.mark.sorg({name}=...) must be a list, got {value!r}")


def unknown_protocols(protocols: list[str]) -> tuple[list[str], set[str]]:
    """(the names in `protocols` that are not protocols, the known names); a RegistryError
    goes on (`registered_protocols`)."""
    known = set(registered_protocols())
    return [p for p in protocols if p not in known], known


def _check_protocols(protocols: list[str], nodeid: str) -> None:
    """Unknown protocol names fail at collection, naming the test (not 700 trials later)."""
    known = set(_registered_or_fail())
    unknown = [p for p in protocols if p not in known]
    if unknown:
        from sorg.errors import SettingError

        usage_error(str(SettingError("protocols", protocols, f"@pytest.mark.sorg(protocols=...) on {nodeid}",
                                     f"unknown protocol(s) {unknown}{_opts.did_you_mean(unknown[0], sorted(known))}; "
                                     f"known: {', '.join(sorted(known))}")))


def generate(metafunc: pytest.Metafunc, opts: Callable[[], _opts.SorgOptions], get_bank: Callable[[], Any],
             configured: Callable[[], _opts.SorgOptions | None] = lambda: None) -> list[str] | None:
    """Fill `model`, `protocol`, `n_agents`, `task`, `seed` from the options / sorg mark
    (`opts` and `get_bank` are called only when a test asks for a sweep argument).

    `configured` gives the project's own sweep settings (ini and defaults) when this run's
    command line narrows them to a slice (`sweep_is_slice`); then the node ids that sweep
    would have had are returned, so that claims see the slice as part of the declared sweep
    rather than as a complete one; [] when the mark's `cells=` keeps no cell (the test declares
    none). None otherwise (the collected items are the sweep).
    """
    wanted = [a for a in SWEEP_ARGS if a in metafunc.fixturenames]
    if not wanted or metafunc.definition.get_closest_marker("sorg_claim"):
        return None
    explicit: set[str] = set()
    for m in metafunc.definition.iter_markers("parametrize"):
        names = m.args[0] if m.args else m.kwargs.get("argnames", ())
        explicit.update(n.strip() for n in (names.split(",") if isinstance(names, str) else names))
    # A fixture of the same name (a test suite's own `task` or `seed`) is the user's: leave it.
    # Private attribute, read defensively: pytest has no public way to ask at collection
    # whether a name has a fixture (`metafunc.fixturenames` lists every argument, fixture
    # or not); without it, pytest's default (no such fixture) lets sorg fill the argument.
    fixtures = getattr(metafunc, "_arg2fixturedefs", {})
    wanted = [a for a in wanted if a not in explicit and a not in fixtures]
    if not wanted:
        return None
    order, values, ids = _combos(metafunc, opts(), wanted, get_bank)
    metafunc.parametrize(order if len(order) > 1 else order[0], values, ids=ids)
    conf = configured()
    if conf is None or explicit:
        # No cell kept (`cells=`): the test declares no sweep test, not pytest's skipped
        # placeholder for an empty parameter set, so claims never wait for that placeholder.
        return None if values else []
    return [f"{metafunc.definition.nodeid}[{i}]" for i in _combos(metafunc, conf, wanted, get_bank)[2]]


def sweep_is_slice(run: _opts.SorgOptions, conf: _opts.SorgOptions) -> bool:
    """Whether this run's sweep settings narrow the project's (every axis a subset of the
    configured one, at least one strictly): `--sorg-protocols=sequential --sorg-levels=1` is a
    slice of the study; `--sorg-models=another/model` is a different sweep, not a slice."""
    def axis(o: _opts.SorgOptions) -> list[set]:
        return [set(o.models), set(o.protocols), set(o.agents), set(o.levels), set(o.domains or ["*"]),
                {o.tasks_per_level or 10**9}, set(range(o.seeds))]
    if run.bank != conf.bank:  # another task bank is another sweep
        return False
    narrower = False
    for r, c in zip(axis(run), axis(conf)):
        if r == c:
            continue
        if "*" in c and "*" not in r:  # every domain configured, some selected
            narrower = True
            continue
        if len(r) == 1 and len(c) == 1 and isinstance(next(iter(r)), int) and next(iter(r)) < next(iter(c)):
            narrower = True  # fewer tasks per level
            continue
        if not r <= c:
            return False
        narrower = True
    return narrower


def stream_order(tasks: list[Any]) -> list[Any]:
    """The selected tasks in stream order (`sorg.tasks.bank.stream_order`)."""
    from sorg.tasks.bank import stream_order as order

    return order(tasks)


def registered_protocols() -> list[str]:
    """'all': every protocol registered now (a user's too: decorators in conftests and the
    modules they import, entry points of group `sorg.protocols`), in registry order.

    A RegistryError (an entry point that does not load, two protocols under one name) goes
    on: it is the user's to fix, and callers show it as a one-line usage error. So does an
    error importing `sorg.protocols` (a broken install): sorg names no protocol of its own here.
    """
    from sorg.errors import RegistryError

    try:
        from sorg.protocols import PROTOCOLS
    except Exception as exc:  # a broken module: said in one line, not a traceback per test
        raise RegistryError(f"the protocol registry (sorg.protocols) cannot be imported: "
                            f"{type(exc).__name__}: {exc}") from exc
    return list(PROTOCOLS)


def _registered_or_fail() -> list[str]:
    """`registered_protocols()`, a RegistryError as a one-line collection error."""
    from sorg.errors import RegistryError

    try:
        return registered_protocols()
    except RegistryError as exc:
        usage_error(str(exc))


def _stream_label(tasks: tuple[Any, ...]) -> str:
    """A stream's test-id part: the stream's own name (`sorg.trial.stream_name`), or its one
    task's id."""
    from sorg.trial import stream_name

    return stream_name(tasks) or tasks[0].id


def _combos(metafunc: pytest.Metafunc, o: _opts.SorgOptions, wanted: list[str],
            get_bank: Callable[[], Any]) -> tuple[list[str], list, list[str]]:
    """(argument names, values, ids) of the sweep `o` and the test's sorg mark give."""
    nodeid = metafunc.definition.nodeid
    ov = _mark_overrides(metafunc)
    bad = _opts.mark_error(ov, nodeid)
    if bad:  # a SettingError's message: what a bad flag gets
        usage_error(bad)
    models = _as_list(ov.get("models", o.models), "models", nodeid)
    protocols = _as_list(ov.get("protocols", o.protocols), "protocols", nodeid)
    if protocols == ["all"]:
        protocols = _registered_or_fail()
    agents = [int(a) for a in _as_list(ov.get("agents", o.agents), "agents", nodeid)]
    seeds_v = ov.get("seeds", o.seeds)
    seeds = (list(range(int(seeds_v))) if isinstance(seeds_v, int)
             else [int(s) for s in _as_list(seeds_v, "seeds", nodeid)])
    if "protocol" in wanted:
        _check_protocols(protocols, nodeid)
    tasks: list[Any] = [None]
    if "task" in wanted or "stream" in wanted:
        bank = get_bank()
        if "tasks" in ov:
            tasks = [bank.get(t) for t in _as_list(ov["tasks"], "tasks", nodeid)]
        else:
            levels = [int(x) for x in _as_list(ov.get("levels", o.levels), "levels", nodeid)]
            domains = ov.get("domains", o.domains)
            tasks = list(bank.select(levels=tuple(levels), domains=domains,
                                     per_level=ov.get("tasks_per_level", o.tasks_per_level)))
        if not tasks:
            usage_error(f"{nodeid}: the task selection (levels, domains) matched no task in the bank")
    streams: list[tuple[Any, ...]] = []
    if "stream" in wanted:  # only a test that takes `stream` gets the selected tasks cut into streams
        length = int(ov.get("stream_length", o.stream_length))
        ordered = stream_order(tasks)
        streams = [tuple(ordered[i:i + length]) for i in range(0, len(ordered), length)]
    model_ids = model_test_ids(models)
    axes = {
        "model": [(m, model_ids[m]) for m in models],
        "task": [(t, getattr(t, "id", str(t))) for t in tasks],
        "stream": [(st, _stream_label(st)) for st in streams],
        "protocol": [(p, p) for p in protocols],
        "n_agents": [(n, f"n{n}") for n in agents],
        "seed": [(s, f"s{s}") for s in seeds],
    }
    order: list[str] = [a for a in ("model", "task", "stream", "protocol", "n_agents", "seed") if a in wanted]
    combos: list[tuple[list, list]] = [([], [])]
    for a in order:
        combos = [(vals + [v], ids + [i]) for vals, ids in combos for v, i in axes[a]]
    if "cells" in ov:
        combos = _keep_cells(combos, order, ov["cells"], nodeid)
    id_order = [a for a in ("task", "stream", "protocol", "n_agents", "seed", "model") if a in wanted]
    ids = ["-".join(ids[order.index(a)] for a in id_order) for _, ids in combos]
    values = [tuple(vals) if len(order) > 1 else vals[0] for vals, _ in combos]
    return order, values, ids


def _keep_cells(combos: list[tuple[list, list]], order: list[str], keep: Any,
                nodeid: str) -> list[tuple[list, list]]:
    """The cells of the grid that `@pytest.mark.sorg(cells=keep)` keeps.

    Why: a study's design is a grid (protocols x sizes x tasks x seeds), but what a run may ask
    for is sometimes a part of it that is not a grid (the blocks recorded so far, fewer tasks at
    the largest team size). The mark still declares the whole design, readable in one place;
    `keep(cell) -> bool` is called once per cell with a dict of its sweep arguments (the ones
    the test takes: `{"stream": (Task, ...), "protocol": "shared", "n_agents": 4, "seed": 0,
    "model": "..."}`) and drops the cells it returns false for. Test ids are unchanged for the
    cells kept. When no cell is kept, pytest's empty parameter set applies (the test is skipped)
    and the test declares no sweep test (`generate` returns []).
    """
    if not callable(keep):
        usage_error(f"{nodeid}: @pytest.mark.sorg(cells=...) must be a function of a cell (a dict of its "
                    f"sweep arguments) returning whether to keep it, got {keep!r}")
    return [(vals, ids) for vals, ids in combos if keep(dict(zip(order, vals)))]
