"""The project a `sorg` command runs in, read as pytest would find it: its rootdir (the nearest
pytest.ini, pyproject.toml with [tool.pytest.ini_options], tox.ini or setup.cfg with a pytest
section, from the current directory up), its `sorg_bank` ini key, and the scorers and
protocols its rootdir `conftest.py` registers.

Why: `sorg score` in a user's project must score with the project's own bank and scorers, as
`pytest` there would, without starting a pytest session (which would collect the project's
tests). Scorers and protocols from packages arrive through entry points whatever the
directory (`sorg.registry`); only the rootdir's conftest.py needs importing here.
"""

from __future__ import annotations

import configparser
import importlib.util
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

_INI_FILES = (("pytest.ini", "pytest"), ("pyproject.toml", ""), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))


@dataclass(frozen=True)
class Project:
    """A project's rootdir, the file that made it one, and its ini keys (as strings)."""

    root: Path
    inifile: Path
    ini: dict[str, str]

    def bank(self) -> str | None:
        """The `sorg_bank` ini key as a path (relative to the rootdir), or None: the packaged bank."""
        raw = (self.ini.get("sorg_bank") or "").strip()
        return None if raw.lower() in ("", "packaged", "none") else str((self.root / raw).resolve())


def _ini_of(path: Path, section: str) -> dict[str, str] | None:
    if path.name == "pyproject.toml":
        try:
            opts = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {}).get("ini_options")
        except (OSError, tomllib.TOMLDecodeError):
            return None
        if opts is None:
            return None
        return {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in opts.items()}
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read(path, encoding="utf-8")
    except configparser.Error:
        return None
    if cp.has_section(section):
        return dict(cp[section])
    return {} if path.name == "pytest.ini" else None  # a pytest.ini makes a rootdir even when empty


def find(start: Path | None = None) -> Project | None:
    """The project around `start` (default: the current directory), or None outside any."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        for name, section in _INI_FILES:
            p = d / name
            if p.is_file():
                ini = _ini_of(p, section)
                if ini is not None:
                    return Project(d, p, ini)
    return None


def load_conftest(project: Project) -> Path | None:
    """Import the rootdir's conftest.py (its `@register_scorer` / `@protocol` run), as pytest
    would; the path imported, or None where there is none."""
    path = project.root / "conftest.py"
    if not path.is_file():
        return None
    root = str(project.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location("conftest", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("conftest", module)
    spec.loader.exec_module(module)
    return path
