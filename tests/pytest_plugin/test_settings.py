"""Settings come from the options table, whatever reads them, and a bad one reads the same
whatever its source (issue 15): the model door's settings are read when used, the budget
ledger's run id and the price table follow the pytest run, one SettingError for a bad value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sorg import options
from sorg.errors import SettingError
from sorg.model import budget, local, locks
from sorg.model.client import LOCAL_PREFIX, ModelClient
from sorg.model.pricing import Prices
from sorg.model.types import Request

from .conftest import Project

#: One bad value of one setting, as each source writes it, and how that source is named.
BAD_AGENTS = {
    "flag": (("--sorg-agents=0",), {}, "", r"--sorg-agents"),
    "env": ((), {"SORG_AGENTS": "0"}, "", r"environment variable SORG_AGENTS"),
    "ini": ((), {}, "sorg_agents = 0\n", r"ini key sorg_agents"),
    "marker": ((), {}, "", r"@pytest\.mark\.sorg\(agents=\.\.\.\) on test_bad\.py::test_trial"),
}


@pytest.mark.parametrize("source", list(BAD_AGENTS))
def test_a_bad_value_reads_the_same_from_every_source(project_dir: Project, source: str) -> None:
    args, env, ini, where = BAD_AGENTS[source]
    project_dir.write("pytest.ini", "[pytest]\nsorg_models = fake/m\nsorg_cache_dir = none\n" + ini)
    mark = "@pytest.mark.sorg(agents=[0])\n" if source == "marker" else ""
    project_dir.write("test_bad.py", f"import pytest\n\n{mark}def test_trial(n_agents):\n    pass\n")
    r = project_dir.run(*args, **env)
    out = "\n".join(r.outlines + r.errlines)
    # pytest's short summary repeats a collection error's first line ("ERROR test_bad.py - ..."),
    # cut to the terminal's width except under CI: not a second report of ours, so not counted.
    ours = "\n".join(ln for ln in r.outlines + r.errlines if not ln.startswith("ERROR test_bad.py - "))
    shape = rf"sorg: bad value '0' for setting agents \(from {where}\): 0 is not a positive integer"
    assert len(re.findall(shape, ours)) == 1, out  # said once, in full, not once per test or per phase
    assert "Traceback" not in out and "During handling" not in out and r.ret != 0, out


def test_a_bad_setting_read_when_used_stops_the_run_in_one_line(project_dir: Project) -> None:
    """The embedded model's settings are in the table: a bad one is caught at start-up too."""
    project_dir.write("pytest.ini", "[pytest]\nsorg_models = fake/m\n")
    project_dir.write("test_x.py", "def test_x():\n    pass\n")
    r = project_dir.run(SORG_LOCAL_CTX="big")
    out = "\n".join(r.outlines + r.errlines)
    assert r.ret == pytest.ExitCode.USAGE_ERROR, out
    assert ("sorg: bad value 'big' for setting local_ctx (from environment variable SORG_LOCAL_CTX)" in out
            and "Traceback" not in out), out


def test_the_cli_shows_a_bad_setting_with_status_2(monkeypatch, capsys) -> None:
    from sorg import cli

    monkeypatch.setenv("SORG_LOCAL_SERVERS", "many")
    with options.settings_from(None):
        assert cli.main(["local", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sorg: bad value 'many' for setting local_servers "
                          "(from environment variable SORG_LOCAL_SERVERS): "), err


def test_model_door_settings_are_read_when_used(monkeypatch, tmp_path: Path) -> None:
    """Set after import, as a test or a script does: honoured; bad: the table's error."""
    with options.settings_from(None):
        for name in ("SORG_LOCAL_START_TIMEOUT", "SORG_LOCAL_CALL_TIMEOUT", "SORG_LOCAL_CTX",
                     "SORG_LOCAL_MAX_RESTARTS", "SORG_LOCK_TIMEOUT"):
            monkeypatch.delenv(name, raising=False)
        assert (local.start_timeout_s(), local.call_timeout_s(), local.n_ctx(), local.max_restarts(),
                locks.lock_timeout_s()) == (120.0, 900.0, 8192, 1, 600.0)
        door = ModelClient(cassette_dir=None, cache_dir=None, state_dir=tmp_path, timeout_s=5).live
        embedded_req = Request(model=LOCAL_PREFIX + "smollm2-135m", messages=())
        assert door.timeout(embedded_req) == 900.0  # what the model door waits, read now
        monkeypatch.setenv("SORG_LOCAL_START_TIMEOUT", "5")
        monkeypatch.setenv("SORG_LOCAL_CALL_TIMEOUT", "60")
        monkeypatch.setenv("SORG_LOCAL_CTX", "4096")
        monkeypatch.setenv("SORG_LOCAL_MAX_RESTARTS", "0")
        monkeypatch.setenv("SORG_LOCK_TIMEOUT", "-1")
        assert (local.start_timeout_s(), local.call_timeout_s(), local.n_ctx(), local.max_restarts(),
                locks.lock_timeout_s()) == (5.0, 60.0, 4096, 0, -1.0)
        assert door.timeout(embedded_req) == 60.0
        monkeypatch.setenv("SORG_LOCK_TIMEOUT", "soon")
        with pytest.raises(SettingError, match=r"bad value 'soon' for setting lock_timeout "
                                               r"\(from environment variable SORG_LOCK_TIMEOUT\)"):
            with locks.locked(tmp_path / "data.json"):
                pass


def test_the_embedded_server_command_line_is_unchanged_by_default(monkeypatch, tmp_path: Path) -> None:
    """The server is started exactly as before the settings moved into the table."""
    import subprocess
    import sys

    seen: list[list[str]] = []

    class Started(Exception):
        pass

    def fake_popen(cmd: list[str], **kw: object) -> None:
        seen.append(cmd)
        raise Started

    for name in ("SORG_LOCAL_CTX", "SORG_LOCAL_THREADS", "SORG_LOCAL_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local, "_free_port", lambda: 4321)
    monkeypatch.setattr(local.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(subprocess, "Popen", fake_popen)
    with options.settings_from(None), pytest.raises(Started):
        local._start(tmp_path, Path("/m/model.gguf"))
    assert seen == [[sys.executable, "-m", "llama_cpp.server", "--model", "/m/model.gguf", "--host", "127.0.0.1",
                     "--port", "4321", "--n_ctx", "8192", "--n_threads", "2"]]


class _Cfg:
    def __init__(self, cli: dict[str, str], ini: dict[str, str], root: Path) -> None:
        self.cli, self.ini, self.rootpath, self.inipath = cli, ini, root, None

    def getoption(self, name: str, default: object = None) -> object:
        return self.cli.get(name, default)

    def getini(self, name: str) -> object:
        return self.ini.get(name)


def test_budget_ledger_is_named_by_the_run_id_setting(monkeypatch, tmp_path: Path) -> None:
    """The plugin's run id (flag > env > ini) names the ledger; xdist's uid is the fallback."""
    monkeypatch.delenv("SORG_RUN_ID", raising=False)
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "xdist-uid")
    with options.settings_from(_Cfg({"sorg_run_id": "from-flag"}, {"sorg_run_id": "from-ini"}, tmp_path)):
        assert budget.Budget(1.0, tmp_path).path.name == "budget-from-flag.json"
    with options.settings_from(_Cfg({}, {"sorg_run_id": "from-ini"}, tmp_path)):
        assert budget.Budget(1.0, tmp_path).path.name == "budget-from-ini.json"
        monkeypatch.setenv("SORG_RUN_ID", "from-env")
        assert budget.Budget(1.0, tmp_path).path.name == "budget-from-env.json"
        monkeypatch.delenv("SORG_RUN_ID")
    with options.settings_from(None):
        assert budget.Budget(1.0, tmp_path).path.name == "budget-xdist-uid.json"
        assert budget.Budget(1.0, tmp_path, run="given").path.name == "budget-given.json"


PRICED_ROOT = """
[tool.pytest.ini_options]
sorg_models = "fake/m"

[tool.sorg.prices]
"x/priced" = { input = 1.0e-6, output = 2.0e-6 }
"""

PRICE_TEST = """
from sorg.model.client import ModelClient

def test_prices_are_the_rootdirs():
    table = ModelClient(cassette_dir=None, cache_dir=None).prices().table
    assert table.get("x/priced") == (1.0e-6, 2.0e-6), table
"""


def test_prices_come_from_the_runs_rootdir_not_the_cwd(project_dir: Project) -> None:
    """Run from a subdirectory with a pyproject.toml of its own (no prices, no pytest table,
    so pytest's rootdir stays the project's): the rootdir's `[tool.sorg.prices]` apply."""
    project_dir.write("pyproject.toml", PRICED_ROOT)
    sub = project_dir.path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "sub"\n')
    (sub / "test_prices.py").write_text(PRICE_TEST)
    sub_project = Project(sub)
    r = sub_project.run("test_prices.py")
    out = "\n".join(r.outlines + r.errlines)
    assert f"rootdir: {project_dir.path}" in out, out  # pytest's rootdir is the project, the cwd is sub/
    r.assert_outcomes(passed=1)


def test_prices_outside_pytest_are_the_nearest_pyprojects(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.sorg.prices]\n"x/near" = { input = 1, output = 2 }\n')
    monkeypatch.chdir(tmp_path)
    with options.settings_from(None):
        assert Prices().table["x/near"] == (1.0, 2.0)
    with options.settings_from(_Cfg({}, {}, tmp_path / "elsewhere")):
        assert "x/near" not in Prices().table  # a pytest run elsewhere: its rootdir has no pyproject


def test_protocols_all_is_the_registry_not_a_list_in_the_core() -> None:
    from sorg.protocols import PROTOCOLS
    from sorg.pytest_plugin import params

    assert not hasattr(options, "ALL_PROTOCOLS")
    assert params.registered_protocols() == list(PROTOCOLS)
    assert options.resolve(_Cfg({"sorg_protocols": "all"}, {}, Path("/r")), env={}).protocols == ["all"]


def test_mark_values_are_checked_by_the_tables_parsers() -> None:
    """What the sweep accepted from a mark still passes (any iterable, seed lists); a value the
    flag would refuse is refused with the flag's reason."""
    options.check_mark({"seeds": range(3), "agents": (4, 8), "levels": [1, 2, 3, 4], "tasks_per_level": 1,
                        "stream_length": 2, "protocols": "all", "models": ["fake/m"], "domains": None}, "t.py::x")
    options.check_mark({"seeds": [0, 2]}, "t.py::x")
    for bad, why in (({"levels": [1, 5]}, "5 is not a task complexity level"),
                     ({"seeds": [-1]}, "seeds is a count"), ({"agents": [True]}, "a bool")):
        with pytest.raises(SettingError, match=rf"\(from @pytest\.mark\.sorg\(\w+=\.\.\.\) on t\.py::x\): {why}"):
            options.check_mark(bad, "t.py::x")
