"""Run-level hooks of the results side of the plugin: the cassette-use log, record mode
"rewrite"'s swap at the end of a run, and live progress (`sorg.progress`).

Why a plugin object of its own (registered by `sorg.plugin` on the controller, one line):
the core plugin is rewritten by others in parallel; this keeps these concerns in one file.
The controller makes a per-run folder and names it in ``SORG_RUN_SHARE`` before xdist
starts workers (they inherit the environment), so every process's `ModelClient` logs the keys
it uses there, records under the same run name and feeds `sorg.progress`'s meter there.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sorg import progress
from sorg.progress import SHARE_ENV as USE_ENV


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

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for p in self.config.stash.get(_REWRITTEN, []):
            terminalreporter.write_line(f"sorg: cassette rewritten with this run's calls: {p}")
        run_dir = self.run_dir()
        if run_dir is not None and (Path(run_dir) / "report.html").exists():
            terminalreporter.write_line(f"report page: {Path(run_dir) / 'report.html'} (opens from disk)")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.previous is None:
            os.environ.pop(USE_ENV, None)
        else:
            os.environ[USE_ENV] = self.previous
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


_REWRITTEN = pytest.StashKey[list]()


class ProgressReporter:
    """Controller-side plugin: counts finished tests, prints the summed meters (`sorg.progress`)
    now and then: after a test's report, or from a timer thread during a long test."""

    def __init__(self, config: Any, folder: str, budget_usd: float | None, interval_s: float | None = None) -> None:
        self.config = config
        self.folder = folder
        self.budget_usd = budget_usd
        if interval_s is None:  # the progress_interval setting (--sorg-progress-interval, SORG_PROGRESS_INTERVAL)
            from sorg import options

            interval_s = float(options.setting("progress_interval"))
        self.interval_s = interval_s
        self.done = 0
        self.total = 0
        self.last = 0.0
        self.sig: Any = None
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.lines: list[str] = []
        self.thread: threading.Thread | None = None

    def pytest_collection_finish(self, session: Any) -> None:
        if session is not None:
            self.total = max(self.total, len(session.items))
        if self.thread is None and self.interval_s > 0:
            self.thread = threading.Thread(target=self._tick, name="sorg-progress", daemon=True)
            self.thread.start()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Under xdist the controller collects nothing itself: take a worker's count."""
        self.total = max(self.total, len(ids))
        self.pytest_collection_finish(None)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.done += 1
        self.maybe_print()

    def _tick(self) -> None:
        while not self.stop.wait(max(self.interval_s, 0.5)):
            self.maybe_print()

    def maybe_print(self, force: bool = False) -> str:
        """Print a line when one is due and a live call has happened: something changed
        (tests, calls, tokens) since the last line, at most every interval; or calls are in
        flight and nothing was said for six intervals (a long test). `force` (the end of
        the session) prints a final line unless it would repeat the last one."""
        with self.lock:
            now = time.time()
            per_model = progress.totals(self.folder)
            sig = (self.done, tuple((m, v["done"], v["failed"], v["in_flight"], v["tokens"])
                                    for m, v in sorted(per_model.items())))
            changed = sig != self.sig
            busy = any(v["in_flight"] for v in per_model.values())
            due = now - self.last >= self.interval_s
            if not (changed and (due or force)) and not (busy and now - self.last >= 6 * self.interval_s):
                return ""
            line = progress.render(per_model, now, self.done, self.total, self.budget_usd)
            if not line:
                return ""
            self.last, self.sig = now, sig
            self.lines.append(line)
            tr = self.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                if getattr(tr._tw, "width_of_current_line", 0):
                    tr.write("\n")  # after a row of progress dots
                tr.write_line(line)
            return line

    def pytest_sessionfinish(self) -> None:
        self.stop.set()
        self.maybe_print(force=True)

