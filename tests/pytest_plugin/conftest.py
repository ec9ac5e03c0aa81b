"""The plugin's own tests run small eval suites in a subprocess.

pytester would do, but `pytest_plugins = ["pytester"]` is refused in a non-top-level conftest
(pytest 9) and the top-level conftest is not this package's, so `Project` does the little we
need: write files, run `python -m pytest` in a subprocess, and return pytest's own `RunResult`
(`assert_outcomes`, `stdout.fnmatch_lines`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pytest import RunResult

from tests.subproc import HANG_S, pythonpath


class Project:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, name: str, text: str) -> Path:
        p = self.path / name
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return p

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_"))}
        env["PYTHONPATH"] = pythonpath(self.path)
        env["SORG_PLOTS"] = "no"  # matplotlib costs ~1 s a run; the plot test turns it back on
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = HANG_S, cache: bool = False, **env: str) -> RunResult:
        """`python -m pytest *args` here; pytest's cache is off unless `cache` (the --lf tests)."""
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "pytest", *([] if cache else ["-p", "no:cacheprovider"]), *args]
        cp = subprocess.run(cmd, cwd=self.path,
                            env=self.env(**env), capture_output=True, text=True, timeout=timeout)
        return RunResult(cp.returncode, cp.stdout.splitlines(), cp.stderr.splitlines(), time.monotonic() - t0)


@pytest.fixture
def project_dir(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.fixture
def project(project_dir: Project) -> Project:
    """The small eval suite of `tests.pytest_plugin.projects` (fake trials, 26 trial tests, 6 claims)."""
    from tests.pytest_plugin.projects import CLAIMS, CONFTEST, EVALS, FAKE, INI

    project_dir.write("sorg_fake.py", FAKE)
    project_dir.write("conftest.py", CONFTEST)
    project_dir.write("pytest.ini", INI)
    project_dir.write("test_evals.py", EVALS)
    project_dir.write("test_claims.py", CLAIMS)
    return project_dir
