"""Import the study's eval modules (evals/paper.py, sweep.py, test_claims.py) from tests/.

Why by path: evals/ is not a package (pytest puts it on sys.path when it collects it), and the
tests here check the study's files as data, without running a sweep.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "evals"


def load(name: str) -> ModuleType:
    """`paper`, `sweep` or `test_claims` from evals/, imported as evals/ itself imports them."""
    if str(EVALS) not in sys.path:
        sys.path.insert(0, str(EVALS))
    if name == "test_claims":  # never shadow a tests/ module of the same name
        spec = importlib.util.spec_from_file_location("evals_test_claims", EVALS / "test_claims.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    return importlib.import_module(name)
