"""No module of `sorg` is over MAX_LINES lines unless its docstring says why.

Why: a long module usually holds more than one concern, and each concern is easier to read,
test and change in a module named for it (issue 15). A module that is long for a reason says
so in a docstring line starting ``Why this module is long:``, where a reader meets it first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sorg"
MAX_LINES = 400
REASON = "Why this module is long:"
MODULES = sorted(PACKAGE.rglob("*.py"))


def oversize_problem(path: Path, max_lines: int = MAX_LINES) -> str | None:
    """Why `path` breaks the size rule, or None when it keeps it: at most `max_lines` lines,
    or a module docstring with a line that starts with REASON (after indentation)."""
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    if lines <= max_lines:
        return None
    doc = ast.get_docstring(ast.parse(text, filename=str(path))) or ""
    if any(line.strip().startswith(REASON) for line in doc.splitlines()):
        return None
    return (f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} has {lines} lines "
            f"(over {max_lines}): split it into modules of one concern each, or give the reason "
            f"in its docstring on a line starting {REASON!r}")


def test_the_package_has_modules_to_check() -> None:
    assert len(MODULES) > 20 and PACKAGE / "model" / "client.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_module_is_short_or_says_why(path: Path) -> None:
    problem = oversize_problem(path)
    assert problem is None, problem


def test_the_rule_catches_a_long_module_and_accepts_a_reason(tmp_path: Path) -> None:
    body = "".join(f"x{i} = {i}\n" for i in range(MAX_LINES))
    short = tmp_path / "short.py"
    short.write_text('"""Short."""\n' + body[: body.index("x399")], encoding="utf-8")
    long = tmp_path / "long.py"
    long.write_text('"""Long, with no reason."""\n' + body, encoding="utf-8")
    reasoned = tmp_path / "reasoned.py"
    reasoned.write_text(f'"""Long.\n\n{REASON} one table, read as one.\n"""\n' + body, encoding="utf-8")
    in_a_comment = tmp_path / "comment.py"
    in_a_comment.write_text(f'"""Long."""\n# {REASON} not in the docstring\n' + body, encoding="utf-8")
    assert oversize_problem(short) is None
    assert oversize_problem(reasoned) is None
    assert "401 lines" in (oversize_problem(long) or "")
    assert oversize_problem(in_a_comment) is not None
