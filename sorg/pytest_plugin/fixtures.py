"""sorg's fixtures: the run's settings, model door, task bank, trial and stream runners,
`sorg_trial` and `sorg_stream`.

Why apart from the hooks: fixtures are what an eval file uses; the hooks are how a run is
gathered and judged. `sorg.plugin` imports these names, so pytest finds them in the plugin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sorg import options as _opts
from sorg.pytest_plugin import faults as _faults
from sorg.pytest_plugin import records as _records
from sorg.pytest_plugin.state import _bank, _sorg_opts

TRIAL_PROP = "sorg_trial"
#: The run's generation settings (`--sorg-temperature` ...), passed to every trial and stream.
GENERATION = ("temperature", "max_tokens", "context_tokens", "answer_tokens", "view_chars")


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
        concurrency=sorg_options.concurrency,
        timeout_s=sorg_options.timeout_s,
        retries=sorg_options.retries,
        # A shard records into its own cassette file, so shards on one disk never contend.
        cassette_name=f"shard-{sorg_options.shard.replace('/', '-of-')}" if sorg_options.shard else "default",
        meter=_live_meter(sorg_options),
        model_config=sorg_options.model_config,
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def sorg_bank(request: pytest.FixtureRequest) -> Any:
    """The run's validated task bank: the `--sorg-bank` directory when set, else the packaged
    one; the sweep's `task` and `stream` are drawn from the same bank. To use your own tasks,
    set `--sorg-bank` (ini `sorg_bank`): overriding this fixture does not change the sweep,
    which is built at collection, before any fixture runs."""
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
    or a task id. Extra keywords go to `run_trial` (e.g. `context_tokens=`); the run's
    generation settings are passed unless given here.
    """

    def run(task: Any, protocol: str, model: str, n_agents: int, seed: int, **kw: Any) -> Any:
        if isinstance(task, str):
            task = _bank(request.config).get(task)
        _run_kwargs(kw, sorg_options)
        kw.setdefault("label", request.node.nodeid)
        with _run_faults(request):
            record = sorg_runner(task, protocol, model, n_agents, seed, client=sorg_client, **kw)
        _keep(request, [record])
        return record

    return run


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
        with _run_faults(request):
            records = sorg_stream_runner(tasks, protocol, model, n_agents, seed, client=sorg_client, **kw)
        _keep(request, list(records))
        return records

    return run


def _run_kwargs(kw: dict[str, Any], o: _opts.SorgOptions) -> None:
    """The run's judge, scorers and generation settings, unless the caller set them ('self'
    judge = the trial's model)."""
    kw.setdefault("judge_model", None if o.judge_model in (None, "self") else o.judge_model)
    kw.setdefault("scorers", tuple(o.scorers))
    for name in GENERATION:
        kw.setdefault(name, getattr(o, name))


@contextlib.contextmanager
def _run_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fault of the whole run (a corrupt cassette, a model never recorded, the embedded model
    missing) fails every later trial the same way: it is reported once and the sweep stops
    after this test (under xdist too); a rerun with the run id resumes."""
    try:
        yield
    except Exception as exc:
        fault = _faults.classify(exc)
        if fault and not _faults.meet(request, fault):
            _faults.blocked(fault)
        raise


def _keep(request: pytest.FixtureRequest, records: list[Any]) -> None:
    """Attach each record to the test's report (it reaches the store from any worker); a
    record that shows a fault of the whole run is stored (status error, resumable), then the
    fault is reported once."""
    for record in records:
        request.node.user_properties.append((TRIAL_PROP, _records.trial_payload(record)))
    for record in records:
        fault = _faults.classify_record(record)
        if fault and not _faults.meet(request, fault):
            _faults.blocked(fault)


def _live_meter(o: _opts.SorgOptions) -> Any:
    """The run's live-call meter for `sorg_client` (None with --sorg-progress=off)."""
    from sorg import progress

    return progress.meter() if o.progress else None
