"""Provider faults seen from a sweep: real `run_trial`, real protocols, litellm's OpenAI path to a
fake server on loopback (OPENAI_API_BASE points at it).

tests/model/test_live.py proves the model door retries each fault on one call. Here the unit
is the trial and the sweep (issue 6): a transient fault is retried and the trial is fine; a
persistent one fails that one trial with a clear error (status "error", naming the trial and
the fault) while the next trial runs; and nothing wrong is cached or recorded, so a rerun
goes live again and succeeds. "Cut mid-stream" (a reply whose body stops short of its
Content-Length) needs a socket-level fault the shared fake does not script, so it has its own
small server below.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sorg.model.client import ModelClient
from sorg.tasks import load_bank
from sorg.trial import run_trial
from tests.fakes.openai_server import FakeOpenAI, empty, error, hang, malformed, reply

MODEL = "openai/fake"
TASK = load_bank().select(levels=(1,), per_level=1)[0]


class CutServer:
    """OpenAI-compatible replies whose body is cut after `cut_bytes` (first `cuts` requests),
    then whole replies."""

    def __init__(self, cuts: int) -> None:
        self.cuts = cuts
        self.seen = 0
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.seen += 1
                body = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 1, "model": "fake-cut",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "a whole reply after the cut"}}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.seen <= outer.cuts:
                    self.wfile.write(body[: len(body) // 3])  # then the connection dies
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _client(tmp_path: Path, record: str = "new") -> ModelClient:
    return ModelClient(cassette_dir=tmp_path / "cas", record=record, cache_dir=tmp_path / "cache",
                       backoff_s=0.01, retries=2, timeout_s=1.5, prices={MODEL: {"input": 0.0, "output": 0.0}})


def _written(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "cas" in p.parts)


FAULTS = {
    "429_retry_after": lambda: error(429, "rate limited, slow down", retry_after=0.2),
    "500": lambda: error(500, "internal oops"),
    "503": lambda: error(503, "upstream overloaded"),
    "malformed_json": malformed,
    "empty_reply": empty,
    "hang": lambda: hang(20),
}
CLEAR = {  # what the failed trial's error must say
    "429_retry_after": "rate limited", "500": "internal oops", "503": "upstream overloaded",
    "malformed_json": "", "empty_reply": "empty", "hang": "",
}


@pytest.fixture
def provider_env(monkeypatch):
    def point(url: str) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-secret")
        monkeypatch.setenv("OPENAI_API_BASE", url)
        monkeypatch.setenv("SORG_RUN_ID", "faults")
    return point


def _sweep(tmp_path: Path, seeds: range) -> list:
    client = _client(tmp_path)
    try:
        return [run_trial(TASK, "single", MODEL, 1, s, client=client, scorers=("coverage",)) for s in seeds]
    finally:
        client.close()


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_fails_only_its_trial_then_the_sweep_goes_on_and_nothing_wrong_is_kept(
        tmp_path: Path, provider_env, fault: str) -> None:
    with FakeOpenAI() as srv:
        provider_env(srv.url)
        # trial s0 fine; s1: the fault on every attempt (retries=2: 3 attempts); s2: once, then fine
        srv.script(reply("plan zero"), *[FAULTS[fault]() for _ in range(3)], FAULTS[fault](), reply("plan two"))
        t0 = time.perf_counter()
        recs = _sweep(tmp_path, range(3))
        assert time.perf_counter() - t0 < 60
        assert [r.status for r in recs] == ["ok", "error", "ok"], [r.error for r in recs]
        failed = recs[1]
        assert failed.trial_id in failed.error and "after 3 attempt(s)" in failed.error, failed.error
        assert CLEAR[fault].lower() in failed.error.lower(), failed.error
        assert failed.answer == "" and failed.calls == 0
        assert all(0.0 <= v <= 1.0 for v in failed.quality.values())  # a failed trial is not scored as a zero
        assert "plan zero" in recs[0].answer and "plan two" in recs[2].answer
        written = _written(tmp_path)
        assert written.count(b"\n") == 2, written  # two good replies recorded, nothing else
        for bad in (b"internal oops", b"upstream overloaded", b"rate limited", b"not json", b"hung request"):
            assert bad not in written
        # nothing wrong cached: the failed trial reruns live and succeeds
        srv.script(reply("plan one, at last"))
        again = _sweep(tmp_path, range(1, 2))[0]
        assert again.status == "ok" and "plan one, at last" in again.answer


def test_reply_cut_mid_stream_is_retried_and_a_persistent_cut_fails_one_trial(tmp_path: Path, provider_env) -> None:
    srv = CutServer(cuts=1)
    try:
        provider_env(srv.url)
        (ok,) = _sweep(tmp_path, range(1))
        assert ok.status == "ok" and "a whole reply after the cut" in ok.answer, ok.error
        assert srv.seen == 2
        srv.cuts, srv.seen = 3, 0
        failed, after = _sweep(tmp_path / "b", range(1, 3))
        assert failed.status == "error" and failed.trial_id in failed.error, failed.error
        assert after.status == "ok"
        assert _written(tmp_path / "b").count(b"\n") == 1
    finally:
        srv.close()
