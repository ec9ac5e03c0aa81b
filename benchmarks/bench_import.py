"""What `import sorg` costs, and what first use of the public names adds.

`import sorg` must stay under 0.3 s of CPU with no litellm, scipy or numpy loaded
(tests/test_public_api.py asserts it); the public names load lazily on first use. This prints
the CPU time (`time.process_time` inside a fresh interpreter, so a busy machine does not
inflate it) of each step, the median of --repeat runs.

    python benchmarks/bench_import.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "import sorg": "import sorg",
    "  + sorg.Trials (numpy)": "import sorg; sorg.Trials",
    "  + sorg.beats (claims; scipy loads when a test runs)": "import sorg; sorg.beats",
    "  + sorg.run_trial (protocols, scorers)": "import sorg; sorg.run_trial",
    "  + every public name": "import sorg; [getattr(sorg, n) for n in sorg.__all__]",
}


def _cpu(stmt: str) -> tuple[float, list[str]]:
    code = (
        "import sys, time; t = time.process_time(); " + stmt + "; dt = time.process_time() - t; "
        "print(dt, *sorted({m.split('.')[0] for m in sys.modules} & {'litellm', 'scipy', 'numpy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    first, *heavy = out.stdout.split()
    return float(first), heavy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"{'step':42} {'CPU s (median)':>14}  heavy modules loaded")
    for label, stmt in CASES.items():
        runs = [_cpu(stmt) for _ in range(args.repeat)]
        print(f"{label:42} {statistics.median(r[0] for r in runs):14.3f}  {' '.join(runs[-1][1]) or '-'}")


if __name__ == "__main__":
    main()
