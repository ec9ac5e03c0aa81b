"""A changed request is one fault of the whole run (issue 28, item 5).

Before: `--sorg-temperature=0.5` over the committed cassettes failed all 160 sweep tests one by
one (10,038 lines, 9 minutes), most of it in `miss.nearest` comparing each miss with every
entry of the model. Now a miss whose generation settings match no recording, or whose own
sample was recorded with other messages, is `run_wide` with a `cause` the plugin reports once;
and the nearest-entry search looks only at the miss's own sample or its sort-order neighbours.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sorg.errors import CassetteMiss
from sorg.model.cassette import CassetteStore
from sorg.model.client import ModelClient
from sorg.model.miss import index_of
from sorg.pytest_plugin.faults import classify
from tests.model.helpers import make_request


def _record(tmp_path: Path, n: int = 40) -> Path:
    cas = tmp_path / "cas"
    c = ModelClient(cassette_dir=cas, record="new", cache_dir=None)
    for i in range(n):
        c.complete(make_request(f"question {i}", sample=f"trial-{i:03d}/a0/r0", temperature=0.7, max_tokens=160))
    return cas


def _miss(cas: Path, req) -> CassetteMiss:
    with pytest.raises(CassetteMiss) as info:
        ModelClient(cassette_dir=cas, record="none", cache_dir=None).complete(req)
    return info.value


def test_a_changed_setting_is_one_fault_of_the_whole_run(tmp_path, fake_backend):
    cas = _record(tmp_path)
    faults = set()
    for i in range(5):
        exc = _miss(cas, make_request(f"question {i}", sample=f"trial-{i:03d}/a0/r0", temperature=0.5, max_tokens=160))
        assert exc.run_wide  # before: False, so each of 160 trials failed on its own
        assert "temperature 0.5 asked, recorded 0.7" in exc.cause
        faults.add(classify(exc))
    assert len(faults) == 1 and next(iter(faults)).startswith("changed request: generation settings")


def test_changed_prompts_are_one_fault_and_a_new_trial_is_not(tmp_path, fake_backend):
    cas = _record(tmp_path)
    texts = {classify(_miss(cas, make_request(f"reworded {i}", sample=f"trial-{i:03d}/a0/r0", temperature=0.7,
                                               max_tokens=160))) for i in range(3)}
    assert len(texts) == 1 and "the prompts changed" in next(iter(texts))
    new = _miss(cas, make_request("question 99", sample="trial-099/a0/r0", temperature=0.7, max_tokens=160))
    assert not new.run_wide and classify(new) == ""  # an unrecorded trial is that trial's miss
    assert "Nearest recorded: sample 'trial-039/a0/r0'" in str(new)


def test_the_nearest_entry_search_is_indexed(tmp_path, fake_backend):
    cas = _record(tmp_path, n=200)
    idx = index_of(CassetteStore(cas), "fake/m")
    assert len(idx.candidates("trial-100/a0/r0")) == 1  # its own sample
    assert len(idx.candidates("trial-100/a9/r0")) <= 8  # sort-order neighbours, not 200 entries
