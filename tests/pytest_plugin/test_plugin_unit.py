"""Unit tests of the plugin's helpers: option parsing, the store, the report."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from sorg import options, report
from sorg.errors import StoreCorrupt
from sorg.store import TrialStore, iter_records, read_records, resolve_run_dir

from .fake_trials import fake_run_trial


def _task(i=1, level=1):
    return SimpleNamespace(id=f"t{i}", level=level, domain="d")


def _rec(i=1, protocol="sequential", seed=0):
    return fake_run_trial(_task(i), protocol, "fake/m", 4, seed)


class _Cfg:
    def __init__(self, cli=None, ini=None, root="/r"):
        self.cli, self.ini, self.rootpath = cli or {}, ini or {}, Path(root)

    def getoption(self, name, default=None):
        return self.cli.get(name, default)

    def getini(self, name):
        return self.ini.get(name)


def test_options_precedence_cli_env_ini_default():
    cfg = _Cfg(cli={"sorg_agents": "2,3"}, ini={"sorg_agents": "5", "sorg_seeds": "4", "sorg_models": "a/b"})
    o = options.resolve(cfg, env={"SORG_AGENTS": "7", "SORG_MODELS": "fake/x,fake/y"})
    assert o.agents == [2, 3]          # command line beats env and ini
    assert o.models == ["fake/x", "fake/y"]  # env beats ini
    assert o.seeds == 4                # ini beats default
    assert o.record == "none" and o.protocols == ["all"] and o.levels == [1, 2, 3, 4]
    assert o.scorers == ["coverage", "judge_q"] and o.judge_model == "self" and o.stream_length == 1
    assert o.report_dir == "/r/reports" and o.cache_dir == "/r/.sorg/cache"
    assert options.resolve(_Cfg(cli={"sorg_cassette_dir": "none"}), env={}).cassette_dir is None


@pytest.mark.parametrize("flag,value,needle", [
    ("sorg_record", "sometimes", "--sorg-record"),
    ("sorg_agents", "4,x", "--sorg-agents"),
    ("sorg_seeds", "0", "--sorg-seeds"),
    ("sorg_budget_usd", "-1", "--sorg-budget-usd"),
])
def test_options_bad_values_name_the_setting(flag, value, needle):
    with pytest.raises(ValueError, match=needle):
        options.resolve(_Cfg(cli={flag: value}), env={})


def test_store_appends_dedupes_and_points_latest(tmp_path):
    st = TrialStore(tmp_path, "run1")
    assert not (tmp_path / "run1").exists()  # nothing until the first record
    assert st.append(_rec(1)) and st.append(_rec(2).to_dict())
    assert not st.append(_rec(1))
    st.close()
    recs = read_records(resolve_run_dir(tmp_path / "latest") / "trials.jsonl")
    assert [r.trial_id for r in recs] == [_rec(1).trial_id, _rec(2).trial_id]
    assert resolve_run_dir(tmp_path) == resolve_run_dir(tmp_path / "latest")
    # reusing the run id continues the file, still without duplicates
    st2 = TrialStore(tmp_path, "run1")
    assert not st2.append(_rec(2)) and st2.append(_rec(3))
    st2.close()
    assert len(read_records(tmp_path / "run1" / "trials.jsonl")) == 3


@pytest.mark.slow
def test_store_recovers_a_line_cut_by_a_kill_at_every_byte(tmp_path):
    st = TrialStore(tmp_path, "r")
    st.append(_rec(1))
    st.close()
    full = (tmp_path / "r" / "trials.jsonl").read_bytes()
    second = (json.dumps(_rec(2).to_dict()) + "\n").encode()
    for cut in range(1, len(second)):  # every byte of the last line
        p = tmp_path / "r" / "trials.jsonl"
        p.write_bytes(full + second[:cut])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            recs = read_records(p)
        assert [r.trial_id for r in recs] == [_rec(1).trial_id]
        assert "no newline" in str(w[0].message) and ":2:" in str(w[0].message)
        with pytest.raises(StoreCorrupt, match=":2:"):
            list(iter_records(p, recover_tail=False))
        st = TrialStore(tmp_path, "r")  # appending repairs the tail first
        st.append(_rec(3))
        st.close()
        assert [r.trial_id for r in read_records(p)] == [_rec(1).trial_id, _rec(3).trial_id]


def test_store_errors_name_file_and_line(tmp_path):
    p = tmp_path / "trials.jsonl"
    good = json.dumps(_rec(1).to_dict())
    p.write_bytes(good.encode() + b"\n\xff\xfe\n")
    with pytest.raises(StoreCorrupt, match=r"trials.jsonl:2: not UTF-8"):
        read_records(p)
    p.write_text(good + "\n{oops\n")
    with pytest.raises(StoreCorrupt, match=r"trials.jsonl:2: not a JSON object"):
        read_records(p)
    other = dict(_rec(2).to_dict(), version=99)
    p.write_text(good + "\n" + json.dumps(other) + "\n")
    with pytest.raises(StoreCorrupt, match=r"trials.jsonl:2: trial record version 99"):
        read_records(p)
    p.write_text(good + "\n" + good + "\n")
    assert len(read_records(p)) == 1  # duplicates: first wins


@pytest.mark.slow
def test_report_builds_the_same_files_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("SORG_FAKE_BUDGET", "1")  # broadcast cells cut short by the budget
    st = TrialStore(tmp_path, "r")
    for i in range(1, 5):
        for proto in ("sequential", "coordinator", "broadcast"):
            for seed in (0, 1):
                st.append(_rec(i, proto, seed))
    st.close()
    run = tmp_path / "r"
    rows = [{"nodeid": "evals/test_c.py::test_x", "outcome": "passed", "message": "fine",
             "verdict": {"test": "Wilcoxon", "n": 8, "estimate": 0.3, "ci": [0.2, 0.4], "effect": 2.0,
                         "effect_name": "d_z", "p": 1e-4, "p_holm": 2e-4}}]
    report.write_claims(run, rows, {"sorg_version": "x", "cassettes": {"fake/default.jsonl": "abc"}})
    first = report.build(run)
    md1 = (run / "summary.md").read_text()
    js1 = (run / "summary.json").read_text()
    report.build(run)
    assert (run / "summary.md").read_text() == md1 and (run / "summary.json").read_text() == js1
    assert "incomplete: budget" in md1  # broadcast cells were cut short by the budget
    assert "test_x" in md1 and "PASSED" in md1 and "2.00e-04" in md1
    assert "`fake/default.jsonl` abc" in md1
    s = json.loads(js1)
    seq = [c for c in s["cells"] if c["protocol"] == "sequential"][0]
    assert seq["trials"] == 8 and 0.6 < seq["quality"]["mean"] < 1.0
    lo, hi = seq["quality"]["ci"]
    assert lo <= seq["quality"]["mean"] <= hi
    assert {p.name for p in first} >= {"summary.md", "summary.json"}


def test_fast_record_dict_equals_to_dict():
    import dataclasses

    from sorg.plugin import record_dict
    from sorg.record import AgentReply, TrialRecord, UsageRow

    base = _rec(1)
    rich = dataclasses.replace(
        base,
        per_agent=(UsageRow(0, 2, 10, 5, 0.1), UsageRow(1, 1, 3, 4, 0.0)),
        per_round=(UsageRow(0, 3, 13, 9, 0.1),),
        replies=(AgentReply(0, 0, "Planner", "planner", False, "text", builds_on=(1, 2), defers_to=(3,)),),
        judge={"score": 0.5, "raw": "x"},
    )
    for rec in (base, rich):
        fast = record_dict(rec)
        assert json.dumps(fast, sort_keys=True) == json.dumps(rec.to_dict(), sort_keys=True)
        assert TrialRecord.from_dict(fast) == rec
    nested = dataclasses.replace(base, judge={"scores": [1, 2]})
    assert TrialRecord.from_dict(record_dict(nested)) == nested


def test_a_trial_travels_as_its_store_line(tmp_path):
    """The worker encodes the record; the controller writes that line as `append` would."""
    import dataclasses

    from sorg.plugin import trial_payload
    from sorg.record import AgentReply

    rec = dataclasses.replace(_rec(1), replies=(AgentReply(0, 0, "Planner", "planner", False, "naïve\nplan"),))
    payload = trial_payload(rec)
    assert payload["trial_id"] == rec.trial_id and "\n" not in payload["line"]
    by_line, by_record = TrialStore(tmp_path, "a"), TrialStore(tmp_path, "b")
    assert by_line.append_line(payload["trial_id"], payload["line"]) and by_record.append(rec)
    assert not by_line.append_line(payload["trial_id"], payload["line"])  # deduplicated
    by_line.close(), by_record.close()
    assert (tmp_path / "a" / "trials.jsonl").read_bytes() == (tmp_path / "b" / "trials.jsonl").read_bytes()
    assert read_records(tmp_path / "a" / "trials.jsonl") == [rec]
    assert read_records(tmp_path / "a" / "trials.jsonl", with_replies=False)[0].replies == ()
    with pytest.raises(ValueError, match="not one encoded record line"):
        by_line.append_line("t2", '{"a": 1}\n{"b": 2}')
    with pytest.raises(ValueError, match="without a trial_id"):
        by_line.append_line("", payload["line"])


def test_cli_errors_and_local_status(tmp_path, monkeypatch, capsys):
    from sorg import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "has no trials.jsonl" in capsys.readouterr().err
    assert cli.main(["plan", "evals"]) == 2  # neither a pilot nor stated per-trial figures
    assert cli.main(["local", "status"]) == 1
    assert "not running" in capsys.readouterr().out


def test_model_test_ids_are_short_and_fall_back_to_the_model_slug():
    """The model part of a test id: the last path part while that is unique, else the one
    `model_slug` (two models sharing a short name must not share test ids)."""
    from sorg.model.identity import model_slug
    from sorg.pytest_plugin.params import model_test_ids

    assert model_test_ids(["local/smollm2-135m", "openai/gpt-4o"]) == {
        "local/smollm2-135m": "smollm2-135m", "openai/gpt-4o": "gpt-4o"}
    both = model_test_ids(["a/m", "b/m", "c/x"])
    assert both == {m: model_slug(m) for m in ("a/m", "b/m", "c/x")} == {"a/m": "a--m", "b/m": "b--m", "c/x": "c--x"}


def test_trial_and_stream_ids_name_the_model_by_its_slug():
    from sorg.model.identity import model_slug
    from sorg.trial import stream_id, trial_id

    assert trial_id("t1", "shared", "local/smollm2-135m", 4, 0) == "t1.shared.local--smollm2-135m.n4.s0"
    assert stream_id("a..b+2", "shared", "openai/gpt-4o", 8, 1) == f"a..b+2.shared.{model_slug('openai/gpt-4o')}.n8.s1"
    assert trial_id("t1", "shared", "m", 4, 0, "a..b+2", 1) == "t1.shared.m.n4.s0.a..b+2@1"
