"""The plugin under the oldest pytest sorg declares, with xdist (pytest 8.0.x once errored
every claim under xdist: the plugin read an ini key pytest added in 8.1, and strict-xfail
claims hid that error as XFAILED).

Needs that pytest installed apart: `pip install --no-deps --target DIR pytest==<floor>` and
SORG_PYTEST_FLOOR_DIR=DIR (`.ci/run` does both); skipped otherwise, saying so.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a pytest run in a subprocess: left out of the quick selection

ROOT = Path(__file__).resolve().parents[2]


def floor_version() -> str:
    """The lowest pytest pyproject.toml allows (`pytest>=X`)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if re.match(r"pytest\s*>=", d))
    return spec.split(">=", 1)[1].split(",")[0].strip()


def test_plugin_runs_under_the_floor_pytest_with_xdist(project):
    target = os.environ.get("SORG_PYTEST_FLOOR_DIR")
    if not target:
        pytest.skip("set SORG_PYTEST_FLOOR_DIR to `pip install --no-deps --target DIR pytest==<floor>` (.ci/run does)")
    floor = floor_version()
    got = [p.name for p in Path(target).glob("pytest-*.dist-info")]
    want = floor if floor.count(".") == 2 else floor + ".0"
    assert got == [f"pytest-{want}.dist-info"], f"{target} holds {got}, pyproject's floor is pytest {floor}"
    r = project.run("-n", "2", "--sorg-run-id=floor", PYTHONPATH=f"{target}{os.pathsep}{project.path}")
    assert f"pytest-{want}" in r.stdout.str()
    # the claims judged as under the newest pytest (no claim errors, none hidden as XFAILED)
    r.assert_outcomes(passed=27, failed=2, skipped=2, xfailed=1)
    assert "Traceback" not in r.stdout.str()
