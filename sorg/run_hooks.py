"""Run-level hooks of the results side of the plugin: the cassette-use log and record mode
"rewrite"'s swap at the end of a run.

Why a plugin object of its own (registered by `sorg.plugin` on the controller, one line):
the core plugin is rewritten by others in parallel; this keeps these concerns in one file.
The controller makes a per-run folder and names it in ``SORG_CASSETTE_USE`` before xdist
starts workers (they inherit the environment), so every process's `ModelClient` logs the keys
it uses there and records under the same run name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest

from sorg.model.client import USE_ENV


class RunHooks:
    """Controller-side: set up the per-run folder; at the end, swap in rewritten cassettes
    and gather the used keys into the run directory."""

    def __init__(self, config: pytest.Config, run_dir: Callable[[], Path | None]) -> None:
        self.config = config
        self.run_dir = run_dir
        self.previous = os.environ.get(USE_ENV)
        self.folder = tempfile.mkdtemp(prefix="sorg-run-")
        os.environ[USE_ENV] = self.folder

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from sorg import options
        from sorg.model.cassette import finish_rewrite
        from sorg.model.cassette_care import collect_use

        try:
            o = options.resolve(self.config)
        except ValueError:
            return
        if o.record == "rewrite" and o.cassette_dir and Path(o.cassette_dir).is_dir():
            for p in finish_rewrite(o.cassette_dir, os.path.basename(self.folder)):
                session.config.stash.setdefault(_REWRITTEN, []).append(str(p))
        run_dir = self.run_dir()
        if run_dir is not None:
            collect_use(self.folder, Path(run_dir))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for p in self.config.stash.get(_REWRITTEN, []):
            terminalreporter.write_line(f"sorg: cassette rewritten with this run's calls: {p}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.previous is None:
            os.environ.pop(USE_ENV, None)
        else:
            os.environ[USE_ENV] = self.previous
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


_REWRITTEN = pytest.StashKey[list]()
