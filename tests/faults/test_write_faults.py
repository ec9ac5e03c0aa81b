"""Lost data (issue 28, items 6-9): torn lines of any length, a full disk, one writer per run.

Before: a torn last cassette line longer than 1 MiB was not repaired (the repair scanned the
last 1 MiB only), so the next append glued onto it and every replay of that model failed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from sorg.model.cassette import append_entry, read_entries


def _entry(key: str, text: str = "ok") -> dict:
    return {"v": 1, "key": key * 64, "model": "fake/m", "reply": {"text": text, "prompt_tokens": 1, "completion_tokens": 1}}


def test_a_torn_cassette_line_of_any_length_is_repaired(tmp_path: Path):
    path = tmp_path / "fake--m" / "default.jsonl"
    append_entry(path, _entry("a"))
    with path.open("ab") as fh:  # a 3 MiB reply cut short by a kill: no closing brace, no newline
        fh.write(b'{"v":1,"key":"torn","model":"fake/m","reply":{"text":"' + b"x" * (3 << 20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        append_entry(path, _entry("b"))
        keys = [e["key"] for _, e in read_entries(path)]
    assert keys == ["a" * 64, "b" * 64]  # before: CassetteCorrupt (line 2 glued "x..." onto entry b)
    assert path.read_bytes().count(b"\n") == 2
