"""The plugin tests' project fixtures, for the run-fault tests that drive a whole pytest run."""

from tests.plugin.conftest import project, project_dir  # noqa: F401  (fixtures)
