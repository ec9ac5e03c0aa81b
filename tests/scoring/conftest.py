from tests.protocols.conftest import client, fake_model, task  # noqa: F401  (the scripted fake team)
