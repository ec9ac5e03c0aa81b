#!/usr/bin/env python
"""Replaying a sweep at the study's scale through the real plugin under `pytest -n 2`.

Why: the study ran 25,000 trials (about 200,000 model calls); a sorg user must be able to replay
and analyse a sweep of that size on a laptop. This script builds such a sweep itself and times
the replay a reader would run:

1. A temp project: a conftest registering a deterministic fake backend ("fake/"), a pytest.ini
   choosing 48 tasks x 8 protocols x 6 agents x S seeds (6 agents: about 8.4 calls a trial),
   and one eval test using the `sorg_trial` fixture.
2. Recording: the same project run once with `--sorg-record=new -n 2`, so cassette keys come
   from the real protocols and the real model door (no key is guessed). Only for this step the
   conftest turns `os.fsync` into a no-op (env SORG_BENCH_NO_FSYNC): 200,000 fsyncs would only
   measure the disk, and the bytes written are the same.
3. Collection: `pytest --collect-only -q` of the project (time to build the 25,000 items).
4. Replay (measured): `pytest -n 2 --sorg-record=none` with no cache; wall time, and the
   controller's peak RSS (VmHWM of the controller pid, polled from /proc while it runs; the
   workers are separate processes and not counted).
5. Floor: a bare `@pytest.mark.parametrize` test doing nothing, same item count, `-n 2`, with
   the sorg plugin disabled (`-p no:sorg`).

overhead_ratio = replay wall / floor wall (both include interpreter start and collection).

Usage: python benchmarks/bench_sweep.py [--trials 25000] [--keep DIR]
The last line printed is one JSON object with trials, calls, wall_s, controller_peak_mb,
overhead_ratio, collect_s, floor_wall_s, record_s, per_trial_ms, floor_per_trial_ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROTOCOLS = ("coordinator", "hierarchical", "fixed_roles", "sequential", "broadcast", "shared", "dynamic", "single")
N_TASKS = 48  # the bank's size; 12 per level
AGENTS = 6
EVALS_FILE = "test_evals.py"

CONFTEST = '''
import hashlib, json, os
from sorg.model.backends import RawReply, register_backend

if os.environ.get("SORG_BENCH_NO_FSYNC"):  # recording step only: see bench_sweep.py
    os.fsync = lambda fd: None

async def fake_backend(req):
    """Deterministic replies of each kind the protocols ask for; text depends on the sample."""
    h = hashlib.sha256(req.sample.encode()).hexdigest()
    fmt = req.response_format and req.response_format.get("json_schema", {}).get("name")
    if fmt == "judge_q":
        text = json.dumps({"rationale": "ok", "accuracy": 2, "completeness": 3, "coherence": 3,
                           "actionability": 2, "mission_relevance": 3})
    elif fmt == "plan":
        text = json.dumps({"assignments": [{"role": f"lead {i}", "subtask": f"write part {i} {h[:4]}"}
                                           for i in range(4)]})
    elif fmt:
        text = json.dumps({"role": "analyst " + h[:3], "abstain": h[0] in "01",
                           "contribution": "Venue: $1200. Catering: $800. Owner: Ana. Risk: rain. " + h[:8]})
    else:
        text = "Final plan: venue $1200, catering $800, schedule day 1 and 2, owners assigned. " + h[:8]
    prompt = sum(len(m["content"]) for m in req.messages) // 4 + 1
    return RawReply(text=text, prompt_tokens=prompt, completion_tokens=40, model_version="fake-1", cost_usd=0.0)

register_backend("fake", fake_backend)

if os.environ.get("SORG_BENCH_STRIP"):  # diagnostic (--strip): see bench_sweep.py
    import pytest

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(report):
        """After the plugin has stored the record, drop it from the report (pytest's terminal
        reporter keeps every report until the session ends)."""
        props = getattr(report, "user_properties", None)
        if props:
            props[:] = [(k, v) for k, v in props if k != "sorg_trial"]
'''

EVALS = '''
def test_sweep(sorg_trial, task, protocol, n_agents, model, seed):
    r = sorg_trial(task, protocol, model, n_agents, seed)
    assert r.status in ("ok", "budget"), r.error
'''

FLOOR = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_bare(i):
    pass
'''


def _plan(trials: int) -> tuple[int, int, int]:
    """(tasks_per_level, seeds, trials) closest to the asked number of trials."""
    per_seed = N_TASKS * len(PROTOCOLS)
    if trials >= per_seed:
        seeds = max(1, round(trials / per_seed))
        return N_TASKS // 4, seeds, per_seed * seeds
    tpl = max(1, math.ceil(trials / (4 * len(PROTOCOLS))))
    return tpl, 1, tpl * 4 * len(PROTOCOLS)


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_"))}
    env.update(PYTHONPATH=str(root), SORG_PLOTS="no", **extra)
    return env


def _peak_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _run(root: Path, args: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, str]:
    """(wall seconds, controller peak MB, output tail) of one pytest run in `root`."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def poll() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _peak_kb(proc.pid))
            time.sleep(0.1)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, _ = proc.communicate(timeout=timeout)
    wall = time.perf_counter() - t0
    th.join()
    if proc.returncode not in (0,):
        raise SystemExit(f"pytest {' '.join(args)} in {root} exited {proc.returncode}:\n{out[-4000:]}")
    return wall, peak[0] / 1024, out[-2000:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=25_000, help="about how many trials (default 25000)")
    ap.add_argument("--workers", default="2", help="pytest-xdist -n value (default 2)")
    ap.add_argument("--keep", type=Path, help="build the project in this directory and keep it")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--strip", action="store_true",
                    help="diagnostic: drop each trial record from its test report once the plugin has stored it "
                         "(shows what the controller's memory is spent on)")
    args = ap.parse_args(argv)
    tpl, seeds, trials = _plan(args.trials)

    root = args.keep or Path(tempfile.mkdtemp(prefix="sorg-bench-sweep-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text(
            "[pytest]\nsorg_models = fake/m\nsorg_protocols = " + ",".join(PROTOCOLS) + "\n"
            f"sorg_agents = {AGENTS}\nsorg_levels = 1,2,3,4\nsorg_tasks_per_level = {tpl}\nsorg_seeds = {seeds}\n"
            "sorg_cache_dir = none\n")
        (root / EVALS_FILE).write_text(EVALS)
        floor = root / "floor"
        floor.mkdir(exist_ok=True)
        (floor / "test_floor.py").write_text(FLOOR.format(n=trials))
        (floor / "pytest.ini").write_text("[pytest]\n")

        n = ["-n", args.workers]
        print(f"project {root}: {trials} trials ({tpl} tasks/level x 4 levels x 8 protocols x {seeds} seeds)",
              file=sys.stderr)
        # The eval file is named: the floor's project lies inside `root`, and a bare `pytest` would
        # collect and run its tests too, charging the floor's cost to sorg's replay.
        record_s, _, _ = _run(root, [*n, "--sorg-record=new", "--sorg-run-id=record", EVALS_FILE],
                              _env(root, SORG_BENCH_NO_FSYNC="1"), args.timeout)
        calls = sum(sum(1 for _ in p.open("rb")) for p in (root / "cassettes").rglob("*.jsonl"))
        print(f"recorded {calls} calls in {record_s:.1f} s", file=sys.stderr)

        collect_s, _, out = _run(root, ["--collect-only", "--sorg-record=none", EVALS_FILE], _env(root), args.timeout)
        replay_env = _env(root, SORG_BENCH_STRIP="1") if args.strip else _env(root)
        wall_s, peak_mb, out = _run(root, [*n, "--sorg-record=none", "--sorg-run-id=replay", EVALS_FILE], replay_env,
                                    args.timeout)
        replayed = sum(1 for _ in (root / "reports" / "replay" / "trials.jsonl").open("rb"))
        if replayed != trials:
            raise SystemExit(f"replay wrote {replayed} trial records, expected {trials}:\n{out}")
        floor_s, floor_peak, _ = _run(floor, [*n, "-p", "no:sorg"], _env(floor), args.timeout)
        result = {
            "trials": trials, "calls": calls, "wall_s": round(wall_s, 2), "controller_peak_mb": round(peak_mb, 1),
            "overhead_ratio": round(wall_s / floor_s, 2), "collect_s": round(collect_s, 2),
            "floor_wall_s": round(floor_s, 2), "floor_controller_peak_mb": round(floor_peak, 1),
            "record_s": round(record_s, 2), "per_trial_ms": round(wall_s * 1000 / trials, 3),
            "floor_per_trial_ms": round(floor_s * 1000 / trials, 3), "workers": args.workers,
            "strip": args.strip,
            "targets_met": {"wall_under_300s": wall_s < 300, "controller_under_1gb": peak_mb < 1024,
                            "overhead_within_3x": wall_s / floor_s <= 3.0},
        }
        print(json.dumps(result))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
