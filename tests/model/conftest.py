"""Fixtures for the model door's tests: a scripted fake backend and the fake HTTP server."""

from __future__ import annotations

from typing import Any

import pytest

from sorg.model.backends import register_backend, unregister_backend
from tests.fakes.openai_server import FakeOpenAI
from tests.model.helpers import FakeBackend


@pytest.fixture
def fake_backend() -> Any:
    backend = FakeBackend()
    register_backend("fake", backend)
    yield backend
    unregister_backend("fake")


@pytest.fixture
def fake_server() -> Any:
    with FakeOpenAI() as srv:
        yield srv
