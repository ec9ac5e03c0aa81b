"""A user's own parts under the plugin (fake trials, a subprocess per run): `--sorg-bank` from
the flag, the ini key and the environment feeds both the sweep and `sorg_bank`; a bad task
file stops the run in one line naming file, task and field; a protocol from conftest.py
joins `--sorg-protocols=all`; a clash of names stops the run naming both definitions."""

from __future__ import annotations

import json

from tests.pytest_plugin import user_project
from tests.pytest_plugin.projects import CONFTEST as FAKE_CONFTEST
from tests.pytest_plugin.projects import FAKE

CONFTEST = FAKE_CONFTEST + user_project.PROTOCOL

INI = '''
[pytest]
# mechanics, not measurement: the fake runner's qualities never went through the instrument gate
sorg_gate = off
sorg_models = fake/m
sorg_protocols = pairs,sequential
sorg_agents = 2
sorg_seeds = 1
sorg_cache_dir = none
sorg_cassette_dir = none
{extra}
'''


def _project(p, extra: str = "sorg_bank = bank"):
    p.write("sorg_fake.py", FAKE)
    p.write("conftest.py", CONFTEST)
    p.write("pytest.ini", INI.format(extra=extra))
    p.write("test_evals.py", user_project.EVALS)
    (p.path / "bank").mkdir(exist_ok=True)
    p.write("bank/garden.json", user_project.BANK)
    return p


def test_the_ini_bank_feeds_the_sweep_and_the_fixture_and_a_conftest_protocol_runs(project_dir):
    p = _project(project_dir)
    r = p.run("-rA", "--sorg-run-id=a")
    assert r.ret == 0, r.stdout.str()
    r.assert_outcomes(passed=6)  # 2 tasks x 2 protocols, and the fixture test per task
    r.stdout.fnmatch_lines(["*test_trial[[]gdn-l1-01-pairs-n2-s0-m[]]*", "*test_the_bank_is_ours[[]gdn-l2-01[]]*"])


def test_the_flag_and_the_environment_name_the_bank_too(project_dir):
    p = _project(project_dir, extra="")
    (p.path / "elsewhere").mkdir()
    p.write("elsewhere/garden.json", user_project.BANK)
    for args, env in ((["--sorg-bank=elsewhere"], {}), ([], {"SORG_BANK": "elsewhere"})):
        r = p.run("--collect-only", "-q", *args, **env)
        assert r.ret == 0, r.stdout.str()
        assert "test_evals.py::test_trial[gdn-l2-01-sequential-n2-s0-m]" in r.stdout.str()
        assert "res-l1" not in r.stdout.str()  # nothing of the packaged bank
    r = p.run("--collect-only", "-q")  # no bank set: the packaged one
    assert "gdn-" not in r.stdout.str() and "test_trial[" in r.stdout.str()


def test_a_bad_task_file_stops_the_run_naming_file_task_and_field(project_dir):
    p = _project(project_dir)
    bank = json.loads(user_project.BANK)
    bank["tasks"][1]["rubric"]["elements"][0]["patterns"] = ["year ("]
    p.write("bank/garden.json", json.dumps(bank))
    r = p.run()
    out = r.stdout.str() + r.stderr.str()
    assert r.ret == 4 and "Traceback" not in out, out
    assert "sorg: bad value 'bank' for setting bank (from ini key sorg_bank): " in out, out
    assert ("bank/garden.json: task 'gdn-l2-01': field 'rubric.elements[0].patterns[0]': "
            "must be a non-empty list of regexes (bad regex 'year ('") in out
    p.write("pytest.ini", INI.format(extra=""))  # the same from the environment
    r = p.run(SORG_BANK="bank")
    out = r.stdout.str() + r.stderr.str()
    assert r.ret == 4 and ("sorg: bad value 'bank' for setting bank (from environment variable SORG_BANK): "
                           "bank/garden.json: task 'gdn-l2-01'") in out, out


def test_all_protocols_means_the_users_too_and_a_clash_names_both(project_dir):
    p = _project(project_dir)
    r = p.run("--collect-only", "-q", "--sorg-protocols=all", "test_evals.py::test_trial")
    ids = [x for x in r.stdout.lines if "::test_trial[" in x]
    assert len(ids) == 2 * 13 and any("-pairs-" in x for x in ids), r.stdout.str()
    p.write("conftest.py", CONFTEST + user_project.PROTOCOL.replace('"pairs"', '"sequential"').replace(
        "async def pairs", "async def mine"))
    r = p.run("--collect-only", "-q")
    out = r.stdout.str() + r.stderr.str()
    assert r.ret != 0 and "two protocols named 'sequential': conftest.mine" in out, out
    assert "sorg.protocols.sequential.Sequential" in out and str(p.path / "conftest.py") in out
