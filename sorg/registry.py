"""A registry of named parts (protocols, scorers) that a user's own project extends.

Why a registry object rather than a plain dict: a part registers from wherever its author
keeps it (a decorator in a conftest or module, or an entry point in their package's metadata,
group `sorg.protocols` / `sorg.scorers`), and the entry points are loaded once, when the
registry is first read, not when sorg is imported (`import sorg` must not import every
installed package's plugins). Mistakes fail at registration, naming where the part came from:
two different parts under one name, or an object that is not a part.

Registering the same definition again (same module and qualified name: a conftest imported
again by pytester or xdist, a module reloaded) replaces it quietly. Assigning
`REGISTRY[name] = part` replaces on purpose (that is how a test swaps a part); `del` removes.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import threading
import types
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, TypeVar

from sorg.errors import RegistryError

__all__ = ["Registry", "RegistryError", "origin_of"]

T = TypeVar("T")


def origin_of(part: Any) -> str:
    """`module.qualname` of a part's definition: its class, or the function a wrapper part
    was made from (`_sorg_definition`)."""
    target = getattr(part, "_sorg_definition", None)
    if target is None:
        target = part if isinstance(part, type) or inspect.isroutine(part) else type(part)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"


def instance(obj: Any, base: type, where: str, kind: str, what: str,
             wrap: Callable[[Any], Any] | None = None) -> Any:
    """The `base` instance `obj` stands for: itself, its class instantiated, or `wrap(obj)` (a
    function made a part); a RegistryError naming `where` otherwise. Shared by the protocol and
    scorer registries, whose parts are registered the same ways."""
    if isinstance(obj, type):
        if not issubclass(obj, base):
            raise RegistryError(f"{where}: {origin_of(obj)} is not a {kind} ({what})")
        try:
            return obj()
        except Exception as exc:
            raise RegistryError(f"{where}: cannot make {origin_of(obj)}(): {type(exc).__name__}: {exc}") from exc
    if isinstance(obj, base):
        return obj
    if wrap is not None:
        made = wrap(obj)
        if made is not None:
            return made
    raise RegistryError(f"{where}: {obj!r} is not a {kind} ({what})")


def named(inst: Any, name: str, where: str) -> Any:
    """`inst` carrying the name it is registered under (an instance attribute); a RegistryError
    when it already carries another."""
    if inst.name and inst.name != name:
        raise RegistryError(f"{where}: {origin_of(inst)} is named {inst.name!r} but registered as {name!r}")
    if not inst.name:
        inst.name = name
    return inst


class Registry(MutableMapping[str, T]):
    """Name -> part, in registration order; the entry points of `group` join on first read.

    `coerce(obj, name, where)` turns what a user registers (a class, an instance, a function)
    into the part, or raises RegistryError saying what a part must be.
    """

    def __init__(self, kind: str, group: str, coerce: Callable[[Any, str, str], T]) -> None:
        self.kind = kind
        self.group = group
        self._coerce = coerce
        self._items: dict[str, T] = {}
        self._where: dict[str, str] = {}  # name -> where it was registered from (for errors)
        self._origin: dict[str, str] = {}  # name -> module.qualname of its definition
        self._loaded = False
        self._loading = False
        self._lock = threading.RLock()

    # -- registering ---------------------------------------------------------------------

    def register(self, name: str, obj: Any, where: str = "") -> T:
        """Add `obj` as `name`; RegistryError if another definition holds the name."""
        where = where or f"module {getattr(obj, '__module__', '?')}"
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise RegistryError(f"{where}: a {self.kind} needs a non-empty name without spaces around it, "
                                f"not {name!r}")
        part = self._coerce(obj, name, where)
        origin = origin_of(part)
        with self._lock:
            if name in self._items and self._origin[name] != origin:
                raise RegistryError(
                    f"two {self.kind}s named {name!r}: {origin} ({where}) and {self._origin[name]} "
                    f"({self._where[name]}); rename one")
            self._items[name] = part
            self._where[name] = where
            self._origin[name] = origin
        return part

    def where(self, name: str) -> str:
        """Where the part `name` was registered from."""
        self._load()
        return self._where[name]

    # -- entry points --------------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        with self._lock:  # another thread waits here until the entry points are in
            if self._loaded or self._loading:  # _loading: an entry point's module reads the registry
                return
            self._loading = True
            try:
                for ep in _entry_points(self.group):
                    self._load_one(ep)
                self._loaded = True  # not after an error: every later read raises it again
            finally:
                self._loading = False

    def _load_one(self, ep: importlib.metadata.EntryPoint) -> None:
        dist = getattr(getattr(ep, "dist", None), "name", None)
        where = f"entry point {ep.name} = {ep.value!r} (group {self.group}" + (f", package {dist})" if dist else ")")
        try:
            obj = ep.load()
        except Exception as exc:
            raise RegistryError(f"{where} does not load: {type(exc).__name__}: {exc}") from exc
        if isinstance(obj, types.ModuleType):
            return  # importing the module ran its decorators
        self.register(ep.name, obj, where)

    # -- the mapping ---------------------------------------------------------------------

    def __getitem__(self, name: str) -> T:
        self._load()
        return self._items[name]

    def __setitem__(self, name: str, obj: Any) -> None:
        part = self._coerce(obj, name, f"{self.kind} registry assignment [{name!r}]")
        with self._lock:
            self._items[name] = part
            self._where[name] = "assigned"
            self._origin[name] = origin_of(part)

    def __delitem__(self, name: str) -> None:
        with self._lock:
            del self._items[name]
            self._where.pop(name, None)
            self._origin.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(list(self._items))

    def __len__(self) -> int:
        self._load()
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __repr__(self) -> str:
        return f"Registry({self.kind}s: {', '.join(self._items)}{'' if self._loaded else ' + entry points unread'})"


_EP_ALL: list[Any] = []


def _entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    """The installed entry points of `group`, in a stable order (by name, then value); one
    scan of the installed distributions serves every group."""
    if not _EP_ALL:
        _EP_ALL.append(importlib.metadata.entry_points())
    seen: set[tuple[str, str]] = set()
    out = []
    for ep in _EP_ALL[0].select(group=group):
        if (ep.name, ep.value) not in seen:
            seen.add((ep.name, ep.value))
            out.append(ep)
    return sorted(out, key=lambda e: (e.name, e.value))


def rescan() -> None:
    """Forget the scanned entry points (a test that installs a package mid-process)."""
    _EP_ALL.clear()
