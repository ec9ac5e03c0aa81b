"""Locks shared between processes: portable (no fcntl), exclusive, and a wait that ends in an
error naming the file. Cassette writers racing each other are tested in test_cassette.py."""

from __future__ import annotations

import ast
import multiprocessing as mp
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from filelock import FileLock

from sorg.errors import LockTimeout
from sorg.model.budget import Budget
from sorg.model.cache import DiskCache
from sorg.model.locks import lock_path, locked

REPO = Path(__file__).resolve().parents[2]


def test_no_sorg_source_imports_fcntl() -> None:
    """fcntl does not exist on Windows: sorg takes its locks through filelock."""
    found = []
    for path in sorted((REPO / "sorg").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(REPO)}:{node.lineno}" for n in names if n.split(".")[0] == "fcntl"]
    assert not found, found


def test_sorg_imports_and_locks_without_fcntl(tmp_path: Path) -> None:
    """As on Windows: every sorg module imports, and each lock user works, with no fcntl."""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys, warnings
        sys.modules["fcntl"] = None  # `import fcntl` now raises ImportError
        warnings.simplefilter("ignore")  # filelock: "only soft file lock is available"
        from pathlib import Path
        import sorg
        for m in pkgutil.walk_packages(sorg.__path__, "sorg."):
            importlib.import_module(m.name)
        from sorg.model import budget, cache, cassette, local
        root = Path(sys.argv[1])
        def entry(i):
            return {"v": 1, "key": f"{i:064x}", "model": "fake/m", "sample": str(i),
                    "reply": {"text": "t", "prompt_tokens": 1, "completion_tokens": 1}, "cost_usd": 0.0}
        path = root / "fake--m" / "default.jsonl"
        for i in (1, 2, 1):
            cassette.append_entry(path, entry(i))
        assert [e["sample"] for _, e in cassette.read_entries(path)] == ["1", "2", "1"]
        assert cassette.compact(path) == 1
        assert cassette.rewrite_file(path, keep={("fake/m", f"{2:064x}")}) == (2, 1)
        assert cassette.CassetteStore(root, "new").may_record_once("fake/m", root / "once.json")
        b = budget.Budget(1.0, root / "state")
        b.add(0.25)
        assert b.spent() == 0.25
        c = cache.DiskCache(root / "cache")
        c.set("k", entry(3))
        assert c.get("k") == entry(3)
        c.close()
        with local._locked(root / "local"):
            pass
        assert sys.modules["fcntl"] is None
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok"


def test_lock_is_a_sidecar_and_exclusive(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "ledger.json"
    assert lock_path(data) == tmp_path / "ledger.json.lock"
    monkeypatch.setenv("SORG_LOCK_TIMEOUT", "0.05")
    with locked(data):
        assert lock_path(data).exists() and not data.exists()  # the data file is not touched
        with pytest.raises(LockTimeout, match="ledger.json: could not take its lock .*ledger.json.lock within 0.05 s"):
            with locked(data):  # another holder (its own file handle, as another process has)
                pass
    with locked(data, timeout=0):  # released
        pass


def _spend(args: tuple[str, int]) -> None:
    path, n = args
    budget = Budget(1000.0, Path(path).parent)
    budget.path = Path(path)
    for _ in range(n):
        budget.add(0.125)  # a binary fraction: the sum is exact


def test_parallel_budget_updates_lose_no_cost(tmp_path: Path) -> None:
    path = tmp_path / "state" / "budget-run.json"
    workers, per = 4, 40
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(_spend, [(str(path), per)] * workers)
    budget = Budget(1000.0, path.parent)
    budget.path = path
    assert budget.spent() == workers * per * 0.125


def test_budget_lock_timeout_names_the_ledger(tmp_path: Path, monkeypatch) -> None:
    budget = Budget(1.0, tmp_path)
    monkeypatch.setenv("SORG_LOCK_TIMEOUT", "0.05")
    with FileLock(str(lock_path(budget.path))), pytest.raises(LockTimeout, match=budget.path.name):
        budget.check("fake/m")


def test_cache_open_lock_timeout_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    """A cache failure never fails a model call, a lock not taken in time included."""
    monkeypatch.setenv("SORG_LOCK_TIMEOUT", "0.05")
    cache = DiskCache(tmp_path / "cache")
    with FileLock(str(tmp_path / ".cache.open.lock")):
        with pytest.warns(RuntimeWarning, match="could not take its lock"):
            assert cache.get("k") is None
        with pytest.warns(RuntimeWarning, match="not written"):
            cache.set("k", {"reply": {}})
    cache.set("k", {"reply": {}})
    assert cache.get("k") == {"reply": {}}
    cache.close()
