from __future__ import annotations

import pytest

from sorg.model.backends import register_backend, unregister_backend
from sorg.model.client import ModelClient
from sorg.tasks.task import Element, Rubric, Task
from tests.protocols.fakes import FakeTeamModel


@pytest.fixture
def fake_model():
    model = FakeTeamModel()
    register_backend("fake", model)
    yield model
    unregister_backend("fake")


@pytest.fixture
def client(tmp_path):
    c = ModelClient(cassette_dir=None, cache_dir=None, concurrency=8)
    yield c
    c.close()


@pytest.fixture
def task():
    return Task(id="t-l1-01", domain="event_planning", level=1, title="Offsite",
                prompt="Plan a one-day offsite for 20 people: a venue and a lunch.",
                rubric=Rubric(elements=(Element(id="venue", description="a venue", patterns=(r"venue|item",)),)),
                source="test")


@pytest.fixture(scope="session")
def bank_tasks():
    from sorg.tasks import load_bank

    return load_bank().select(per_level=1)
