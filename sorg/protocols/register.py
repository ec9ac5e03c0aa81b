"""How a protocol joins `sorg.protocols.PROTOCOLS`: the packaged ones at import, a user's own
with `@protocol` (in a conftest or any module their tests import) or an entry point.

    from sorg.protocols import Protocol, Team, protocol

    @protocol("pairs")                      # a class ...
    class Pairs(Protocol):
        async def run(self, team: Team) -> str: ...

    @protocol                               # ... or an async function; its name is the protocol's
    async def solo_draft(team: Team) -> str: ...

An installed package registers with an entry point in its metadata, loaded when the registry
is first read (`[project.entry-points."sorg.protocols"] pairs = "mypkg.protocols:Pairs"`; an
entry point naming a module just imports it, for its decorators).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from sorg.errors import RegistryError
from sorg.protocols.base import Protocol, Team
from sorg.registry import Registry, instance, named, origin_of

__all__ = ["FunctionProtocol", "PROTOCOLS", "protocol"]

F = TypeVar("F")

_WHAT = ("a protocol is a subclass (or instance) of sorg.protocols.Protocol with "
         "`async def run(self, team) -> str`, or an `async def (team) -> str`")


class FunctionProtocol(Protocol):
    """A protocol written as one async function of the team."""

    def __init__(self, fn: Callable[[Team], Any], name: str) -> None:
        self.fn = fn
        self.name = name
        self._sorg_definition = fn
        self.__doc__ = fn.__doc__

    async def run(self, team: Team) -> str:
        return await self.fn(team)


def _as_protocol(obj: Any, name: str, where: str) -> Protocol:
    """The protocol instance `obj` stands for, or a RegistryError naming `where`."""
    inst = instance(obj, Protocol, where, "protocol", _WHAT,
                    wrap=lambda f: FunctionProtocol(f, name) if inspect.iscoroutinefunction(f) else None)
    if type(inst).run is Protocol.run or not inspect.iscoroutinefunction(inst.run):
        raise RegistryError(f"{where}: protocol {name!r} ({origin_of(inst)}) needs `async def run(self, team) -> str`")
    return named(inst, name, where)


#: Every registered protocol by name, in registration order (the packaged ones first).
PROTOCOLS: Registry[Protocol] = Registry("protocol", "sorg.protocols", _as_protocol)


def _where(obj: Any) -> str:
    module = getattr(obj, "__module__", "?")
    file = getattr(sys.modules.get(module), "__file__", None)
    return f"@protocol in {file or module}"


def protocol(name: Any = None, *, study: bool = True) -> Any:
    """Register a protocol class or async function under `name` (default: the class's `name`,
    or the function's name). `study=False` marks an extra, left out of `study_protocols()`.
    Returns what it decorates, unchanged. RegistryError for a name another definition holds
    or an object that is not a protocol."""
    if name is not None and not isinstance(name, str):  # bare @protocol
        return protocol(study=study)(name)

    def decorate(obj: F) -> F:
        chosen = name or getattr(obj, "name", "") or ("" if isinstance(obj, type) else getattr(obj, "__name__", ""))
        if not chosen:
            raise RegistryError(f"{_where(obj)}: {origin_of(obj)} needs a name: "
                                "@protocol(\"name\") or a `name` attribute")
        part = PROTOCOLS.register(chosen, obj, _where(obj))
        if not study:
            part.study = False
        return obj

    return decorate
