"""A simulated world: the declared policy of its agents and judge, and the truths it plants.

Why worlds are data: a world is a claim about what a model *would* do, and a reviewer must be
able to read it in one screen and see which truths it plants (`[truths]`, free text the tests
and docs quote). A world file is TOML; the packaged presets live in `sorg/sim/worlds/` and are
named by file stem (`sim/paper` reads `paper.toml`); a user's world is any TOML file registered
with `sorg.sim.register_world(path)` or found through the `SORG_SIM_WORLDS` path list.

The parameters (all optional; defaults in brackets):

- ``[agents]``: ``capability`` [0.8] the chance an agent writes an item in words the task's own
  checks match; ``error`` [0.05] the chance an agent that sees nothing left to add writes a
  duplicate instead of abstaining; ``abstain`` [0.0] the chance it abstains although something
  is left; ``memory`` [0.0] the chance an agent re-takes the role it took on the previous task
  of a stream (only where the prompt shows it that memory); ``link`` [0.5] the chance it names
  the latest agent it was shown in ``builds_on``; ``defer`` [0.0] likewise for ``defers_to``;
  ``coin`` [false] abstention, roles and links are coin flips that ignore the prompt (the world
  in which emergence is noise); ``blind`` [false] every agent writes every item, each right or
  wrong by one draw per trial and item that all its agents share, ignoring what it was shown and
  any assignment (the world with no protocol or team-size effect on quality); ``reads_at_most``
  [0] the prompt tokens an agent reports reading (0: the whole prompt); ``abstain_reads`` [0]
  the prompt tokens an agent that sits out reports reading (it stops once it has decided; 0: as
  any other turn).
- ``[protocols.<name>]``: ``capability`` multiplies the agents' capability under that protocol.
- ``[models.<name>]``: ``capability`` (replaces ``[agents]``'s), ``roles`` (a list of "open",
  "closed", "weak", "strong" the study's claims read), ``price_input`` / ``price_output`` (USD per
  token), and ``[models.<name>.protocols]`` protocol multipliers for that model alone (the
  capability interaction).
- ``[judge]``: ``kind`` "coverage" (the five dimensions follow the answer's rubric coverage
  plus ``noise``, in points), "constant" (``scores``) or "counting" (1, 2, 3, 4, 1... down the
  schema's key order: it follows the slot, not the dimension).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sorg.errors import SorgError

__all__ = ["World", "SimModel", "WorldError", "load_world", "register_world", "world_names", "PRESETS"]

PRESETS = Path(__file__).with_name("worlds")
_REGISTERED: dict[str, Path] = {}
JUDGE_KINDS = ("coverage", "constant", "counting")
MODEL_ROLES = ("open", "closed", "weak", "strong")


class WorldError(SorgError, ValueError):
    """A world file that cannot be read: names the file and the field."""


@dataclass(frozen=True)
class SimModel:
    """One simulated model of a world."""

    name: str
    capability: float
    roles: tuple[str, ...] = ()
    price_input: float = 0.0
    price_output: float = 0.0
    protocols: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class World:
    """A declared world: agents' policy, judge, models, and the truths it plants."""

    name: str
    description: str = ""
    truths: Mapping[str, str] = field(default_factory=dict)
    capability: float = 0.8
    error: float = 0.05
    abstain: float = 0.0
    memory: float = 0.0
    link: float = 0.5
    defer: float = 0.0
    coin: bool = False
    blind: bool = False
    reads_at_most: int = 0
    abstain_reads: int = 0
    protocols: Mapping[str, float] = field(default_factory=dict)
    models: Mapping[str, SimModel] = field(default_factory=dict)
    judge: str = "coverage"
    judge_noise: float = 0.35
    judge_scores: tuple[int, ...] = (3, 3, 3, 3, 3)
    source: str = ""

    @property
    def default_model(self) -> str:
        """The model `sim/<world>` names: the first declared, or "agent" where none is."""
        return next(iter(self.models), "agent")

    def model(self, name: str) -> SimModel:
        """The declared model `name` (a world with no models has one, "agent")."""
        if not self.models and name == "agent":
            return SimModel("agent", self.capability)
        if name not in self.models:
            raise WorldError(f"{self.source}: world {self.name!r} declares no model {name!r} "
                             f"(models: {', '.join(self.models) or 'agent'})")
        return self.models[name]

    def model_strings(self) -> list[str]:
        """Every model of the world as a model string (`sim/<world>/<model>`)."""
        return [f"sim/{self.name}/{m}" for m in (list(self.models) or ["agent"])]

    def capability_of(self, model: str, protocol: str) -> float:
        """The chance that `model`'s agent writes a correct item under `protocol`."""
        m = self.model(model)
        factor = m.protocols.get(protocol, self.protocols.get(protocol, 1.0))
        return min(1.0, max(0.0, m.capability * factor))


def _num(src: str, where: str, value: Any, lo: float = 0.0, hi: float | None = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WorldError(f"{src}: {where} must be a number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        span = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise WorldError(f"{src}: {where} must be in {span}, got {value!r}")
    return float(value)


def _whole(src: str, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WorldError(f"{src}: {where} must be a whole number >= 0, got {value!r}")
    return value


def _known(src: str, where: str, table: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    bad = sorted(set(table) - set(keys))
    if bad:
        raise WorldError(f"{src}: unknown field(s) {bad} in {where}; allowed: {', '.join(keys)}")


def parse_world(data: Mapping[str, Any], name: str, src: str) -> World:
    """A `World` from parsed TOML, every field checked (errors name the file and the field)."""
    _known(src, "the world", data, ("description", "truths", "agents", "protocols", "models", "judge"))
    ag = data.get("agents", {})
    _known(src, "[agents]", ag, ("capability", "error", "abstain", "memory", "link", "defer", "coin", "blind",
                                 "reads_at_most", "abstain_reads"))
    protocols = {p: _num(src, f"[protocols.{p}] capability", t.get("capability", 1.0), 0.0, None)
                 for p, t in data.get("protocols", {}).items()}
    models: dict[str, SimModel] = {}
    for m, t in data.get("models", {}).items():
        _known(src, f"[models.{m}]", t, ("capability", "roles", "price_input", "price_output", "protocols"))
        roles = tuple(t.get("roles", ()))
        bad = sorted(set(roles) - set(MODEL_ROLES))
        if bad:
            raise WorldError(f"{src}: [models.{m}] roles {bad} unknown; allowed: {', '.join(MODEL_ROLES)}")
        models[m] = SimModel(
            m, _num(src, f"[models.{m}] capability", t.get("capability", ag.get("capability", 0.8))), roles,
            _num(src, f"[models.{m}] price_input", t.get("price_input", 0.0), 0.0, None),
            _num(src, f"[models.{m}] price_output", t.get("price_output", 0.0), 0.0, None),
            {p: _num(src, f"[models.{m}.protocols] {p}", v, 0.0, None) for p, v in t.get("protocols", {}).items()})
    judge = data.get("judge", {})
    _known(src, "[judge]", judge, ("kind", "noise", "scores"))
    kind = judge.get("kind", "coverage")
    if kind not in JUDGE_KINDS:
        raise WorldError(f"{src}: [judge] kind {kind!r} unknown; allowed: {', '.join(JUDGE_KINDS)}")
    scores = tuple(int(_num(src, "[judge] scores", s, 1, 4)) for s in judge.get("scores", (3, 3, 3, 3, 3)))
    if len(scores) != 5:
        raise WorldError(f"{src}: [judge] scores must list five integers 1-4, got {len(scores)}")
    reads = _whole(src, "[agents] reads_at_most", ag.get("reads_at_most", 0))
    abstain_reads = _whole(src, "[agents] abstain_reads", ag.get("abstain_reads", 0))
    return World(
        name=name, description=str(data.get("description", "")),
        truths={str(k): str(v) for k, v in data.get("truths", {}).items()},
        capability=_num(src, "[agents] capability", ag.get("capability", 0.8)),
        error=_num(src, "[agents] error", ag.get("error", 0.05)),
        abstain=_num(src, "[agents] abstain", ag.get("abstain", 0.0)),
        memory=_num(src, "[agents] memory", ag.get("memory", 0.0)),
        link=_num(src, "[agents] link", ag.get("link", 0.5)),
        defer=_num(src, "[agents] defer", ag.get("defer", 0.0)),
        coin=bool(ag.get("coin", False)), blind=bool(ag.get("blind", False)),
        reads_at_most=reads, abstain_reads=abstain_reads,
        protocols=protocols, models=models, judge=kind,
        judge_noise=_num(src, "[judge] noise", judge.get("noise", 0.35), 0.0, None),
        judge_scores=scores, source=src)


def register_world(path: str | os.PathLike[str], name: str | None = None) -> World:
    """Make the world in TOML file `path` available as `sim/<name>` (default: the file stem)."""
    p = Path(path)
    world = _read(p, name or p.stem)
    _REGISTERED[world.name] = p
    load_world.cache_clear()
    return world


def _read(path: Path, name: str) -> World:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorldError(f"{path}: no such world file") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorldError(f"{path}: not valid TOML ({exc})") from exc
    return parse_world(data, name, str(path))


def _search_path() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("SORG_SIM_WORLDS", "").split(os.pathsep) if p]
    return [*extra, PRESETS]


def world_names() -> list[str]:
    """Every world a model string can name: registered, on SORG_SIM_WORLDS, and the presets."""
    names = set(_REGISTERED)
    for d in _search_path():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


@lru_cache(maxsize=64)
def load_world(name: str) -> World:
    """The world `name`: registered first, then SORG_SIM_WORLDS, then the packaged presets."""
    if name in _REGISTERED:
        return _read(_REGISTERED[name], name)
    for d in _search_path():
        p = d / f"{name}.toml"
        if p.is_file():
            return _read(p, name)
    raise WorldError(f"no simulated world {name!r}; known: {', '.join(world_names())} "
                     "(add one with sorg.sim.register_world(path) or SORG_SIM_WORLDS)")
