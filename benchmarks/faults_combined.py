#!/usr/bin/env python
"""The combined fault run of issue 28's "Done when": 20 attacks on whole pytest runs of a small
eval project, each followed by the rerun a user would make, checking that no finished trial and
no paid reply is lost.

Why a script and not a test: each attack runs two to four pytest processes (about 40 s of CPU in
all); it is a figure to record before a release, not a check for every commit. The single
mechanisms are tested one by one under tests/faults/ and tests/model/.

The model is a FAKE, offline: a registered backend ("paid/m") that answers deterministically,
logs every call it is paid for (calls.log) and is priced in the project's pyproject.toml, so the
budget ledger is written; the router attacks use fake OpenAI-compatible servers on loopback
(tests/fakes/openai_server.py) behind `--sorg-model-config`. Nothing reaches a network.

A kill lands *inside* a write: `faultkill.py` (written into the project, imported by its
conftest) wraps the write named by FAULT_KILL=<write>:<n> and, at its n-th call, writes half of
what it was about to write and SIGKILLs its own process. A full disk is a real tmpfs (we mount
one; root needed) filled to a few KiB over the folder it replaces.

After each attack, and the rerun (`sorg restore` first when replies were kept):
- trials: every ok record present before the rerun is in the final store, byte-equal; the
  final store has one ok record for each of the sweep's 12 trials (`complete`);
- paid replies: every reply that was durable at the fault (a cassette line, a staged rewrite,
  a kept file under unsaved/) is in the final cassettes (`lost_paid` counts those that are not)
  and was not paid for again (`repaid_durable`); `repaid_in_flight` counts the calls paid again
  whose reply was in flight in the killed process (it was never written anywhere, so it cannot
  be kept).

Usage: nice -n 19 python benchmarks/faults_combined.py [--only NAME] [--keep DIR]
Prints one JSON line per attack, then one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.subproc import pythonpath  # noqa: E402

TRIALS = 12  # 3 tasks x 2 protocols x 2 seeds, teams of 2
LIMIT_S = 180  # a hung run is a failed attack, not a hung script

FAULTKILL = r'''
"""Kill this process in the middle of one kind of write (FAULT_KILL=<write>:<n>)."""
import json, os, signal
from pathlib import Path


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def install():
    spec = os.environ.get("FAULT_KILL", "")
    if not spec:
        return
    target, nth = spec.split(":")
    seen = [0]

    def hit():
        """The nth call in this process, and the first such kill of the attack (an xdist worker
        that replaces a killed one counts afresh: it must not be killed again)."""
        seen[0] += 1
        if seen[0] != int(nth):
            return False
        try:
            os.close(os.open(os.environ.get("FAULT_ONCE", "faultkill.done"), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    if target == "trials_append":
        from sorg.store import TrialStore
        orig = TrialStore.append_line

        def append_line(self, trial_id, line, status=None):
            if hit():
                self.open()
                self._fh.write(line[: len(line) // 2])
                self._fh.flush()
                _die()
            return orig(self, trial_id, line, status)
        TrialStore.append_line = append_line
    elif target == "cassette_append":
        from sorg.model import cassette
        orig = cassette.append_entry

        def append_entry(path, entry):
            if hit():
                line = json.dumps(entry, separators=(",", ":")).encode()
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "ab") as fh:
                    fh.write(line[: len(line) // 2])
                    fh.flush()
                    os.fsync(fh.fileno())
                _die()
            return orig(path, entry)
        cassette.append_entry = append_entry
    elif target == "cache_set":
        from sorg.model.cache import DiskCache
        orig = DiskCache.set

        def set_(self, *a, **k):
            if hit():
                _die()
            return orig(self, *a, **k)
        DiskCache.set = set_
    elif target == "ledger":
        from sorg.model.budget import Budget
        orig = Budget._replace

        def replace(self, data):
            if hit():
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                tmp.write_bytes(data[: len(data) // 2])
                _die()
            return orig(self, data)
        Budget._replace = replace
    elif target == "store_compact":
        import sorg.store as store
        orig = store.compact

        def compact(path):
            if hit():
                p = Path(path)
                p.with_name(f".{p.name}.{os.getpid()}.tmp").write_bytes(p.read_bytes()[: p.stat().st_size // 2])
                _die()
            return orig(path)
        store.compact = compact
    elif target == "rewrite_finish":
        from sorg.model import cassette
        orig = cassette.rewrite_file

        def rewrite_file(path, *a, **k):
            if hit():
                path.with_name(f".{path.name}.{os.getpid()}.tmp").write_bytes(path.read_bytes()[:100])
                _die()
            return orig(path, *a, **k)
        cassette.rewrite_file = rewrite_file
    elif target == "merge":
        import sorg.merge as merge
        orig = merge.write_sweep

        def write_sweep(*a, **k):
            if hit():
                _die()
            return orig(*a, **k)
        merge.write_sweep = write_sweep
    else:
        raise SystemExit(f"faultkill: unknown write {target!r}")
'''

CONFTEST = r'''
import faultkill
faultkill.install()

import asyncio, hashlib, os
from sorg.model.backends import ProviderError, RawReply, register_backend


async def paid(req):
    """Deterministic replies; every call paid for is logged. FAULT_FAIL=k fails (not retryably)
    the calls whose sample hashes to 0 mod k: trials that end in an error record."""
    h = hashlib.sha256(req.sample.encode()).hexdigest()
    fail = int(os.environ.get("FAULT_FAIL", "0"))
    if fail and int(h, 16) % fail == 0:
        raise ProviderError("scripted provider fault", status=400)
    with open(os.environ["FAULT_CALL_LOG"], "a") as fh:
        fh.write(req.sample + "\n")
    await asyncio.sleep(float(os.environ.get("FAULT_SLEEP", "0")))
    return RawReply(text='{"role": "writer", "abstain": false, "contribution": "Step ' + h[:6] + ': venue, budget."}',
                    prompt_tokens=20, completion_tokens=10, model_version="paid-1")


register_backend("paid", paid)
'''

INI = """
[pytest]
sorg_gate = off
sorg_models = {model}
sorg_protocols = sequential,single
sorg_agents = 2
sorg_levels = 1
sorg_tasks_per_level = 3
sorg_seeds = 2
sorg_record = new
sorg_cache_dir = .sorg/cache
sorg_scorers = coverage
sorg_plots = no
sorg_progress = no
{extra}
"""

PYPROJECT = """
[tool.sorg.prices]
"paid/m" = {input = 0.0001, output = 0.0001}
"""

EVALS = """
def test_sweep(sorg_trial, task, protocol, n_agents, model, seed):
    r = sorg_trial(task, protocol, model, n_agents, seed)
    assert r.status == "ok", r.error
"""


class Project:
    """A temp eval project and the processes an attack runs in it."""

    def __init__(self, root: Path, model: str = "paid/m", extra_ini: str = "") -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "faultkill.py").write_text(FAULTKILL)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text(textwrap.dedent(INI.format(model=model, extra=extra_ini)))
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / "test_evals.py").write_text(EVALS)
        self.tmp = root / "systmp"  # the kept replies' second folder: this project's own temp dir
        self.tmp.mkdir(exist_ok=True)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_", "OPENAI_", "FAULT_"))}
        env.update(PYTHONPATH=pythonpath(self.root), FAULT_CALL_LOG=str(self.root / "calls.log"), TMPDIR=str(self.tmp),
                   FAULT_ONCE=str(self.root / "faultkill.done"))
        env.update(extra)
        return env

    def pytest(self, *args: str, **env: str) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-W", "ignore", *args]
        return subprocess.Popen(cmd, cwd=self.root, env=self.env(**env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def sorg(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        code = "import faultkill, sys; faultkill.install(); from sorg.cli import main; sys.exit(main(sys.argv[1:]))"
        return subprocess.run([sys.executable, "-c", code, *args], cwd=self.root, env=self.env(**env),
                              capture_output=True, text=True, timeout=LIMIT_S)

    def run(self, *args: str, **env: str) -> tuple[int, str]:
        proc = self.pytest(*args, **env)
        try:
            out, _ = proc.communicate(timeout=LIMIT_S)
        finally:
            _reap(proc)
        return proc.returncode, out

    # -- what is on disk ------------------------------------------------------------------------

    def lines(self, run: str = "r") -> list[dict[str, Any]]:
        path = self.root / "reports" / run / "trials.jsonl"
        out = []
        for raw in path.read_bytes().split(b"\n") if path.exists() else []:
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue  # a torn line: not a finished trial
        return out

    def ok(self, run: str = "r") -> dict[str, str]:
        got: dict[str, str] = {}
        for rec in self.lines(run):
            if rec.get("status") == "ok":
                got.setdefault(rec["trial_id"], json.dumps(rec, sort_keys=True))
        return got

    def paid(self) -> list[str]:
        log = self.root / "calls.log"
        return log.read_text().splitlines() if log.exists() else []

    def durable(self) -> set[str]:
        """Samples whose reply is written somewhere a rerun reads: cassette lines (staged rewrite
        files included) and kept replies (unsaved/, in the state dir and the temp dir)."""
        found = set()
        files = [*(self.root / "cassettes").rglob("*.jsonl*"), *self.root.rglob("unsaved/*.json"),
                 *self.tmp.rglob("sorg-unsaved/*.json")]
        for f in files:
            if f.name.endswith(".lock") or not f.is_file():
                continue
            for raw in f.read_bytes().split(b"\n"):
                try:
                    found.add(json.loads(raw)["sample"])
                except (ValueError, KeyError, TypeError):
                    continue
        return found

    def recorded(self) -> set[str]:
        """Samples in the cassettes proper (what a replay reads)."""
        return {s for f in (self.root / "cassettes").rglob("*.jsonl") for s in _samples(f)}


def _samples(path: Path) -> set[str]:
    out = set()
    for raw in path.read_bytes().split(b"\n"):
        try:
            out.add(json.loads(raw)["sample"])
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _reap(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # xdist workers of a killed controller
    except (ProcessLookupError, PermissionError):
        pass


def _wait_records(p: Project, proc: subprocess.Popen[str], n: int, run: str = "r") -> bool:
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if len(p.ok(run)) >= n:
            return True
        time.sleep(0.05)
    return False


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


# -- the check after an attack ------------------------------------------------------------------

class Snapshot:
    """What was finished and paid for when the fault hit."""

    def __init__(self, p: Project, run: str = "r") -> None:
        self.ok = p.ok(run)
        self.paid = p.paid()
        self.durable = p.durable()


def recover(p: Project, snap: Snapshot, *rerun: str, run: str = "r", restore: bool = True,
            **env: str) -> dict[str, Any]:
    """`sorg restore` (when replies were kept), the rerun, and the figures of the check."""
    notes = []
    if restore:
        r = p.sorg("restore")
        if "no kept replies" not in r.stdout:
            notes.append(r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()[-200:])
    code, out = p.run(f"--sorg-run-id={run}", *rerun, **env)
    return verdict(p, snap, code, out, run, notes)


def verdict(p: Project, snap: Snapshot, code: int, out: str, run: str = "r", notes: list[str] | None = None,
            trials: int = TRIALS) -> dict[str, Any]:
    final = p.ok(run)
    oks = [r["trial_id"] for r in p.lines(run) if r.get("status") == "ok"]
    again = p.paid()[len(snap.paid):]
    repaid = [s for s in again if s in set(snap.paid)]
    recorded = p.recorded()
    lost_trials = sorted(t for t, rec in snap.ok.items() if final.get(t) != rec)
    lost_paid = sorted(s for s in snap.durable if s not in recorded)
    res = {
        "trials_ok_at_fault": len(snap.ok), "trials_ok_final": len(final), "duplicate_ok": len(oks) - len(set(oks)),
        "lost_trials": len(lost_trials), "paid_at_fault": len(snap.paid), "durable_at_fault": len(snap.durable),
        "lost_paid": len(lost_paid), "repaid_durable": sum(s in snap.durable for s in repaid),
        "repaid_in_flight": sum(s not in snap.durable for s in repaid), "rerun_exit": code,
    }
    res["complete"] = res["trials_ok_final"] == trials and res["duplicate_ok"] == 0 and code == 0
    res["ok"] = res["complete"] and not lost_trials and not lost_paid and res["repaid_durable"] == 0
    if notes:
        res["notes"] = notes
    if not res["ok"]:
        res["tail"] = out[-600:]
    return res


# -- attacks ------------------------------------------------------------------------------------

def kill_at(write: str, nth: int, *args: str, first: Callable[[Project], None] | None = None,
            extra_ini: str = "") -> Callable[[Path], dict[str, Any]]:
    """Kill -9 the run inside its nth write of one kind, then rerun."""
    def attack(root: Path) -> dict[str, Any]:
        p = Project(root, extra_ini=extra_ini)
        if first is not None:
            first(p)
        code, out = p.run("--sorg-run-id=r", *args, FAULT_KILL=f"{write}:{nth}", FAULT_SLEEP="0.01")
        if code != -signal.SIGKILL:
            return {"ok": False, "why": f"the kill point was not reached (exit {code})", "tail": out[-600:]}
        snap = Snapshot(p)
        return {"killed": True, **recover(p, snap, *args)}
    return attack


def kill_compaction(root: Path) -> dict[str, Any]:
    """Trials that failed first are replaced by ok ones on the rerun, which compacts trials.jsonl
    when it closes: killed inside that compaction."""
    p = Project(root)
    p.run("--sorg-run-id=r", FAULT_FAIL="3")
    errors = sum(r.get("status") != "ok" for r in p.lines())
    code, out = p.run("--sorg-run-id=r", FAULT_KILL="store_compact:1")
    if code != -signal.SIGKILL:
        return {"ok": False, "why": f"no compaction reached (exit {code}, {errors} error records)", "tail": out[-600:]}
    snap = Snapshot(p)
    return {"error_records_first": errors, **recover(p, snap)}


def kill_rewrite(root: Path) -> dict[str, Any]:
    """A full recording, then `--sorg-record=rewrite` killed while it replaces the cassette file;
    the rerun of the rewrite takes over the staged replies instead of paying again."""
    p = Project(root)
    p.run("--sorg-run-id=first")
    code, out = p.run("--sorg-run-id=r", "--sorg-record=rewrite", FAULT_KILL="rewrite_finish:1")
    if code != -signal.SIGKILL:
        return {"ok": False, "why": f"no rewrite reached (exit {code})", "tail": out[-600:]}
    snap = Snapshot(p)
    return recover(p, snap, "--sorg-record=rewrite")


def kill_merge(root: Path) -> dict[str, Any]:
    """Two shards, `sorg merge` killed half-way, merged again."""
    p = Project(root)
    for i in (1, 2):
        p.run(f"--sorg-run-id=s{i}", f"--sorg-shard={i}/2")
    shards = {**p.ok("s1"), **p.ok("s2")}
    killed = p.sorg("merge", "all", "s1", "s2", FAULT_KILL="merge:1")
    half = p.ok("all")
    from sorg.merge import MERGING_FILE

    marked = (root / "reports" / "all" / MERGING_FILE).exists()
    again = p.sorg("merge", "all", "s1", "s2")
    merged = p.ok("all")
    lost = sum(merged.get(t) != rec for t, rec in shards.items())
    ok = (killed.returncode == -signal.SIGKILL and marked and again.returncode == 0 and lost == 0
          and len(merged) == TRIALS)
    return {"ok": ok, "killed": killed.returncode == -signal.SIGKILL, "trials_in_shards": len(shards),
            "trials_in_half_merge": len(half), "half_merge_marked": marked,
            "trials_ok_final": len(merged), "lost_trials": lost, "lost_paid": 0, "merge_exit": again.returncode}


def kill_worker(write: str | None) -> Callable[[Path], dict[str, Any]]:
    """Under -n 2: one worker killed mid-trial (or inside its nth cassette append)."""
    def attack(root: Path) -> dict[str, Any]:
        p = Project(root)
        env = {"FAULT_SLEEP": "0.05"}
        if write:
            env["FAULT_KILL"] = write
        proc = p.pytest("-n", "2", "--sorg-run-id=r", **env)
        try:
            if write is None:
                if not _wait_records(p, proc, 3):
                    return {"ok": False, "why": "no records in time"}
                workers = _children(proc.pid)
                os.kill(workers[0], signal.SIGKILL)
            out, _ = proc.communicate(timeout=LIMIT_S)
        finally:
            _reap(proc)
        snap = Snapshot(p)
        return {"first_exit": proc.returncode, **recover(p, snap, "-n", "2")}
    return attack


def kill_controller(root: Path) -> dict[str, Any]:
    p = Project(root)
    proc = p.pytest("-n", "2", "--sorg-run-id=r", FAULT_SLEEP="0.05")
    try:
        if not _wait_records(p, proc, 3):
            return {"ok": False, "why": "no records in time"}
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        _reap(proc)
    snap = Snapshot(p)
    return recover(p, snap, "-n", "2")


def two_runs_one_id(root: Path) -> dict[str, Any]:
    p = Project(root)
    a = p.pytest("--sorg-run-id=r", FAULT_SLEEP="0.1")
    try:
        if not _wait_records(p, a, 2):
            return {"ok": False, "why": "run A wrote no records in time"}
        b_code, b_out = p.run("--sorg-run-id=r")
        a_out, _ = a.communicate(timeout=LIMIT_S)
    finally:
        _reap(a)
    snap = Snapshot(p)
    res = verdict(p, snap, a.returncode, a_out)
    refused = b_code != 0 and ("in use" in b_out.lower() or "another" in b_out.lower())
    res.update(second_exit=b_code, second_refused=refused, ok=res["ok"] and refused)
    if not refused:
        res["second_tail"] = b_out[-400:]
    return res


def two_recorders(root: Path) -> dict[str, Any]:
    """Two runs (two run ids, the same cells) recording into one cassette dir at once."""
    p = Project(root)
    a, b = p.pytest("--sorg-run-id=r", FAULT_SLEEP="0.05"), p.pytest("--sorg-run-id=r2", FAULT_SLEEP="0.05")
    try:
        a.communicate(timeout=LIMIT_S)
        b.communicate(timeout=LIMIT_S)
    finally:
        _reap(a)
        _reap(b)
    paid = p.paid()
    res = {"exits": [a.returncode, b.returncode], "calls_paid": len(paid), "distinct_requests": len(set(paid)),
           "trials_ok_final": [len(p.ok("r")), len(p.ok("r2"))], "lost_trials": 0,
           "lost_paid": len(set(paid) - p.recorded())}
    res["ok"] = (a.returncode == b.returncode == 0 and len(paid) == len(set(paid)) and res["lost_paid"] == 0
                 and res["trials_ok_final"] == [TRIALS, TRIALS])
    return res


def _mount_full(folder: Path, free_kib: int) -> Path:
    """A tmpfs at `folder` with only `free_kib` KiB left; returns the filler file."""
    folder.mkdir(parents=True, exist_ok=True)
    size = free_kib + 64
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}k", "tmpfs", str(folder)], check=True)
    filler = folder / ".filler"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * (64 * 1024))
    return filler


def full_disk(where: str, free_kib: int, *args: str, extra_ini: str = "",
              kill_restore: bool = False) -> Callable[[Path], dict[str, Any]]:
    """The folder `where` of the project is a tmpfs that fills up mid-run; then space is freed,
    kept replies restored (`sorg restore`, once killed half-way when `kill_restore`), and rerun."""
    def attack(root: Path) -> dict[str, Any]:
        p = Project(root, extra_ini=extra_ini)
        folder = root / where
        filler = _mount_full(folder, free_kib)
        try:
            code, out = p.run("--sorg-run-id=r", *args)
            said = [w for w in ("the paid reply could not be saved", "could not be stored", "No space left")
                    if w in out]
            clean = "Traceback" not in out and "INTERNALERROR" not in out
            ledger = [f.read_text() for f in root.rglob("budget-*.json")]
            snap = Snapshot(p)
            filler.unlink()  # space again: the disk grows
            subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True)
            notes = []
            if kill_restore:
                k = p.sorg("restore", FAULT_KILL="cassette_append:1")
                notes.append(f"restore killed: {k.returncode == -signal.SIGKILL}")
            res = recover(p, snap, *args)
            res["notes"] = notes + res.get("notes", [])
            res.update(first_exit=code, first_said=said, first_clean=clean, ledger_at_fault=ledger)
            if not said:
                res.update(ok=False, why="the disk did not fill")
            if not clean:
                res.update(ok=False, first_tail=out[-800:])
            return res
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
    return attack


def _router(p: Project, bases: list[str]) -> str:
    doc = {"model_list": [{"model_name": "team", "litellm_params": {
        "model": "openai/served", "api_base": b, "api_key": "sk-bench-router-key-000000",
        "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}} for b in bases]}
    (p.root / "models.json").write_text(json.dumps(doc))
    return "--sorg-model-config=models.json"


def router_dead(root: Path) -> dict[str, Any]:
    """A dead deployment (nothing listens) beside a live one, behind --sorg-model-config."""
    with FakeOpenAI() as live:
        p = Project(root, model="team")
        snap = Snapshot(p)
        code, out = p.run("--sorg-run-id=r", _router(p, ["http://127.0.0.1:9/v1", live.url]))
        res = verdict(p, snap, code, out)
        res["served_by_live"] = len(live.chat_requests())
        res["key_in_files"] = any(b"sk-bench-router-key" in f.read_bytes() for f in root.rglob("*")
                                  if f.is_file() and f.name != "models.json")
        res["ok"] = res["ok"] and not res["key_in_files"]
        return res


def router_dies(root: Path) -> dict[str, Any]:
    """Two live deployments; one is stopped after the first records."""
    a, b = FakeOpenAI().start(), FakeOpenAI().start()
    try:
        p = Project(root, model="team")
        snap = Snapshot(p)
        proc = p.pytest("--sorg-run-id=r", _router(p, [a.url, b.url]))
        try:
            reached = _wait_records(p, proc, 3)
            b.stop()
            out, _ = proc.communicate(timeout=LIMIT_S)
        finally:
            _reap(proc)
        res = verdict(p, snap, proc.returncode, out)
        res.update(stopped_mid_run=reached, served=[len(a.chat_requests()), len(b.chat_requests())])
        res["ok"] = res["ok"] and reached
        return res
    finally:
        a.stop()


def random_kill(root: Path) -> dict[str, Any]:
    """kill -9 of the run at a moment chosen by a clock, not by a write: 0.37 s after its fifth
    paid call."""
    p = Project(root)
    proc = p.pytest("--sorg-run-id=r", FAULT_SLEEP="0.05")
    try:
        deadline = time.monotonic() + LIMIT_S
        while len(p.paid()) < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.37)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        _reap(proc)
    snap = Snapshot(p)
    return recover(p, snap)


ATTACKS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "kill9_trials_append": kill_at("trials_append", 5),
    "kill9_cassette_append": kill_at("cassette_append", 7),
    "kill9_cache_write": kill_at("cache_set", 7),
    "kill9_budget_ledger": kill_at("ledger", 7, "--sorg-budget-usd=10"),
    "kill9_store_compaction": kill_compaction,
    "kill9_cassette_rewrite": kill_rewrite,
    "kill9_merge": kill_merge,
    "kill9_worker_mid_trial": kill_worker(None),
    "kill9_worker_cassette_append": kill_worker("cassette_append:4"),
    "kill9_controller_xdist": kill_controller,
    "kill9_at_a_random_moment": random_kill,
    "two_runs_one_run_id": two_runs_one_id,
    "two_recorders_one_cassette_dir": two_recorders,
    "full_disk_cassettes": full_disk("cassettes", 8),
    "full_disk_trial_store": full_disk("reports", 8),
    "full_disk_state_ledger_cache": full_disk(".sorg", 12, "--sorg-budget-usd=10"),
    "full_disk_then_kill9_restore": full_disk("cassettes", 8, kill_restore=True),
    "router_dead_deployment": router_dead,
    "router_deployment_dies_mid_run": router_dies,
    "kill9_trials_append_first_record": kill_at("trials_append", 1),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", action="append", help="run only this attack (repeatable)")
    ap.add_argument("--keep", help="keep the projects under this folder")
    args = ap.parse_args()
    base = Path(args.keep or tempfile.mkdtemp(prefix="sorg-faults-"))
    results = []
    for name, attack in ATTACKS.items():
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        try:
            res = attack(base / name)
        except Exception as exc:  # an attack that could not be run is a failed attack, said so
            res = {"ok": False, "why": f"{type(exc).__name__}: {exc}"}
        res = {"attack": name, **res, "seconds": round(time.monotonic() - t0, 1)}
        results.append(res)
        print(json.dumps(res), flush=True)
    print(json.dumps({"summary": True, "attacks": len(results), "held": sum(bool(r.get("ok")) for r in results),
                      "failed": [r["attack"] for r in results if not r.get("ok")],
                      "lost_trials": sum(int(r.get("lost_trials") or 0) for r in results),
                      "lost_paid": sum(int(r.get("lost_paid") or 0) for r in results),
                      "repaid_in_flight": sum(int(r.get("repaid_in_flight") or 0) for r in results),
                      "seconds": round(sum(r["seconds"] for r in results), 1)}), flush=True)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if all(r.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
