"""The plugin tests' project fixtures, for the run-fault tests that drive a whole pytest run."""

from tests.pytest_plugin.conftest import project, project_dir  # noqa: F401  (fixtures)
