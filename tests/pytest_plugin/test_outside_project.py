"""A researcher's project outside this repository, in a venv of its own: their task bank
(`sorg_bank`), a protocol in conftest.py (`@protocol`), a scorer shipped by their own package
(entry point `sorg.scorers`), claims. Recorded against the fake OpenAI-compatible server, then
replayed offline (server stopped, no api base, no cache): the same answers, the claims pass
both times, and `--sorg-protocols=all` sweeps their protocol with the packaged ones.

How the venv gets its packages, offline and in about two seconds:
- sorg and its dependencies: the venv sees the environment running these tests (where sorg
  is pip-installed, its `pytest11` entry point and package data included) through a `.pth`
  calling `site.addsitedir`, which is what `--system-site-packages` does for the base
  interpreter. Installing sorg again would need a build backend: setuptools here needs
  `wheel` without build isolation, and a registry download with it.
- the user's package: a wheel built here (a zip with its dist-info) and installed with
  `pip install --no-deps --no-index`, so its entry point comes from real installed metadata.
Nothing of the repository is on the path: no PYTHONPATH, and the project is its own rootdir.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.pytest_plugin import user_project
from tests.subproc import HANG_S

PYPROJECT = '''
[tool.pytest.ini_options]
sorg_bank = "bank"
# its bank carries no reference answers, so no scorer could pass the instrument gate: the
# project tests recording and replaying its own parts, not measurement
sorg_gate = "off"
sorg_models = "openai/fake"
sorg_protocols = "pairs,single"
sorg_agents = "2"
sorg_seeds = "1"
sorg_scorers = "coverage,words"
sorg_cache_dir = "none"
sorg_plots = "no"

[tool.sorg.prices]
"openai/fake" = { input = 1.0e-9, output = 2.0e-9 }
'''


def _wheel(dist: str, files: dict[str, str], entry_points: str, out: Path) -> Path:
    """A pure-Python wheel holding `files` and its metadata (what a build backend would make)."""
    info = f"{dist}-0.1.dist-info"
    files = {**files, f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: sorg-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{info}/entry_points.txt": entry_points}

    def digest(text: str) -> str:
        return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()

    record = "".join(f"{name},{digest(text)},{len(text.encode())}\n" for name, text in files.items())
    path = out / f"{dist}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr(f"{info}/RECORD", record + f"{info}/RECORD,,\n")
    return path


def _venv(root: Path) -> Path:
    """A venv at `root` that sees this environment's packages (sorg among them); its python."""
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    site_dir = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(site_dir, "_parent_env.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    return python


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORG_", "PYTEST_", "OPENAI_", "PYTHONPATH"))}
    env.update(extra)
    return env


def test_a_project_outside_the_repo_records_and_replays_its_own_parts(tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    wheel = _wheel("gardenlab", {"gardenlab/__init__.py": "", "gardenlab/scorers.py": user_project.SCORER},
                   "[sorg.scorers]\nwords = gardenlab.scorers:words\n", tmp_path)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=HANG_S)
    proj = tmp_path / "garden"
    (proj / "bank").mkdir(parents=True)
    (proj / "bank" / "garden.json").write_text(user_project.BANK)
    for name, text in {"pyproject.toml": PYPROJECT, "conftest.py": user_project.PROTOCOL,
                       "test_evals.py": user_project.EVALS, "test_claims.py": user_project.CLAIMS}.items():
        (proj / name).write_text(textwrap.dedent(text))

    def pytest_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args], cwd=proj,
                              env=_env(**env), capture_output=True, text=True, timeout=HANG_S)

    with FakeOpenAI() as srv:
        rec = pytest_run("--sorg-record=new", "--sorg-run-id=rec", OPENAI_API_KEY="sk-fake", OPENAI_API_BASE=srv.url)
        live_calls = len(srv.chat_requests())
    out = rec.stdout + rec.stderr
    assert rec.returncode == 0, out[-4000:]
    assert f"rootdir: {proj}" in out and str(Path(__file__).parents[2] / "tests") not in out
    assert "8 passed" in out and "PASSED test_claims.py::test_pairs_makes_two_calls_a_task" in out, out[-3000:]
    assert live_calls > 0 and "Warning" not in out

    rep = pytest_run("--sorg-run-id=rep")  # record mode none: a miss would fail; no server, no key
    out = rep.stdout + rep.stderr
    assert rep.returncode == 0, out[-4000:]
    assert "8 passed" in out and "PASSED test_claims.py::test_pairs_answers_have_words" in out, out[-3000:]

    def records(run: str) -> dict[str, dict]:
        lines = (proj / "reports" / run / "trials.jsonl").read_text().splitlines()
        return {r["trial_id"]: r for r in map(json.loads, filter(None, lines))}

    a, b = records("rec"), records("rep")
    assert sorted({r["task_id"] for r in a.values()}) == ["gdn-l1-01", "gdn-l2-01"]
    assert sorted({r["protocol"] for r in a.values()}) == ["pairs", "single"] and a.keys() == b.keys()
    for k in a:
        assert (a[k]["answer"], a[k]["quality"], a[k]["calls"]) == (b[k]["answer"], b[k]["quality"], b[k]["calls"])
        assert set(b[k]["sources"]) == {"cassette"} and "words" in b[k]["quality"]
    assert all(r["calls"] == 2 for r in a.values() if r["protocol"] == "pairs")

    every = pytest_run("--collect-only", "-q", "--sorg-protocols=all", "test_evals.py::test_trial")
    ids = [line for line in every.stdout.splitlines() if "::test_trial[" in line]
    assert any("-pairs-" in i for i in ids) and any("-sequential-" in i for i in ids), every.stdout[-2000:]
