"""The one claim loader (`sorg.pytest_plugin.loader`): `sorg plan` and the plugin's xdist
controller import eval files through pytest, so both find the same claims under the same
node ids, with the directory's conftest loaded first and sibling modules importable (issue 15).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.pytest_plugin import projects
from tests.subproc import HANG_S

pytestmark = pytest.mark.slow  # pytest runs in a subprocess: left out of the quick selection

# The plugin tests' conftest (fake trials), plus a sibling import and a configure hook: the
# loader must load it first, as pytest would.
CONFTEST = "import helper\n" + projects.CONFTEST + '''
def pytest_configure(config):
    helper.CONFIGURED = True
'''

INI = '''
[pytest]
# mechanics, not measurement: the fake runner's qualities never went through the instrument gate
sorg_gate = off
sorg_models = fake/m
sorg_protocols = sequential
sorg_agents = 4
sorg_levels = 1
sorg_tasks_per_level = 1
sorg_seeds = 1
sorg_cache_dir = none
sorg_cassette_dir = none
'''

SWEEP = '''
def test_protocol(sorg_trial, task, protocol, n_agents, model, seed):
    assert sorg_trial(task, protocol, model, n_agents, seed).status == "ok"
'''

HELPER = '''
CONFIGURED = False
'''

CLAIMS = '''
import helper
from sorg import claims

@claims.claim
def test_first(trials):
    assert helper.CONFIGURED, "the conftest did not run before the claim"
    return claims.skip(f"loaded as {__name__}")

def test_plain():
    pass

@claims.claim
def test_second(trials):
    return claims.skip(f"second, helper from {helper.__name__}")
'''

LIST = '''
import json, sys
from sorg.pytest_plugin.loader import collect_claims

found = collect_claims(sys.argv[1:])
print(json.dumps([[nodeid, fn.__module__, fn(None).skip_reason] for nodeid, fn in found]))
'''


@pytest.fixture
def evals(project_dir):
    """evals/: a conftest, a helper module both import, a one-trial sweep and two claims."""
    from tests.pytest_plugin.projects import FAKE

    (project_dir.path / "evals").mkdir()
    project_dir.write("pytest.ini", INI)
    project_dir.write("sorg_fake.py", FAKE)
    project_dir.write("evals/test_sweep.py", SWEEP)
    project_dir.write("evals/conftest.py", CONFTEST)
    project_dir.write("evals/helper.py", HELPER)
    project_dir.write("evals/test_c.py", CLAIMS)
    project_dir.write("list_claims.py", LIST)
    return project_dir


def _python(project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=project.path, env=project.env(),
                          capture_output=True, text=True, timeout=HANG_S)


def test_sorg_plan_finds_the_claims_pytest_collects_under_the_same_node_ids(evals):
    listed = _python(evals, "list_claims.py", "evals")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout.strip().splitlines()[-1])
    collected = evals.run("evals", "--collect-only", "-q")
    pytest_ids = [ln for ln in collected.outlines if "test_c.py::" in ln and "plain" not in ln]
    assert [nodeid for nodeid, _, _ in found] == pytest_ids == ["evals/test_c.py::test_first",
                                                                "evals/test_c.py::test_second"]
    # imported as pytest imports it (module `test_c`, rootdir-relative `import helper`), after
    # evals/conftest.py was loaded and configured
    assert found[0][1:] == ["test_c", "loaded as test_c"]
    assert found[1][2] == "second, helper from helper"


def test_the_xdist_controller_loads_claims_by_path_with_their_conftest(evals):
    r = evals.run("evals", "-n", "2", "-rs")
    out = r.stdout.str()
    assert "loaded as test_c" in out and "second, helper from helper" in out, out
    r.assert_outcomes(passed=2, skipped=2)  # the trial and test_plain; both claims judged


def test_sorg_plan_names_an_eval_file_that_does_not_import(evals):
    evals.write("evals/test_broken.py", "import no_such_module_here\n")
    plan = _python(evals, "-m", "sorg.cli", "plan", "evals", "--per-trial-usd", "0.01")
    assert plan.returncode == 1
    assert "sorg plan: cannot import evals/test_broken.py" in plan.stderr, plan.stderr
    assert "no_such_module_here" in plan.stderr  # pytest's own import message
    assert "Traceback (most recent call last)" not in plan.stderr  # no traceback of sorg's own
