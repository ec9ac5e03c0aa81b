"""Tokens to dollars: pyproject's `[tool.sorg.prices]` first, then litellm's cost map.

Why overrides: litellm's map knows the big providers but not the embedded model or a
self-hosted one, and a cost claim needs a number for every model. A table such as

    [tool.sorg.prices]
    "local/smollm2-135m" = { input = 1.0e-8, output = 2.0e-8 }   # USD per token

adds or overrides per-model prices. litellm's map is consulted only for live litellm calls
(it is already imported then, reading its bundled map offline); a replayed call's cost comes
from its cassette entry, so replay needs neither.

Which pyproject: under pytest, the run's own (its ini file when that is a pyproject.toml,
else the rootdir's), as for every other setting of the run; outside pytest, the nearest one
from the current directory up. Under pytest the current directory is wherever pytest was
started from, which may be a subproject with a pyproject.toml of its own.
"""

from __future__ import annotations

import os
import sys
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sorg.errors import SettingError

__all__ = ["Prices", "find_pyproject", "project_pyproject", "load_price_table", "BUILTIN_PRICES"]

# Used when no pyproject names the model: the embedded model runs on the user's own CPU and
# is priced at a nominal self-hosting cost (USD per input / output token) so that cost claims
# have a number wherever sorg is run from. pyproject and ModelClient(prices=...) override it.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {"local/smollm2-135m": (1.0e-8, 2.0e-8)}


def find_pyproject(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest pyproject.toml from `start` (default: cwd) upward, or None."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def project_pyproject() -> Path | None:
    """The pyproject.toml whose `[tool.sorg.prices]` apply now: the pytest run's (its ini file if
    that is a pyproject.toml, else ``<rootdir>/pyproject.toml`` if there is one, else None), or
    outside pytest the nearest one from the current directory (`find_pyproject`)."""
    from sorg import options

    config = options.current_config()
    if config is None:
        return find_pyproject()
    inipath = getattr(config, "inipath", None)
    if inipath is not None and Path(inipath).name == "pyproject.toml":
        return Path(inipath)
    candidate = Path(config.rootpath) / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _parse_price(model: str, value: Any, where: str) -> tuple[float, float]:
    """(input, output) USD per token; a bad entry is a bad setting (SettingError, a ValueError)."""
    def bad(why: str) -> SettingError:
        return SettingError(f"price of {model!r}", value, where, why)

    if not isinstance(value, Mapping) or not {"input", "output"} <= set(value):
        raise bad("must be a table { input = <USD/token>, output = <USD/token> }")
    try:
        inp, out = float(value["input"]), float(value["output"])
    except (TypeError, ValueError):
        raise bad("input/output must be numbers") from None
    if inp < 0 or out < 0:
        raise bad("must not be negative")
    return inp, out


def load_price_table(pyproject: Path | None) -> dict[str, tuple[float, float]]:
    """model -> (USD per input token, USD per output token) from `[tool.sorg.prices]`."""
    if pyproject is None:
        return {}
    with pyproject.open("rb") as fh:
        data = tomllib.load(fh)
    table = data.get("tool", {}).get("sorg", {}).get("prices", {})
    where = f"{pyproject} [tool.sorg.prices]"
    return {str(m): _parse_price(m, v, where) for m, v in table.items()}


class Prices:
    """Prices for one client: explicit `overrides` > pyproject table > litellm's cost map.
    `pyproject`: True for `project_pyproject()`, a path, or None/False for none."""

    def __init__(self, overrides: Mapping[str, Any] | None = None, pyproject: Path | None | bool = True) -> None:
        table = dict(BUILTIN_PRICES)
        table.update(load_price_table(project_pyproject() if pyproject is True else (pyproject or None)))
        for model, value in (overrides or {}).items():
            table[model] = _parse_price(model, value, "ModelClient(prices=...)")
        self.table = table
        self._warned: set[str] = set()

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int, litellm_model: str | None = None,
             warn: bool = True) -> float:
        """USD for one call; 0.0 with a warning (once per model, if `warn`) when no price is known."""
        price = self.table.get(model)
        if price is not None:
            return prompt_tokens * price[0] + completion_tokens * price[1]
        litellm = sys.modules.get("litellm")
        if litellm is not None:
            # The model asked for is priced first; the name the provider reports only when it is
            # that model's dated version (gpt-4o -> gpt-4o-2024-08-06). A self-hosted model that
            # reports itself as "gpt-4" must not be charged (or budgeted) as GPT-4.
            for name in [model] + ([litellm_model] if litellm_model and same_model(model, litellm_model) else []):
                try:
                    inp, out = litellm.cost_per_token(model=name, prompt_tokens=prompt_tokens,
                                                      completion_tokens=completion_tokens)
                    return float(inp) + float(out)
                except Exception:  # litellm raises its own "model not mapped" errors
                    continue
        if warn and model not in self._warned:
            self._warned.add(model)
            warnings.warn(f"no price known for {model!r}: its calls count as $0. Add it to "
                          "[tool.sorg.prices] in pyproject.toml or pass ModelClient(prices=...)",
                          RuntimeWarning, stacklevel=3)
        return 0.0


def same_model(asked: str, reported: str) -> bool:
    """Whether the provider's model name is the asked model or a version of it."""
    base = asked.split("/", 1)[-1].lower()
    rep = reported.split("/", 1)[-1].lower()
    return rep == base or rep.startswith(base + "-")

