"""The plugin's own tests run small eval suites in a subprocess (pytester).

`pytest_plugins = ["pytester"]` is refused in a non-top-level conftest (pytest 9), and the
top-level one is not ours, so the `pytester` fixture is built here from pytest's own class.
"""

from __future__ import annotations

import pytest
from _pytest.pytester import Pytester


@pytest.fixture
def pytester(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             monkeypatch: pytest.MonkeyPatch) -> Pytester:
    return Pytester(request, tmp_path_factory, monkeypatch, _ispytest=True)
