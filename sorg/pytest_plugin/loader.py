"""The one claim loader: eval files imported by pytest itself, for the plugin and `sorg plan`.

Why pytest imports them, through its public `pytest.Module` node: an eval file is a pytest
test module, written to be imported the way pytest imports it (rootdir, `--import-mode`,
the directory's conftest.py loaded first, so `evals/test_claims.py` can `import sweep` from
`evals/`). A loader of our own (importlib and `sys.path` edits) imported it under another
module name, without the conftest and without assertion rewriting, so `sorg plan` and the
plugin could see different claims. Two callers share this module:

- the plugin's xdist controller, which collected nothing and loads each claim by path
  (`load_claim`);
- `sorg plan`, which runs no tests: `collect_claims` starts pytest on the given paths with
  its collection replaced by `module_claims` on each eval file (no sweep is parametrized,
  no fixture or model is touched) and returns the claims by their pytest node ids.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sorg.errors import SorgError


class ClaimLoadError(SorgError):
    """An eval file could not be imported (or pytest could not start on the given paths)."""


def import_module(session: pytest.Session, path: Path) -> ModuleType:
    """The test module at `path`, imported by pytest's rules for this session (or the one
    already imported when this session collected it)."""
    return module_node(session, path).obj


def module_node(session: pytest.Session, path: Path) -> pytest.Module:
    """pytest's node for the test module at `path` (its node id is the one pytest gives)."""
    return pytest.Module.from_parent(session, path=Path(path).absolute())


def resolve(module: ModuleType, qualname: str) -> Any:
    """The object `qualname` names in `module`; a class on the way is instantiated, as pytest
    does for a test method (`TestX.test_y` is called on a fresh `TestX()`)."""
    obj: Any = module
    parts = qualname.split(".")
    for i, name in enumerate(parts):
        obj = getattr(obj, name)
        if i < len(parts) - 1 and isinstance(obj, type):
            obj = obj()
    return obj


def load_claim(session: pytest.Session, path: str | Path, qualname: str) -> Callable[..., Any]:
    """The claim function `qualname` of the eval file at `path`."""
    return resolve(import_module(session, Path(path)), qualname)


def module_claims(session: pytest.Session, path: Path) -> list[tuple[str, Callable[..., Any]]]:
    """(node id, function) of every module-level `@claims.claim` function of one eval file."""
    node = module_node(session, path)
    return [(f"{node.nodeid}::{name}", obj) for name, obj in vars(node.obj).items()
            if callable(obj) and getattr(obj, "__sorg_claim__", False)]


def claim_files(paths: Sequence[str | Path]) -> list[Path]:
    """The eval files `paths` name: a file as given, a directory's `test_*.py` files (sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.rglob("test_*.py")) if p.is_dir() else [p]
    return files


class _Collector:
    """A pytest plugin that replaces collection by `module_claims` on each eval file."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.found: list[tuple[str, Callable[..., Any]]] = []
        self.errors: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        for f in self.files:
            try:
                self.found += module_claims(session, f)
            except Exception as exc:  # an eval file that does not import: said, with pytest's message
                self.errors.append(f"cannot import {f}: {exc}")
        return True  # pytest's own collection (and the sweep's parametrization) does not run


def collect_claims(paths: Sequence[str | Path],
                   pytest_args: Sequence[str] = ()) -> list[tuple[str, Callable[..., Any]]]:
    """(node id, function) of every claim in the eval files `paths` name, imported by a pytest
    session started on those paths (`--collect-only`: nothing runs). pytest's own output is
    kept back and shown only when it fails; an eval file that does not import raises
    ClaimLoadError naming it."""
    files = claim_files(paths)
    if not files:
        return []
    collector = _Collector(files)
    out = io.StringIO()
    args = [*map(str, paths), "--collect-only", "-q", "-p", "no:cacheprovider", *pytest_args]
    with contextlib.redirect_stdout(out):
        code = pytest.main(args, plugins=[collector])
    if collector.errors:
        raise ClaimLoadError("\n".join(collector.errors))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise ClaimLoadError(f"pytest could not start on {' '.join(map(str, paths))} "
                             f"(exit {int(code)}):\n{out.getvalue().strip()[-2000:]}")
    return collector.found
