"""Importing the model door is cheap: no litellm, no diskcache, no scipy until they are needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_model_door_loads_no_heavy_dependency() -> None:
    code = (
        # CPU time, not wall time: a loaded machine (a recording beside the tests) must not
        # fail this, and a heavy import costs CPU wherever it runs.
        "import sys, time; t = time.process_time(); import sorg.model.client, sorg.model.backends; "
        "dt = time.process_time() - t; "
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'litellm', 'openai', 'httpx', 'aiohttp', 'diskcache', 'scipy', 'llama_cpp'}); "
        "print(heavy, dt)"
    )
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    heavy, seconds = out.stdout.rsplit("]", 1)
    assert heavy.strip() == "[", heavy
    assert float(seconds) < 0.3, seconds
