"""A fault of the whole run is reported once, with the trials it blocks counted.

Before: an unknown model in replay printed the same CassetteMiss for every trial (258
times, 986 KB), a corrupt cassette line failed every trial, a refused connection read as
"(HTTP 500)", and reports/latest moved to the empty run each time.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sorg.model.client import ModelClient
from tests.model.helpers import make_request

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection

FAULTY_CONFTEST = '''
import os
import pytest
import sorg_fake
from sorg.errors import CassetteCorrupt, CassetteMiss

def runner(task, protocol, model, n_agents, seed, **kw):
    kind = os.environ["FAULT"]
    if kind == "corrupt":
        raise CassetteCorrupt("cassettes/fake--m/default.jsonl:7: not valid JSON (Expecting value)")
    if kind == "unrecorded":
        exc = CassetteMiss("no recorded reply for " + protocol + str(seed) + ": model 'fake/m'.\\n"
                           "No recording of 'fake/m' under cassettes/ at all.\\nTo record it: ...")
        exc.run_wide = True
        raise exc
    rec = sorg_fake.fake_run_trial(task, protocol, model, n_agents, seed, **kw)
    if kind == "none":
        return rec
    import dataclasses
    return dataclasses.replace(rec, status="error", error=f"fake/m for {rec.trial_id} failed after 5 attempt(s): "
                               "connection refused (http://127.0.0.1:9/v1): no server answered")

@pytest.fixture(scope="session")
def sorg_runner():
    return runner

@pytest.fixture(scope="session")
def sorg_client():
    return None
'''


@pytest.mark.parametrize("kind, needle", [
    ("corrupt", "corrupt cassette: cassettes/fake--m/default.jsonl:7: not valid JSON"),
    ("unrecorded", "model never recorded: No recording of 'fake/m' under cassettes/ at all."),
    ("refused", "provider unreachable: connection refused (http://127.0.0.1:9/v1) for model 'fake/m'"),
])
@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_a_fault_of_the_whole_run_is_reported_once(project, kind, needle, xdist):
    project.write("conftest.py", FAULTY_CONFTEST)
    project.run("--sorg-run-id=good", FAULT="none")  # a complete run: latest points at it
    r = project.run("--sorg-run-id=bad", *xdist, FAULT=kind)
    out = r.stdout.str()
    assert r.ret != 0
    workers = 2 if xdist else 1
    # the fault in the summary section once, and at most once per process with its full message
    assert out.count("sorg: faults of the whole run (each reported once)") == 1
    assert 1 <= sum(1 for ln in r.stdout.lines if ln.startswith(needle)) <= workers
    assert "sweep tests blocked (failed, skipped or not run)" in out
    r.stdout.fnmatch_lines(["SKIPPED * claims: partial sweep: * of 26 sweep tests*"])  # claims reported, skipped
    assert len(out) < 60_000
    assert (project.path / "reports" / "latest").resolve().name == "good"  # latest stays on the complete run


def test_a_refused_connection_reads_as_one() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ModelClient(cassette_dir=None, record="all", cache_dir=None, retries=0)
    req = make_request(model="openai/x", params={"api_base": f"http://127.0.0.1:{port}/v1", "api_key": "sk-x"})
    with pytest.raises(Exception) as info:
        client.complete(req)
    msg = str(info.value)
    assert f"connection refused (http://127.0.0.1:{port}/v1)" in msg  # before: "InternalServerError ... (HTTP 500)"
    assert "HTTP 500" not in msg


def test_a_model_with_no_recording_is_a_run_wide_miss(tmp_path: Path) -> None:
    from sorg.errors import CassetteMiss

    client = ModelClient(cassette_dir=tmp_path, record="none", cache_dir=None)
    with pytest.raises(CassetteMiss) as info:
        client.complete(make_request(model="fake/never"))
    assert info.value.run_wide is True
