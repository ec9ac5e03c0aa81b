"""The plugin's settings: one table of options, read from the command line, the environment
and `[tool.pytest.ini_options]`, in that order of precedence.

Why one table: each setting needs a command-line flag, an ini key, an environment variable
(for CI), a default and a parser; writing them once keeps `pytest --help`, the ini keys and the
README from drifting apart. A bad value, whatever its source, raises one error
(`sorg.errors.SettingError`: the setting, the value, where it came from).

The same table holds the settings the model door reads when it uses them (the embedded
model's server, the lock timeout, the run id naming the budget ledger): `setting(name)` reads
one of them at that moment, from the pytest run in progress in this process (`install`, called
by the plugin) or, outside pytest, from the environment and the default. Reading them when
used, not at import, is what lets a test or a user set them after sorg was imported.

Why this module is long: the parsers, the table and its readers are one concern, and splitting
the parsers off would only move the table's vocabulary away from the table.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, get_args

from sorg.errors import SettingError
from sorg.model.types import RecordMode

RECORD_MODES: tuple[RecordMode, ...] = get_args(RecordMode)


def _list(v: str) -> list[str]:
    return [x.strip() for x in v.replace(";", ",").split(",") if x.strip()]


def _models(v: str) -> list[str]:
    """Model strings; `sim/<world>` stands for every model the simulated world declares."""
    models = _list(v)
    if any(m.split("/", 1)[0] == "sim" for m in models):
        from sorg.sim import expand_models

        return expand_models(models)
    return models


def _ints(v: str) -> list[int]:
    out = []
    for x in _list(v):
        n = int(x)
        if n < 1:
            raise ValueError(f"{n} is not a positive integer")
        out.append(n)
    if not out:
        raise ValueError("empty list")
    return out


#: The largest team a sweep may ask for. Why a bound: calls per trial grow with the team (and
#: each agent reads the others' work), so a typo such as 100000 would start trials that cannot
#: finish; the study's largest team is 256.
MAX_TEAM = 1024


def _team_sizes(v: str) -> list[int]:
    sizes = _ints(v)
    big = [n for n in sizes if n > MAX_TEAM]
    if big:
        raise ValueError(f"{big[0]} agents is more than sorg runs in one team (at most {MAX_TEAM})")
    return sizes


_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")


def _run_id(v: str) -> str | None:
    """A run id names a directory under the report dir: a plain name, never a path (`../x`
    wrote outside it, after paying for the trials), never `latest` (the pointer)."""
    name = _opt_str(v)
    if name is None:
        return None
    if not _RUN_ID.fullmatch(name) or name == "latest":
        raise ValueError(f"{name!r} is not a plain run name: use letters, digits, '.', '_', '-', '+' (not a path, "
                         f"not 'latest', at most 200 characters)")
    return name


def _opt_bytes(v: str) -> int | None:
    return None if v.strip().lower() in ("", "none") else _pos_int(v)


def _pos_int(v: str) -> int:
    n = int(v)
    if n < 1:
        raise ValueError(f"{n} is not a positive integer")
    return n


def _opt_int(v: str) -> int | None:
    return None if v.strip().lower() in ("", "all", "none") else _pos_int(v)


def _opt_float(v: str) -> float | None:
    if v.strip().lower() in ("", "none", "inf"):
        return None
    f = float(v)
    if not f >= 0:
        raise ValueError(f"{v} is not a non-negative number")
    return f


def _auto_int(v: str) -> int | None:
    """A positive integer, or None for 'auto' (sorg decides from the machine)."""
    return None if v.strip().lower() in ("", "auto") else _pos_int(v)


def _float(v: str) -> float:
    f = float(v)
    if f != f:
        raise ValueError("nan is not a number of seconds")
    return f


def _opt_str(v: str) -> str | None:
    return None if v.strip().lower() in ("", "none") else v.strip()


def _record(v: str) -> RecordMode:
    v = v.strip().lower()
    for mode in RECORD_MODES:
        if v == mode:
            return mode
    raise ValueError(f"{v!r} is not one of {', '.join(RECORD_MODES)}")


def _bank(v: str) -> str | None:
    """A directory of task files, or None for the packaged bank."""
    return None if v.strip().lower() in ("", "packaged", "none") else v.strip()


def _protocols(v: str) -> list[str]:
    """'all' stays 'all' here: it means every protocol registered when the sweep is built."""
    return ["all"] if v.strip().lower() in ("all", "*") else _list(v)


def _scorers(v: str) -> list[str]:
    out = _list(v)
    if not out:
        raise ValueError("empty list: name at least one scorer (e.g. coverage)")
    return out


def _plots(v: str) -> bool:
    v = v.strip().lower()
    if v in ("auto", "yes", "true", "1", "on"):
        return True
    if v in ("no", "false", "0", "off"):
        return False
    raise ValueError(f"{v!r} is not auto or no")


def _nonneg_int(v: str) -> int:
    n = int(v)
    if n < 0:
        raise ValueError(f"{n} is negative")
    return n


def _pos_float(v: str) -> float:
    f = float(v)
    if not f > 0:
        raise ValueError(f"{v} is not a positive number")
    return f


def _nonneg_float(v: str) -> float:
    f = float(v)
    if not f >= 0:
        raise ValueError(f"{v} is not a non-negative number")
    return f


def _flag(v: str) -> bool:
    v = v.strip().lower()
    if v in ("yes", "true", "1", "on"):
        return True
    if v in ("", "no", "false", "0", "off"):
        return False
    raise ValueError(f"{v!r} is not yes or no")


def _shard(v: str) -> str:
    from sorg.pytest_plugin.sweep import parse_shard

    got = parse_shard(v)
    return "" if got is None else f"{got[0]}/{got[1]}"


def _opt_list(v: str) -> list[str] | None:
    return None if v.strip().lower() in ("", "all", "none") else _list(v)


def _opt_levels(v: str) -> list[int]:
    levels = [1, 2, 3, 4] if v.strip().lower() in ("", "all") else _ints(v)
    bad = [n for n in levels if n > 4]
    if bad:
        raise ValueError(f"{bad[0]} is not a task complexity level (1-4)")
    return levels


#: What each parser accepts, said in a bad value's message instead of Python's own words
#: ("invalid literal for int() with base 10: 'four'"); closed sets also get a did-you-mean.
_ALLOWED: dict[Callable[[str], Any], str] = {
    _ints: "comma-separated whole numbers from 1, e.g. 4,8", _pos_int: "a whole number from 1",
    _opt_int: "a whole number from 1, or all", _opt_float: "a number from 0, or none",
    _auto_int: "a whole number from 1, or auto", _float: "a number", _nonneg_int: "a whole number from 0",
    _pos_float: "a number above 0", _nonneg_float: "a number from 0", _opt_levels: "levels 1-4, e.g. 1,2, or all",
    _record: f"one of {', '.join(RECORD_MODES)}", _plots: "auto or no", _flag: "yes or no",
    _team_sizes: f"comma-separated whole numbers from 1 to {MAX_TEAM}, e.g. 4,8",
    _run_id: "a plain name: letters, digits, '.', '_', '-', '+'", _opt_bytes: "a whole number of bytes from 1, or none",
}
_CHOICES: dict[Callable[[str], Any], tuple[str, ...]] = {
    _record: RECORD_MODES, _plots: ("auto", "no", "yes"), _flag: ("yes", "no"), _opt_int: ("all",),
    _opt_float: ("none",), _auto_int: ("auto",), _opt_levels: ("all",), _opt_bytes: ("none",),
}
_PY_NUMBER = re.compile(r"(invalid literal for int\(\) with base 10|could not convert string to float): (.*)")


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """' (did you mean 'new'?)' for the choice nearest `word` (difflib), or ''."""
    near = difflib.get_close_matches(str(word).strip().lower(), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _why(parse: Callable[[str], Any], raw: str, exc: ValueError) -> str:
    """A parser's complaint in the user's words: what was wrong, the nearest allowed word,
    and what the setting allows."""
    msg = str(exc)
    m = _PY_NUMBER.fullmatch(msg)
    if m:
        msg = f"{m.group(2)} is not a {'whole ' if 'int' in m.group(1) else ''}number"
    bad = [w for w in _list(raw) if not w.replace(".", "", 1).lstrip("+-").isdigit()] or [raw]
    msg += did_you_mean(bad[0], _CHOICES.get(parse, ()))
    allowed = _ALLOWED.get(parse)
    return f"{msg}; allowed: {allowed}" if allowed and allowed not in msg else msg


@dataclass(frozen=True)
class Spec:
    name: str  # attribute name; flag is --sorg-<name with dashes>, ini key sorg_<name>
    default: str
    parse: Callable[[str], Any]
    help: str
    bare: bool = False  # a flag without a value (`--sorg-claims-only`), "yes" when given

    @property
    def flag(self) -> str:
        return "--sorg-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "sorg_" + self.name

    @property
    def env(self) -> str:
        return "SORG_" + self.name.upper()


SPECS: tuple[Spec, ...] = (
    Spec("record", "none", _record,
         "model-call record mode: none = replay only (a missing reply is an error), new = call live "
         "only what the cassettes lack, all = call everything live and re-record (appending), once = record "
         "only into a cassette file that does not exist yet, rewrite = call everything live and replace each "
         "file it called into with exactly this run's calls"),
    Spec("models", "local/smollm2-135m", _models, "comma-separated model strings (litellm names, local/..., fake/...)"),
    Spec("protocols", "all", _protocols,
         "comma-separated protocol names, or 'all' for every registered protocol (your own too)"),
    Spec("agents", "4,8", _team_sizes, f"comma-separated team sizes (at most {MAX_TEAM})"),
    Spec("levels", "1,2,3,4", _opt_levels, "comma-separated task complexity levels (1-4)"),
    Spec("domains", "all", _opt_list, "comma-separated task domains, or 'all'"),
    Spec("tasks_per_level", "all", _opt_int, "tasks per level (spread over domains), or 'all'"),
    Spec("bank", "packaged", _bank,
         "directory of your own task files (<domain>.json, the schema of sorg/tasks/schema.json) that the "
         "sweep and the sorg_bank fixture use instead of the packaged bank, or 'packaged'"),
    Spec("seeds", "1", _pos_int, "seeds (independent samples) per cell: seeds 0..N-1"),
    Spec("judge_model", "self", _opt_str,
         "model the judge_q scorer calls; 'self' = each trial's own model (flagged self-judged in records and report)"),
    Spec("scorers", "coverage,judge_q", _scorers, "comma-separated scorers that score each trial (quality.<name>)"),
    Spec("stream_length", "1", _pos_int,
         "tasks per stream: the selected tasks, in order, are run in streams of this many by one persistent team"),
    # Generation settings of the agents' calls; the defaults are `sorg.protocols.base.Team`'s
    # (the study's, recorded in cassettes/: a changed value is a different request).
    Spec("temperature", "0.7", _nonneg_float, "sampling temperature of the agents' calls (the judge's is always 0)"),
    Spec("max_tokens", "160", _pos_int, "token limit of one agent's reply (some turns ask less: a bid, a signal)"),
    Spec("context_tokens", "auto", _auto_int,
         "the model's context window: what an agent sees of its teammates' work is cut to fit in it; "
         "'auto': 2048 (the embedded model's), or a simulated world's models' (32768)"),
    Spec("answer_tokens", "320", _pos_int, "token limit of a synthesised answer (Coordinator's last call, lone agent)"),
    Spec("view_chars", "auto", _auto_int,
         "characters of an answer the scorers see (its bounded view), or 'auto': 4000, the embedded "
         "judge's context; a simulated judge reads any length"),
    Spec("budget_usd", "none", _opt_float, "USD budget for live calls in this run, or 'none'"),
    Spec("cache_dir", ".sorg/cache", _opt_str, "disk cache of model replies (relative to rootdir), or 'none'"),
    Spec("report_dir", "reports", str, "where runs are written: <dir>/<run-id>/trials.jsonl, <dir>/latest"),
    Spec("cassette_dir", "cassettes", _opt_str, "recorded model replies (relative to rootdir), or 'none'"),
    Spec("run_id", "", _run_id, "run directory name (default: UTC time and pid); reuse one to continue it"),
    Spec("plots", "auto", _plots, "write PNG plots with the report when matplotlib is installed (auto), or not (no)"),
    Spec("progress", "auto", _plots, "a live progress line (calls, tokens, dollars, ETA) while models are called "
         "live (auto), or never (off); silent in pure replay"),
    Spec("model_config", "none", _opt_str,
         "a litellm Router model_list file (YAML, TOML or JSON; relative to rootdir), or 'none': the model "
         "names it lists are called through its deployments (api_base, api_key, os.environ/NAME), which "
         "are never part of a request's identity or written anywhere"),
    Spec("concurrency", "4", _pos_int,
         "live calls in flight at once per model and process (raise it for a proxy or router in front of "
         "many inference servers)"),
    Spec("timeout_s", "120", _pos_float, "seconds one live call may take before it is retried"),
    Spec("max_reply_bytes", "1000000", _opt_bytes,
         "largest model reply (UTF-8 bytes) a live call accepts; a larger one is a provider error of that "
         "trial, not a record of megabytes (or 'none')"),
    Spec("retries", "4", _nonneg_int, "further attempts after a transient fault (429, 5xx, timeout, connection)"),
    Spec("shard", "none", _shard,
         "i/N: run shard i of N of the declared sweep (deterministic, every test whole); claims are judged "
         "later over the merged run (`sorg merge`)"),
    Spec("claims_only", "no", _flag,
         "run no trial: judge the claims over the stored run named by --sorg-run-id", bare=True),
    Spec("gate", "on", _flag,
         "the instrument gate: a claim over a scorer or emergence metric that failed (or never ran) "
         "validation reads 'not measured'; 'off' shows their figures anyway (exploration only, said loudly)"),
    # Read when used (`setting`), by the model door and the plugin's progress line: a server
    # start, a lock, a progress tick. None of them is part of a model request.
    Spec("local_start_timeout", "120", _pos_float, "seconds the embedded model's server may take to start"),
    Spec("local_call_timeout", "900", _pos_float,
         "seconds one call to the embedded model may take (its server cannot cancel a request, so a retry "
         "after a short timeout only queues a second copy)"),
    Spec("local_ctx", "8192", _pos_int, "context window (n_ctx) the embedded model's server is started with"),
    Spec("local_max_restarts", "1", _nonneg_int,
         "times a run restarts an embedded-model server that died before it gives up"),
    Spec("local_servers", "auto", _auto_int,
         "embedded-model servers (replicas) a run starts, or 'auto': one per two cores, at least two"),
    Spec("local_threads", "auto", _auto_int, "threads per embedded-model server, or 'auto': the cores split"),
    Spec("lock_timeout", "600", _float,
         "seconds to wait for a lock shared between processes before failing (negative: wait forever)"),
    Spec("progress_interval", "10", _nonneg_float, "seconds between live progress lines (0: only at the end)"),
)
_BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}


@dataclass(frozen=True)
class SorgOptions:
    """Resolved settings of one pytest run (paths absolute, lists parsed)."""

    record: RecordMode
    models: list[str]
    protocols: list[str]
    agents: list[int]
    levels: list[int]
    domains: list[str] | None
    tasks_per_level: int | None
    seeds: int
    judge_model: str | None
    budget_usd: float | None
    cache_dir: str | None
    report_dir: str
    cassette_dir: str | None
    run_id: str | None
    plots: bool = True
    scorers: list[str] = field(default_factory=lambda: ["coverage", "judge_q"])
    stream_length: int = 1
    temperature: float = 0.7
    max_tokens: int = 160
    context_tokens: int | None = None
    answer_tokens: int = 320
    view_chars: int | None = None
    progress: bool = True
    concurrency: int = 4
    timeout_s: float = 120.0
    max_reply_bytes: int | None = 1_000_000
    retries: int = 4
    shard: str = ""
    claims_only: bool = False
    bank: str | None = None  # a directory of task files; None: the packaged bank
    gate: bool = True
    model_config: str | None = None  # a litellm Router model_list file (absolute); None: none
    # The values at start-up of the settings read when used (`setting` reads them again then).
    local_start_timeout: float = 120.0
    local_call_timeout: float = 900.0
    local_ctx: int = 8192
    local_max_restarts: int = 1
    local_servers: int | None = None
    local_threads: int | None = None
    lock_timeout: float = 600.0
    progress_interval: float = 10.0


def addoptions(parser: Any) -> None:
    """Register every setting as `--sorg-*` and ini key `sorg_*` (pytest's parser)."""
    group = parser.getgroup("sorg", "sorg: multi-agent LLM experiments")
    for s in SPECS:
        kind = {"action": "store_const", "const": "yes"} if s.bare else {}
        group.addoption(s.flag, dest="sorg_" + s.name, default=None,
                        help=f"{s.help} (default {s.default!r}; ini {s.ini}, env {s.env})", **kind)
        parser.addini(s.ini, f"{s.help} (default {s.default!r})", default=None)


def raw_and_source(name: str, config: Any, env: Mapping[str, str] | None = None, cli: bool = True) -> tuple[str, str]:
    """The unparsed value of setting `name` and where it came from ("--sorg-agents",
    "environment variable SORG_AGENTS", "ini key sorg_agents" or "default"): what a
    SettingError about a value that parsed but names something unknown must say."""
    return _raw(_BY_NAME[name], config, os.environ if env is None else env, cli)


def _raw(s: Spec, config: Any, env: Mapping[str, str], cli: bool) -> tuple[str, str]:
    raw = config.getoption("sorg_" + s.name, None) if cli and config is not None else None
    source = s.flag
    if raw is None and env.get(s.env) not in (None, ""):
        raw, source = env[s.env], f"environment variable {s.env}"
    if raw is None and config is not None:
        ini = config.getini(s.ini)
        if ini not in (None, "", []):
            raw, source = ini if isinstance(ini, str) else ",".join(ini), f"ini key {s.ini}"
    if raw is None:
        raw, source = s.default, "default"
    return str(raw), source


def _value(s: Spec, config: Any, env: Mapping[str, str], cli: bool) -> Any:
    """One setting: command line > environment variable > ini key > default, parsed; a bad
    value raises SettingError naming the setting and its source. `config` None: environment
    and default only (outside pytest)."""
    raw, source = _raw(s, config, env, cli)
    try:
        return s.parse(raw)
    except SettingError:
        raise
    except ValueError as exc:
        raise SettingError(s.name, raw, source, _why(s.parse, raw, exc)) from None


def resolve(config: Any, env: Mapping[str, str] | None = None, cli: bool = True) -> SorgOptions:
    """Command line > environment variable > ini key > default, each parsed and checked.
    `cli=False, env={}` gives the project's configured settings (ini and defaults) alone.

    Raises SettingError (a ValueError) naming the setting, the value and its source when a
    value does not parse.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {s.name: _value(s, config, env, cli) for s in SPECS}
    root = str(config.rootpath)
    for key in ("cache_dir", "report_dir", "cassette_dir", "bank", "model_config"):
        if values[key] is not None:
            values[key] = os.path.join(root, os.path.expanduser(values[key]))
    if values["model_config"] is not None:  # a bad file stops the run here, before any call
        from sorg.model import routes

        routes.load(values["model_config"], source=_raw(_BY_NAME["model_config"], config, env, cli)[1])
    if values["claims_only"] and not values["run_id"]:
        raise SettingError("claims_only", "yes", "--sorg-claims-only",
                           "it judges a stored run: name it with --sorg-run-id=RUN")
    return SorgOptions(**values)


#: The pytest runs in progress in this process, innermost last (pytester runs one inside
#: another): where `setting` reads flags and ini keys.
_CONFIGS: list[Any] = []


def install(config: Any) -> None:
    """Make `config` (a pytest run's) the source of flags and ini keys for `setting`, until
    `uninstall(config)`. The plugin calls it in every process of a run (xdist workers too)."""
    _CONFIGS.append(config)


def uninstall(config: Any) -> None:
    """Undo `install(config)` (the innermost install of that config)."""
    for i in range(len(_CONFIGS) - 1, -1, -1):
        if _CONFIGS[i] is config:
            del _CONFIGS[i]
            return


def current_config() -> Any:
    """The innermost installed pytest config, or None outside pytest (or inside `settings_from(None)`)."""
    return _CONFIGS[-1] if _CONFIGS else None


@contextmanager
def settings_from(config: Any) -> Iterator[None]:
    """For the body, `setting` reads `config`'s flags and ini keys; None: the environment and
    the defaults alone, as a script without pytest (the library's own tests use this)."""
    install(config)
    try:
        yield
    finally:
        uninstall(config)


def setting(name: str) -> Any:
    """The value of setting `name` now: the installed pytest run's flag, else the environment
    variable, else its ini key, else the default; SettingError for a bad value. Path settings
    come back as given (relative to the rootdir): `resolve` is what makes them absolute."""
    return _value(_BY_NAME[name], current_config(), os.environ, cli=True)


#: @pytest.mark.sorg keywords that are settings of the table (`tasks` is a list of task ids).
_MARK_SETTINGS = ("models", "protocols", "agents", "levels", "domains", "tasks_per_level", "stream_length")


def check_mark(overrides: Mapping[str, Any], where: str) -> None:
    """Check the values of a `@pytest.mark.sorg(...)` with the table's parsers, so a bad value
    there raises the SettingError a bad flag does. `where`: the test's node id. `seeds` is a
    count (an int) or a list of seed values (whole numbers from 0)."""
    for key, value in overrides.items():
        source = f"@pytest.mark.sorg({key}=...) on {where}"
        try:  # as `params` reads it: a str or int is one value, any other iterable a list
            items = [value] if isinstance(value, (str, int)) else list(value)
        except TypeError:
            items = [value]
        raw = ",".join(str(v) for v in items)
        if key in _MARK_SETTINGS:
            if any(isinstance(v, bool) for v in items):
                raise SettingError(key, raw, source, "a bool is not a value of this setting")
            try:
                _BY_NAME[key].parse(raw)
            except ValueError as exc:
                raise SettingError(key, raw, source, _why(_BY_NAME[key].parse, raw, exc)) from None
        elif key == "seeds":
            try:
                if isinstance(value, int) and not isinstance(value, bool):
                    _pos_int(raw)
                elif not items or any(isinstance(v, bool) or int(v) < 0 for v in items):
                    raise ValueError("seeds is a count (an int) or a list of whole numbers from 0")
            except (TypeError, ValueError) as exc:
                raise SettingError(key, raw, source, str(exc)) from None


def mark_error(overrides: Mapping[str, Any], where: str) -> str:
    """`check_mark`'s SettingError as its message, or "" (for a caller that reports it outside
    the exception, so no chained traceback is shown)."""
    try:
        check_mark(overrides, where)
    except SettingError as exc:
        return str(exc)
    return ""


def used(config: Any) -> bool:
    """Whether this pytest run asks for sorg: a `--sorg-*` flag on the command line or a
    `sorg_*` ini key. Only then are the options checked at start-up; an unrelated project in
    the same venv (where a stray SORG_* variable may be set) is left alone, and sorg's
    fixtures still check the options the moment a test asks for them."""
    args = getattr(getattr(config, "invocation_params", None), "args", ()) or ()
    if any(str(a).startswith("--sorg-") for a in args):
        return True
    for s in SPECS:
        try:
            if config.getini(s.ini) not in (None, "", []):
                return True
        except ValueError:
            continue
    return False
