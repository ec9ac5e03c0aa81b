"""Bad input stops before any paid call (issue 28, items 11-13).

Before: a bank regex with a nested quantifier (`(?:[^!]{1,5})+!`) passed validation and hung
scoring (10.6 s on a 28-character answer); a bank of `[` x 100,000 gave INTERNALERROR
(RecursionError)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sorg.errors import TaskBankError
from sorg.tasks import load_bank


def _bank(tmp_path: Path, patterns: list[str]) -> Path:
    task = {"id": "t-1", "level": 1, "title": "T", "prompt": "Plan the whole event for us, please.",
            "rubric": {"elements": [{"id": "e", "description": "d", "patterns": patterns}]}}
    (tmp_path / "d.json").write_text(json.dumps({"domain": "d", "tasks": [task]}))
    return tmp_path


@pytest.mark.parametrize("pattern", [r"(?:[^!]{1,5})+!", r"(a+)*b", r"(\w+ )+x", r"((?:ab|c)*d)+"])
def test_a_regex_that_backtracks_exponentially_is_refused(tmp_path, pattern):
    with pytest.raises(TaskBankError, match="nested quantifier"):
        load_bank(_bank(tmp_path, [pattern]))


@pytest.mark.parametrize("pattern", [r"(ab)+", r"\d+(,\d{3})*", r"(?:foo|bar)s?", r"(x{2})+", r"[(+]+a"])
def test_ordinary_regexes_still_load(tmp_path, pattern):
    assert len(list(load_bank(_bank(tmp_path, [pattern])))) == 1


def test_deep_json_is_a_task_bank_error(tmp_path):
    (tmp_path / "d.json").write_text("[" * 100_000)
    with pytest.raises(TaskBankError, match="nested too deep"):
        load_bank(tmp_path)
    (tmp_path / "d.json").write_text("[" * 40 + "]" * 40)
    with pytest.raises(TaskBankError, match="deeper than 32"):
        load_bank(tmp_path)


@pytest.mark.slow  # pytest runs in a subprocess
def test_bad_settings_stop_the_run_before_any_trial(project):
    """Before: each of these ran paid trials first, then INTERNALERROR (run id, report dir,
    corrupt store), or failed every trial (100,000 agents, a cassette dir that is a file)."""
    root = project.path
    (root / "afile").write_text("not a directory\n")
    (root / "reports" / "bad").mkdir(parents=True)
    (root / "reports" / "bad" / "trials.jsonl").write_text("garbage\n")
    log = root / "computed.log"
    for args, needle in [(["--sorg-run-id=../escape"], "is not a plain run name"),
                         (["--sorg-agents=4,100000"], "100000 agents is more than sorg runs in one team"),
                         (["--sorg-report-dir=afile"], "is a file, not a directory"),
                         (["--sorg-cassette-dir=afile"], "is a file, not a directory"),
                         (["--sorg-run-id=bad"], "continues a run whose store cannot be read")]:
        r = project.run("test_evals.py", *args, SORG_FAKE_LOG=str(log))
        assert r.ret == 4 and needle in r.stderr.str(), (args, r.stderr.str())
        assert not log.exists(), args  # no trial ran
    assert not (root.parent / "escape").exists()


def test_a_reply_over_the_size_cap_is_a_provider_error(tmp_path, fake_backend, monkeypatch):
    """Before: no cap: two 50 MB replies made a 734 MB trials.jsonl and 2.1 GB RSS."""
    from sorg.errors import ModelError
    from sorg.model.backends import RawReply
    from sorg.model.client import ModelClient
    from tests.model.helpers import make_request

    monkeypatch.setenv("SORG_MAX_REPLY_BYTES", "100000")
    fake_backend.faults = [RawReply(text="x" * 2_000_000, prompt_tokens=1, completion_tokens=1)]
    c = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=None)
    with pytest.raises(ModelError, match="reply of 2,000,000 bytes is over the max_reply_bytes setting"):
        c.complete(make_request("big"))
    assert not (tmp_path / "cas").exists() or not list((tmp_path / "cas").rglob("*.jsonl"))
    assert c.complete(make_request("small", sample="s1")).text.startswith("reply to s1")


def test_a_reply_with_a_lone_surrogate_is_a_provider_error(tmp_path, fake_backend):
    """Before: the cassette line could not be encoded, and the trial crashed with a traceback."""
    from sorg.errors import ModelError
    from sorg.model.backends import RawReply
    from sorg.model.client import ModelClient
    from tests.model.helpers import make_request

    fake_backend.faults = [RawReply(text="ok \ud800 then", prompt_tokens=1, completion_tokens=1)]
    c = ModelClient(cassette_dir=tmp_path / "cas", record="new", cache_dir=None)
    with pytest.raises(ModelError, match="not valid Unicode"):
        c.complete(make_request("q"))


def test_a_nan_cost_in_a_cassette_is_corrupt(tmp_path):
    """Before: NaN costs were accepted and summed into the report's dollars."""
    from sorg.errors import CassetteCorrupt
    from sorg.model.cassette import read_entries

    p = tmp_path / "m.jsonl"
    p.write_text('{"v":1,"key":"' + "a" * 64 + '","model":"fake/m","cost_usd":NaN,'
                 '"reply":{"text":"x","prompt_tokens":1,"completion_tokens":1}}\n')
    with pytest.raises(CassetteCorrupt, match="cost_usd"):
        list(read_entries(p))


@pytest.mark.slow  # litellm through a fake HTTP server
def test_a_malformed_200_reply_is_named_not_called_http_500(tmp_path):
    from sorg.errors import ModelError
    from sorg.model.client import ModelClient
    from sorg.model.types import Request
    from tests.fakes.openai_server import FakeOpenAI, malformed

    with FakeOpenAI() as srv:
        srv.script(malformed(), malformed())
        c = ModelClient(cassette_dir=None, record="all", cache_dir=None, retries=1, backoff_s=0.01,
                        prices={"openai/x": {"input": 0, "output": 0}}, state_dir=tmp_path)
        with pytest.raises(ModelError) as info:
            c.complete(Request(model="openai/x", messages=({"role": "user", "content": "hi"},),
                               params={"api_base": srv.url, "api_key": "sk-x"}))
    assert "malformed reply" in str(info.value) and "HTTP 500" not in str(info.value)


def test_an_unpriced_model_is_not_priced_by_the_name_the_provider_reports():
    """Before: a self-hosted model answering as "gpt-4" was charged GPT-4's price."""
    import warnings

    import litellm  # noqa: F401  (pricing looks litellm's cost map up only once it is loaded)

    from sorg.model.pricing import Prices

    prices = Prices({})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert prices.cost("openai/my-selfhosted-llm", 1000, 1000, "gpt-4") == 0.0
    assert prices.cost("openai/gpt-4o", 1000, 1000, "gpt-4o-2024-08-06") > 0  # a dated version still prices
