"""The plugin's settings: one table of options, read from the command line, the environment
and `[tool.pytest.ini_options]`, in that order of precedence.

Why one table: each setting needs a command-line flag, an ini key, an environment variable
(for CI), a default and a parser; writing them once keeps `pytest --help`, the ini keys and the
README from drifting apart. Parsing errors name the setting and where its value came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from sorg.model.types import RecordMode

#: The registered protocols, used when `sorg.protocols` is not importable (collection must not
#: fail because one module is broken; the trial then reports the real error).
ALL_PROTOCOLS = ("coordinator", "sequential", "broadcast", "shared", "stigmergic", "ripple", "morphogenetic",
                 "clonal", "fixed_roles", "single", "hierarchical", "dynamic")
RECORD_MODES: tuple[RecordMode, ...] = get_args(RecordMode)


def _list(v: str) -> list[str]:
    return [x.strip() for x in v.replace(";", ",").split(",") if x.strip()]


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
    return [1, 2, 3, 4] if v.strip().lower() in ("", "all") else _ints(v)


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
    Spec("models", "local/smollm2-135m", _list, "comma-separated model strings (litellm names, local/..., fake/...)"),
    Spec("protocols", "all", _protocols,
         "comma-separated protocol names, or 'all' for every registered protocol (your own too)"),
    Spec("agents", "4,8", _ints, "comma-separated team sizes"),
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
    Spec("context_tokens", "2048", _pos_int,
         "the model's context window: what an agent sees of its teammates' work is cut to fit in it"),
    Spec("answer_tokens", "320", _pos_int, "token limit of the team's final answer (the assembly call)"),
    Spec("budget_usd", "none", _opt_float, "USD budget for live calls in this run, or 'none'"),
    Spec("cache_dir", ".sorg/cache", _opt_str, "disk cache of model replies (relative to rootdir), or 'none'"),
    Spec("report_dir", "reports", str, "where runs are written: <dir>/<run-id>/trials.jsonl, <dir>/latest"),
    Spec("cassette_dir", "cassettes", _opt_str, "recorded model replies (relative to rootdir), or 'none'"),
    Spec("run_id", "", _opt_str, "run directory name (default: UTC time and pid); reuse one to continue it"),
    Spec("plots", "auto", _plots, "write PNG plots with the report when matplotlib is installed (auto), or not (no)"),
    Spec("progress", "auto", _plots, "a live progress line (calls, tokens, dollars, ETA) while models are called "
         "live (auto), or never (off); silent in pure replay"),
    Spec("concurrency", "4", _pos_int,
         "live calls in flight at once per model and process (raise it for a proxy or router in front of "
         "many inference servers)"),
    Spec("timeout_s", "120", _pos_float, "seconds one live call may take before it is retried"),
    Spec("retries", "4", _nonneg_int, "further attempts after a transient fault (429, 5xx, timeout, connection)"),
    Spec("shard", "none", _shard,
         "i/N: run shard i of N of the declared sweep (deterministic, every test whole); claims are judged "
         "later over the merged run (`sorg merge`)"),
    Spec("claims_only", "no", _flag,
         "run no trial: judge the claims over the stored run named by --sorg-run-id", bare=True),
)


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
    context_tokens: int = 2048
    answer_tokens: int = 320
    progress: bool = True
    concurrency: int = 4
    timeout_s: float = 120.0
    retries: int = 4
    shard: str = ""
    claims_only: bool = False
    bank: str | None = None  # a directory of task files; None: the packaged bank


def addoptions(parser: Any) -> None:
    """Register every setting as `--sorg-*` and ini key `sorg_*` (pytest's parser)."""
    group = parser.getgroup("sorg", "sorg: multi-agent LLM experiments")
    for s in SPECS:
        kind = {"action": "store_const", "const": "yes"} if s.bare else {}
        group.addoption(s.flag, dest="sorg_" + s.name, default=None,
                        help=f"{s.help} (default {s.default!r}; ini {s.ini}, env {s.env})", **kind)
        parser.addini(s.ini, f"{s.help} (default {s.default!r})", default=None)


def resolve(config: Any, env: Mapping[str, str] | None = None, cli: bool = True) -> SorgOptions:
    """Command line > environment variable > ini key > default, each parsed and checked.
    `cli=False, env={}` gives the project's configured settings (ini and defaults) alone.

    Raises ValueError naming the setting and its source when a value does not parse.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for s in SPECS:
        raw, source = (config.getoption("sorg_" + s.name, None) if cli else None), s.flag
        if raw is None and env.get(s.env) not in (None, ""):
            raw, source = env[s.env], f"environment variable {s.env}"
        if raw is None:
            ini = config.getini(s.ini)
            if ini not in (None, "", []):
                raw, source = ini if isinstance(ini, str) else ",".join(ini), f"ini key {s.ini}"
        if raw is None:
            raw, source = s.default, "default"
        try:
            values[s.name] = s.parse(str(raw))
        except ValueError as exc:
            raise ValueError(f"sorg: bad value {raw!r} for {s.flag} (from {source}): {exc}") from None
    root = str(config.rootpath)
    for key in ("cache_dir", "report_dir", "cassette_dir", "bank"):
        if values[key] is not None:
            values[key] = os.path.join(root, os.path.expanduser(values[key]))
    if values["claims_only"] and not values["run_id"]:
        raise ValueError("sorg: --sorg-claims-only judges a stored run: name it with --sorg-run-id=RUN")
    return SorgOptions(**values)


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
