"""Where `pytest evals/ -n auto` spends its time on a small machine, against plain `pytest evals/`.

Why: on 2 cores the README's `pytest evals/ -n auto` took 8.5 s where no `-n` took 4.6 s for
the committed replay. Replaying a trial costs milliseconds; each xdist worker first pays a
Python start, pytest's import, every installed pytest plugin (hypothesis's costs ~0.4 s of
CPU when the dev extra is installed) and a collection of the evals (sorg.claims imports numpy
and scipy). This prints the CPU and wall time of each part and of the whole commands, so the
README's main command is the one that is fastest here.

    python benchmarks/bench_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the command and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "SORG_PLOTS": "no"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    pt = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    cases = {
        "python start": [py, "-c", "pass"],
        "pytest import + plugins (--version)": [*pt, "--version"],
        "  same without hypothesis's plugin": [*pt, "-p", "no:hypothesispytest", "--version"],
        "collect evals/ (one process's share)": [*pt, "evals/", "--collect-only"],
        "pytest evals/  (no -n)": [*pt, "evals/", "--sorg-run-id=bench-startup-0"],
        "pytest evals/ -n 2": [*pt, "evals/", "-n", "2", "--sorg-run-id=bench-startup-2"],
        "pytest evals/ -n auto": [*pt, "evals/", "-n", "auto", "--sorg-run-id=bench-startup-a"],
    }
    print(f"{os.cpu_count()} CPUs; median of {args.repeat} runs; CPU = user+sys of all processes")
    print(f"{'':42} {'wall s':>8} {'CPU s':>8}")
    for name, cmd in cases.items():
        runs = sorted(_run(cmd) for _ in range(args.repeat))
        wall, cpu = runs[len(runs) // 2]
        print(f"{name:42} {wall:8.2f} {cpu:8.2f}")


if __name__ == "__main__":
    main()
