"""Where a named model lives: a litellm Router `model_list` file (the `model_config` setting).

Why a file: a model served by your own machines (several vLLM servers, a proxy with its own
key) needs an `api_base` and an `api_key` per deployment, and several deployments under one
name need a router that spreads calls over them and stops sending to a dead one. litellm's
Router already does that from a `model_list`; sorg reads the same shape (YAML, TOML or JSON):

    model_list:
      - model_name: qwen-7b                      # the name sorg uses: --sorg-models=qwen-7b
        litellm_params: {model: openai/Qwen/Qwen2.5-7B-Instruct, api_base: http://gpu-1:8000/v1,
                         api_key: os.environ/GPU_KEY}
      - model_name: qwen-7b
        litellm_params: {model: openai/Qwen/Qwen2.5-7B-Instruct, api_base: http://gpu-2:8000/v1}
    router_settings: {routing_strategy: least-busy, cooldown_time: 30}

Why the deployment's params are not part of a request: the request hash names what was
asked (the model *name*, the messages, the generation settings), not where it was served, so
a recording made through one server replays through any other, and a key that is rotated or
differs per machine never invalidates a cassette, or reaches one: the values given here
(keys, `os.environ/NAME` references resolved) never enter `Request.params`, and every secret
the file holds is masked in any text sorg writes (`sorg.model.redact.add_secrets`). For the
same reason a generation setting (temperature, max_tokens, response_format, ...) is refused
here: it would change replies without changing their recording's key.

A bad file is a `SettingError` naming the file and the field, raised when the settings are
read (pytest start-up), before any call. litellm is imported only when a listed model is
first called live, so replaying never imports it.
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sorg.errors import SettingError
from sorg.model.redact import HEADER_PARAMS, SAFE_HEADERS, URL_PARAMS, add_secrets, is_secret_param, url_secrets

__all__ = ["Deployment", "ModelConfig", "load", "ROUTER_SETTINGS", "GENERATION_PARAMS"]

SETTING = "model_config"
ENV_REF = "os.environ/"
#: Params that change a reply: they belong to the request (hashed, recorded), not to a deployment.
GENERATION_PARAMS = frozenset({
    "temperature", "max_tokens", "max_completion_tokens", "top_p", "top_k", "min_p", "seed", "stop", "n",
    "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "logprobs", "top_logprobs",
    "response_format", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "thinking",
    "extra_body", "messages", "stream",
})
#: `litellm.Router`'s keyword arguments in the pinned litellm minor (a test compares this set with
#: the constructor's signature), so a misspelt router setting fails at start-up without importing
#: litellm. `model_list` is the file's own top-level key.
ROUTER_SETTINGS = frozenset({
    "assistants_config", "search_tools", "guardrail_list", "redis_url", "redis_host", "redis_port",
    "redis_password", "redis_db", "cache_responses", "cache_kwargs", "caching_groups", "client_ttl",
    "polling_interval", "default_priority", "num_retries", "max_fallbacks", "timeout", "stream_timeout",
    "default_litellm_params", "default_max_parallel_requests", "set_verbose", "debug_level",
    "default_fallbacks", "fallbacks", "context_window_fallbacks", "content_policy_fallbacks",
    "model_group_alias", "enable_pre_call_checks", "enable_tag_filtering", "tag_filtering_match_any",
    "tag_routing_prefix", "plugins", "retry_after", "retry_policy", "model_group_retry_policy",
    "allowed_fails", "allowed_fails_policy", "cooldown_time", "disable_cooldowns",
    "fallback_on_unsupported_params", "routing_strategy", "optional_pre_call_checks", "routing_strategy_args",
    "routing_groups", "provider_budget_config", "alerting_config", "router_general_settings",
    "deployment_affinity_ttl_seconds", "model_group_affinity_config", "ignore_invalid_deployments",
    "enable_health_check_routing", "health_check_staleness_threshold", "health_check_ignore_transient_errors",
    "background_health_check_model_groups", "enable_weighted_failover", "enable_mid_stream_fallback_continuation",
    "fallback_access_check", "fallback_budget_check", "auto_router_capability_limit",
    "session_affinity_repin_on_failover",
})
#: sorg's router defaults, under the file's `router_settings`: the client owns retries (one place
#: for backoff, Retry-After and the budget), and a deployment that fails once is cooled down, so
#: the client's next attempt goes to a live one.
ROUTER_DEFAULTS: dict[str, Any] = {"num_retries": 0, "allowed_fails": 0, "cooldown_time": 30, "retry_after": 0}
_ENTRY_KEYS = frozenset({"model_name", "litellm_params", "model_info"})
#: A deployment's own prices (USD per token): names that look like secrets ("..._token"), are not.
_CUSTOM_PRICES = ("input_cost_per_token", "output_cost_per_token")


@dataclass(frozen=True)
class Deployment:
    """One `model_list` entry: the name sorg asks for and litellm's params for one server."""

    model_name: str
    params: Mapping[str, Any]  # env references resolved; never written, never hashed
    model_info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelConfig:
    """A checked `model_config` file: its deployments by name and the router's settings."""

    path: Path
    deployments: tuple[Deployment, ...]
    router_settings: Mapping[str, Any]

    @property
    def names(self) -> frozenset[str]:
        """The model names the file routes."""
        return frozenset(d.model_name for d in self.deployments)

    def model_list(self) -> list[dict[str, Any]]:
        """The deployments in litellm Router's shape (fresh dicts: the Router may change them)."""
        return [{"model_name": d.model_name, "litellm_params": dict(d.params),
                 **({"model_info": dict(d.model_info)} if d.model_info else {})} for d in self.deployments]

    def priced_as(self, name: str) -> str | None:
        """The litellm model every deployment of `name` serves, when they agree (prices it)."""
        models = {str(d.params["model"]) for d in self.deployments if d.model_name == name}
        return models.pop() if len(models) == 1 else None


class _Bad(ValueError):
    pass


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Bad("the file does not exist") from None
    except IsADirectoryError:
        raise _Bad("is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Bad(f"cannot be read ({exc})") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        if suffix not in (".yaml", ".yml"):
            raise _Bad("name a .yaml, .yml, .toml or .json file")
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:  # PyYAML comes with litellm; say what to do if it is missing
            raise _Bad("reading YAML needs PyYAML (pip install pyyaml), or write the file as TOML or JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _Bad(f"is not valid YAML: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _Bad(f"is not valid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise _Bad(f"is not valid JSON: {exc}") from None


def _resolve_env(value: Any, where: str, env: Mapping[str, str]) -> Any:
    """`os.environ/NAME` -> the variable's value (as litellm reads it), checked now."""
    if isinstance(value, str) and value.startswith(ENV_REF):
        name = value[len(ENV_REF):]
        if not name:
            raise _Bad(f"{where}: {value!r} names no environment variable")
        got = env.get(name)
        if got in (None, ""):
            raise _Bad(f"{where}: environment variable {name} is not set")
        return got
    return value


def _params(raw: Any, where: str, env: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _Bad(f"{where}: must be a table of litellm params, got {type(raw).__name__}")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        at = f"{where}.{name}"
        if not isinstance(name, str):
            raise _Bad(f"{where}: param names are strings, got {name!r}")
        if name in GENERATION_PARAMS:
            raise _Bad(f"{at}: a generation setting belongs to the request (it is hashed and recorded); "
                       "here it would change replies without changing their recording's key")
        out[name] = _resolve_env(value, at, env)
    model = out.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _Bad(f"{where}.model: the litellm model string is required (e.g. openai/<served name>)")
    for name in URL_PARAMS & set(out):
        if not isinstance(out[name], str) or not out[name].startswith(("http://", "https://")):
            raise _Bad(f"{where}.{name}: {out[name]!r} is not an http(s) URL")
    for name, value in out.items():
        if name in _CUSTOM_PRICES:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise _Bad(f"{where}.{name}: a price is a number of USD from 0, got {value!r}")
        elif is_secret_param(name) and not isinstance(value, str):
            raise _Bad(f"{where}.{name}: a key is a string, got {type(value).__name__}")
    return out


def parse(data: Any, env: Mapping[str, str] | None = None) -> tuple[tuple[Deployment, ...], dict[str, Any]]:
    """The deployments and router settings of a loaded file; ValueError naming the field."""
    env = os.environ if env is None else env
    if not isinstance(data, Mapping):
        raise _Bad(f"the top level must be a table with model_list, got {type(data).__name__}")
    unknown = sorted(set(data) - {"model_list", "router_settings"})
    if unknown:
        raise _Bad(f"{unknown[0]}: not read by sorg (a proxy's own section?); the file holds model_list "
                   "and, optionally, router_settings")
    entries = data.get("model_list")
    if not isinstance(entries, list) or not entries:
        raise _Bad("model_list: a non-empty list of {model_name, litellm_params} entries is required")
    deployments = []
    for i, entry in enumerate(entries):
        where = f"model_list[{i}]"
        if not isinstance(entry, Mapping):
            raise _Bad(f"{where}: must be a table with model_name and litellm_params")
        extra = sorted(set(entry) - _ENTRY_KEYS)
        if extra:
            raise _Bad(f"{where}.{extra[0]}: unknown key (an entry holds {', '.join(sorted(_ENTRY_KEYS))})")
        name = entry.get("model_name")
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise _Bad(f"{where}.model_name: a non-empty name without surrounding spaces is required, got {name!r}")
        info = entry.get("model_info") or {}
        if not isinstance(info, Mapping):
            raise _Bad(f"{where}.model_info: must be a table")
        deployments.append(Deployment(name, _params(entry.get("litellm_params"), f"{where}.litellm_params", env),
                                      dict(info)))
    settings = data.get("router_settings") or {}
    if not isinstance(settings, Mapping):
        raise _Bad("router_settings: must be a table of litellm.Router settings")
    for key in settings:
        if key not in ROUTER_SETTINGS:
            from sorg.options import did_you_mean

            raise _Bad(f"router_settings.{key}: not a litellm.Router setting"
                       f"{did_you_mean(str(key), sorted(ROUTER_SETTINGS))}")
    return tuple(deployments), dict(settings)


def secrets_of(deployments: tuple[Deployment, ...]) -> list[str]:
    """Every string in the deployments that must never be written: keys and other secret-named
    params, and the credentials inside URLs."""
    found: list[str] = []
    for d in deployments:
        for k, v in d.params.items():
            if is_secret_param(k) and k not in _CUSTOM_PRICES and isinstance(v, str):
                found.append(v)
            elif k in URL_PARAMS and isinstance(v, str):
                found += url_secrets(v)
            elif k in HEADER_PARAMS and isinstance(v, Mapping):
                found += [str(x) for h, x in v.items() if str(h).lower() not in SAFE_HEADERS]
    return found


_LOADED: dict[tuple[str, float], ModelConfig] = {}
_LOCK = threading.Lock()


def load(path: str | os.PathLike[str], *, source: str = "setting model_config") -> ModelConfig:
    """The checked model config at `path` (cached per file and modification time); its secrets
    are registered for redaction. SettingError (naming the file and field) for a bad file."""
    p = Path(path).expanduser().resolve()
    try:
        stamp = p.stat().st_mtime
    except OSError:
        stamp = -1.0
    with _LOCK:
        got = _LOADED.get((str(p), stamp))
    if got is not None:
        return got
    try:
        deployments, settings = parse(_read(p))
    except _Bad as exc:
        raise SettingError(SETTING, str(path), source, f"{p}: {exc}") from None
    add_secrets(secrets_of(deployments))
    cfg = ModelConfig(p, deployments, settings)
    with _LOCK:
        _LOADED[(str(p), stamp)] = cfg
    return cfg


_ROUTERS: dict[int, tuple[ModelConfig, Any]] = {}


def reply_cost(cfg: ModelConfig) -> Callable[[Any], float | None]:
    """How a routed reply is priced: as the deployment that answered, never as the name the
    server reports (litellm prices an unknown self-hosted model that calls itself "gpt-4" as
    GPT-4). A deployment with its own per-token prices: litellm's cost from them; a model
    litellm knows: its price; else None (the client's price table, under the model name)."""
    custom = {str(d.params["model"]) for d in cfg.deployments if any(k in d.params for k in _CUSTOM_PRICES)}

    def cost(resp: Any) -> float | None:
        from sorg.model.backends import load_litellm, response_cost

        hidden = getattr(resp, "_hidden_params", None) or {}
        deployment = str(hidden.get("litellm_model_name") or "") if isinstance(hidden, dict) else ""
        if not deployment:
            return None
        if deployment in custom:
            value = hidden.get("response_cost")
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        got = response_cost(resp, deployment)  # the provider's dated version of it: cached tokens count
        if got is not None:
            return got
        usage = getattr(resp, "usage", None)
        try:
            inp, out = load_litellm().cost_per_token(model=deployment,
                                                     prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                                                     completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0))
        except Exception:  # litellm raises its own "model not mapped" errors
            return None
        # The Router enters each deployment's model in litellm's cost map, at $0 when it has no
        # price: a zero here is "not known" (the client's table, or its warning), not "free".
        return float(inp) + float(out) or None

    return cost


def router(cfg: ModelConfig) -> Any:
    """The process's `litellm.Router` for `cfg` (one per file, so every client and event loop
    shares its cooldowns): sorg's defaults under the file's `router_settings`. SettingError
    naming the file when litellm refuses the settings."""
    with _LOCK:
        got = _ROUTERS.get(id(cfg))
    if got is not None:
        return got[1]
    from sorg.model.backends import load_litellm
    from sorg.model.redact import redact_text

    litellm = load_litellm()
    try:
        built = litellm.Router(model_list=cfg.model_list(), **{**ROUTER_DEFAULTS, **cfg.router_settings})
    except Exception as exc:  # litellm's own validation of a deployment or a setting
        raise SettingError(SETTING, str(cfg.path), "litellm.Router",
                           redact_text(f"{cfg.path}: litellm.Router refused model_list/router_settings: "
                                       f"{type(exc).__name__}: {exc}")) from None
    with _LOCK:
        _ROUTERS[id(cfg)] = (cfg, built)
    return built


def configured(path: str | os.PathLike[str] | None) -> ModelConfig | None:
    """The model config a live call uses: `path` when given, else the `model_config` setting
    (relative to the pytest rootdir, or the current directory outside pytest); None for none."""
    source = "ModelClient(model_config=...)"
    if path is None:
        from sorg import options

        raw = options.setting(SETTING)
        if raw is None:
            return None
        config = options.current_config()
        root = Path(config.rootpath) if config is not None else Path.cwd()
        path = root / os.path.expanduser(raw)
        source = options.raw_and_source(SETTING, config)[1]
    return load(path, source=source)
