"""Recording shards merge (issue 28, item 9): before, each shard listed the hashes of a
different set of cassette files (it records into its own `shard-i-of-N.jsonl`), the lists were
compared whole, and `sorg merge` refused every recording shard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sorg.merge import MergeRefused, merge_runs
from sorg.record import RECORD_VERSION


def _shard(root: Path, name: str, cassettes: dict[str, str], tid: str) -> None:
    d = root / name
    d.mkdir(parents=True)
    rec = {"version": RECORD_VERSION, "trial_id": tid, "status": "ok", "prompt_version": "p1"}
    (d / "trials.jsonl").write_text(json.dumps(rec) + "\n")
    (d / "claims.json").write_text(json.dumps({"run": {"cassettes": cassettes}, "claims": []}))


def test_recording_shards_merge_and_a_changed_file_is_refused(tmp_path):
    _shard(tmp_path, "a", {"m/core.jsonl": "h0", "m/shard-1-of-2.jsonl": "h1"}, "t1")
    _shard(tmp_path, "b", {"m/core.jsonl": "h0", "m/shard-2-of-2.jsonl": "h2"}, "t2")
    res = merge_runs(tmp_path, "all", ["a", "b"])  # before: MergeRefused (cassette hashes differ)
    assert res.records == 2
    _shard(tmp_path, "c", {"m/core.jsonl": "hX"}, "t3")
    with pytest.raises(MergeRefused, match="cassette m/core.jsonl differs"):
        merge_runs(tmp_path, "bad", ["a", "c"])
