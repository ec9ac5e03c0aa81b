"""Set-up shared by tests/ and evals/: the `local` marker (embedded model) and importable fakes.

At the repository root so that `pytest tests/`, `pytest evals/` and a bare `pytest` agree on it
(the sorg plugin itself loads through its `pytest11` entry point, not from here).

Tests marked `local` run the embedded SmolLM2 model through llama-cpp-python's server; they
are skipped where the `local` extra (llama-cpp-python) is not installed, or when
SORG_SKIP_LOCAL=1 (a machine whose llama.cpp build is known to be broken).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

# `from tests.fakes.openai_server import FakeOpenAI` works under plain `pytest` too.
_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


def _local_skip_reason() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "embedded model not installed: pip install 'sorg[local]'"
    if os.environ.get("SORG_SKIP_LOCAL") == "1":
        return "SORG_SKIP_LOCAL=1"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "local: needs the embedded model (llama-cpp-python server + SmolLM2)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _local_skip_reason()
    if reason is None:
        return
    for item in items:
        if "local" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
