"""Fixtures of the fault suite: the plugin tests' project (whole pytest runs) and the model door's fake backend."""

from tests.model.conftest import fake_backend  # noqa: F401  (fixture: a scripted in-process backend)
from tests.pytest_plugin.conftest import project, project_dir  # noqa: F401  (fixtures)
