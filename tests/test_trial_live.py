"""Live trials on the embedded model, recorded to a cassette and replayed identically.

Marked `local`: needs the `local` extra (llama-cpp-python + SmolLM2). Why both protocols: a
sequential trial chains each reply into the next prompt, a coordinator trial runs workers
concurrently; both must replay the exact same calls in the same order.
"""

from __future__ import annotations

import pytest

from sorg.model.client import ModelClient
from sorg.tasks import load_bank
from sorg.trial import run_trial

pytestmark = pytest.mark.local

TIMING = ("latency_s",)


@pytest.mark.parametrize("protocol", ["sequential", "coordinator"])
def test_live_trial_replays_byte_for_byte_except_timing(tmp_path, protocol):
    task = load_bank().select(levels=(1,), per_level=1)[0]
    live = run_trial(task, protocol, "local/smollm2-135m", 4, 0,
                     client=ModelClient(cassette_dir=tmp_path / "c", record="new", cache_dir=None))
    assert live.status == "ok", live.error
    assert live.sources == {"live": live.calls} and live.calls >= 4
    replay = run_trial(task, protocol, "local/smollm2-135m", 4, 0,
                       client=ModelClient(cassette_dir=tmp_path / "c", record="none", cache_dir=None))
    a, b = live.to_dict(), replay.to_dict()
    for d in (a, b):
        for k in TIMING + ("sources",):
            d.pop(k)
        for r in d["replies"]:
            r.pop("source")
    assert a == b
    assert replay.sources == {"cassette": live.calls}
