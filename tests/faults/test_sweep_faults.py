"""Faults of a whole sweep under the real plugin (a small eval project run in a subprocess):
kill -9 of an xdist worker half-way through, and secrets in the environment while recording.

tests/pytest_plugin/test_plugin_runs.py kills the *controller*; here a *worker* dies mid-trial. What
must hold (issue 6): no trial record that was reported finished is lost or duplicated, the
sweep goes on (xdist replaces the worker; the trial it was running fails), and a rerun with
the same run id completes the sweep with live calls only for what never finished (the rest
comes from the cassettes). Secrets: with OPENAI_API_KEY and an api_base carrying credentials,
no file the run writes (cassettes, cache, reports, junit XML) and no output contains them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.subproc import HANG_S, pythonpath

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection

CONFTEST = '''
import hashlib, os, time
from sorg.model.backends import RawReply, register_backend

async def slow_backend(req):
    """Deterministic replies; each live call logged (to tell live from replayed) and slowed."""
    with open(os.environ["FAULT_CALL_LOG"], "a") as fh:
        fh.write(req.sample + "\\n")
    time.sleep(float(os.environ.get("FAULT_SLEEP", "0")))
    h = hashlib.sha256(req.sample.encode()).hexdigest()
    return RawReply(text='{"role": "writer", "abstain": false, "contribution": "Step ' + h[:6] + ': venue, budget."}',
                    prompt_tokens=20, completion_tokens=10, model_version="slow-1")

register_backend("slow", slow_backend)
'''

INI = '''
[pytest]
# mechanics, not measurement: the fake runner's qualities never went through the instrument gate
sorg_gate = off
sorg_models = {model}
sorg_protocols = sequential,single
sorg_agents = 2
sorg_levels = 1,2
sorg_tasks_per_level = {tpl}
sorg_seeds = 2
sorg_record = new
sorg_cache_dir = .sorg/cache
'''

EVALS = '''
def test_sweep(sorg_trial, task, protocol, n_agents, model, seed):
    r = sorg_trial(task, protocol, model, n_agents, seed)
    assert r.status == "ok", r.error
'''


def _write(root: Path, model: str, tpl: int) -> None:
    (root / "conftest.py").write_text(CONFTEST)
    (root / "pytest.ini").write_text(textwrap.dedent(INI.format(model=model, tpl=tpl)))
    (root / "test_evals.py").write_text(EVALS)


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_", "OPENAI_"))}
    # The deterministic scorer only: these faults are about the door and the store, and the
    # judge's calls would make every trial's call log longer without testing anything more.
    env.update(PYTHONPATH=pythonpath(root), SORG_PLOTS="no", SORG_SCORERS="coverage", FAULT_CALL_LOG=str(root / "calls.log"),
               **extra)
    return env


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_bytes().split(b"\n") if x.strip()] if path.exists() else []


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def test_kill_9_of_a_worker_loses_and_duplicates_nothing_and_rerun_completes_from_cache(tmp_path: Path) -> None:
    root = tmp_path
    _write(root, "slow/m", tpl=3)  # 3 tasks x 2 levels x 2 protocols x 2 seeds = 24 trials, 36 calls
    store = root / "reports" / "w" / "trials.jsonl"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--sorg-run-id=w", "-q"]
    proc = subprocess.Popen(cmd, cwd=root, env=_env(root, FAULT_SLEEP="0.1"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while len(_lines(store)) < 6:
            assert time.monotonic() < deadline and proc.poll() is None, "the sweep wrote no records in time"
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert workers, "no xdist worker found"
        finished_before = {r["trial_id"]: r for r in _lines(store)}
        os.kill(workers[0], signal.SIGKILL)  # one worker, mid-trial
        out, _ = proc.communicate(timeout=HANG_S)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert "crashed" in out or "worker" in out.lower(), out[-3000:]
    after = _lines(store)
    ids = [r["trial_id"] for r in after]
    assert len(ids) == len(set(ids)), "a trial was recorded twice"
    kept = {r["trial_id"]: r for r in after}
    for tid, rec in finished_before.items():  # nothing reported finished is lost or changed
        assert kept.get(tid) == rec, tid
    assert 6 <= len(kept) <= 24

    calls_first = (root / "calls.log").read_text().splitlines()
    recorded = {json.loads(x)["sample"] for c in (root / "cassettes").rglob("*.jsonl")
                for x in c.read_text().splitlines() if x.strip()}
    r = subprocess.run(cmd, cwd=root, env=_env(root), capture_output=True, text=True, timeout=HANG_S)
    assert r.returncode == 0, r.stdout[-3000:]
    final = _lines(store)
    final_ids = [x["trial_id"] for x in final]
    assert len(final_ids) == len(set(final_ids)) == 24
    assert all(x["status"] == "ok" for x in final)
    for tid, rec in kept.items():
        assert next(x for x in final if x["trial_id"] == tid) == rec
    live_rerun = (root / "calls.log").read_text().splitlines()[len(calls_first):]
    # the rerun called live only for what had never been answered (the killed worker's call
    # died before its reply was recorded): far fewer than 36 calls, none already recorded
    assert 0 < len(live_rerun) < 36 and not set(live_rerun) & recorded, (live_rerun, len(calls_first))


ENV_KEY = "sk-faultsuite-envkey-5eCr3t0123456789"
URL_USER, URL_PASSWORD = "bob", "urlPa55w0rd-QQ71"


def test_secrets_in_env_and_api_base_never_reach_any_file_or_output(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    _write(root, "openai/fake", tpl=1)  # 1 task x 2 levels x 2 protocols x 2 seeds = 8 trials
    with FakeOpenAI() as srv:
        host = srv.url.replace("http://", "")
        runs = {
            # a clean api_base: calls succeed and are recorded with the key in use
            "ok": _env(root, OPENAI_API_KEY=ENV_KEY, OPENAI_API_BASE=srv.url),
            # credentials in the api_base URL: litellm refuses or the server fails; errors are recorded
            "creds": _env(root, OPENAI_API_KEY=ENV_KEY, OPENAI_API_BASE=f"http://{URL_USER}:{URL_PASSWORD}@{host}"),
        }
        outputs = []
        for run_id, env in runs.items():
            env["SORG_RECORD"] = "all" if run_id == "creds" else "new"
            # one process (litellm imported once); -x: the creds run stops at its first failed
            # trial (each failed call is retried with back-off: seconds per trial)
            r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "-rA",
                                f"--sorg-run-id={run_id}", f"--junitxml={root / (run_id + '.xml')}"],
                               cwd=root, env=env, capture_output=True, text=True, timeout=HANG_S)
            outputs.append(r.stdout + r.stderr)
        used = [h.get("Authorization", "") + h.get("authorization", "") for h in
                (q["headers"] for q in srv.chat_requests())]
    assert any(ENV_KEY in u for u in used), "the key was never sent: the test would prove nothing"
    ok = _lines(root / "reports" / "ok" / "trials.jsonl")
    assert len(ok) == 8 and all(x["status"] == "ok" for x in ok), [x["error"] for x in ok]
    written = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert any("cassettes" in p.parts for p in written) and any(p.suffix == ".xml" for p in written)
    for secret in (ENV_KEY, URL_PASSWORD, f"{URL_USER}:{URL_PASSWORD}"):
        for p, data in written.items():
            assert secret.encode() not in data, f"{secret} written to {p}"
        for out in outputs:
            assert secret not in out, secret
