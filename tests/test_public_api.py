"""The public surface: `from sorg import ...` gives the researcher's names, cheaply.

`import sorg` must not load litellm, scipy or numpy (replay and reporting start fast and need
no provider SDK); the names load on first use. The `TYPE_CHECKING` imports that type checkers
read must list exactly the lazily loaded names, or an editor and the running code disagree.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import sorg

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("litellm", "scipy", "numpy")


def test_import_sorg_is_cheap_and_loads_no_heavy_dependency() -> None:
    # CPU time, not wall time: a loaded machine must not fail this, and a heavy import costs
    # CPU wherever it runs.
    code = (
        "import sys, time; t = time.process_time(); import sorg; dt = time.process_time() - t; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), dt)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    heavy, seconds = out.stdout.rsplit("]", 1)
    assert heavy.strip() == "[", f"import sorg loaded {heavy}]"
    assert float(seconds) < 0.3, seconds


def test_every_public_name_resolves_to_its_defining_object() -> None:
    assert sorted(sorg.__all__) == sorted(sorg._LAZY)
    assert len(set(sorg.__all__)) == len(sorg.__all__)
    for name in sorg.__all__:
        value = getattr(sorg, name)
        assert value is getattr(importlib.import_module(sorg._LAZY[name]), name), name
        assert name in dir(sorg)


def test_type_checkers_see_the_same_names() -> None:
    tree = ast.parse(Path(sorg.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names:
            seen[alias.asname or alias.name] = node.module
    assert seen == sorg._LAZY


def test_submodules_and_unknown_names() -> None:
    from sorg import claims  # a subpackage, not a lazy name

    assert claims.__name__ == "sorg.claims"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sorg.nope  # noqa: B018


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(sorg.__path__, "sorg.")]


@pytest.mark.parametrize("module", _modules())
def test_module_all_lists_only_public_names_that_exist(module: str) -> None:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    if names is None:
        return
    assert not [n for n in names if n.startswith("_")], f"{module}.__all__ advertises private names"
    assert not [n for n in names if not hasattr(mod, n)], f"{module}.__all__ names what it lacks"
