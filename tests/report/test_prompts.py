"""`sorg report --prompts`: each reply gets the prompt of its own call (matched on kind, agent
and round in call order), and a stream that does not replay is counted, never called live."""

from __future__ import annotations

import gzip
import json
from types import SimpleNamespace

from sorg.report.prompts import PROMPTS_FILE, _per_reply, capture
from sorg.store import TrialStore

from .synth import records


def _reply(kind: str, agent: int, rnd: int) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, agent=agent, round=rnd)


def test_each_reply_gets_its_own_calls_prompt():
    rec = SimpleNamespace(replies=[_reply("agent", 1, 0), _reply("agent", 0, 0), _reply("agent", 0, 1),
                                   _reply("assemble", 0, 2)])
    seen = [("t|p|n2|s0|agent|a0|r0", ["p00"]), ("t|p|n2|s0|agent|a1|r0", ["p10"]),
            ("t|p|n2|s0|judge|try0|x", ["judge"]), ("t|p|n2|s0|agent|a0|r1", ["p01"])]
    assert _per_reply(rec, seen) == [["p10"], ["p00"], ["p01"], None]  # no call for the assembly: None


def test_a_stream_that_does_not_replay_is_counted(tmp_path):
    st = TrialStore(tmp_path, "r")
    for r in records(tasks=1, seeds=1):
        st.append(r)
    st.close()
    got = capture(tmp_path / "r", tmp_path / "no-cassettes")  # tasks "t1" are in no bank: nothing replays
    assert got["trials"] == 0 and got["streams_failed"] == 2 and got["first_failure"]
    with gzip.open(tmp_path / "r" / PROMPTS_FILE, "rt") as fh:
        assert [json.loads(x) for x in fh] == []
