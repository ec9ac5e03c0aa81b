"""Inference past one machine: sorg's model door, an OpenAI-compatible router process (a real
`litellm.Router`, as in a LiteLLM proxy) and N inference servers that each answer one
request at a time (one llama.cpp slot, one vLLM replica at its batch limit).

The claim shown: with the per-model `concurrency` option above N, the router keeps every
server busy at once, so throughput grows with the servers. Asserted on what the servers saw
(how many were busy together, how the calls spread), not on wall-clock time; the calls per
second are printed for the record (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sorg.model.client import ModelClient
from sorg.model.types import Request

pytestmark = pytest.mark.slow  # timed throughput of servers in subprocesses: left out of the quick selection

ROOT = Path(__file__).resolve().parents[2]
SERVICE_S = 0.4  # one reply's compute time on a slot: long next to litellm's own per-call CPU


class Fleet:
    """N one-slot servers; counts requests per server and the peak busy across the fleet."""

    def __init__(self, n: int) -> None:
        self.lock = threading.Lock()
        self.busy = 0
        self.peak = 0
        self.served = [0] * n
        self.servers = [self._server(i) for i in range(n)]

    def _server(self, i: int) -> ThreadingHTTPServer:
        fleet, slot = self, threading.Lock()

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with slot:  # one request at a time per server
                    with fleet.lock:
                        fleet.busy += 1
                        fleet.peak = max(fleet.peak, fleet.busy)
                        fleet.served[i] += 1
                    time.sleep(SERVICE_S)
                    with fleet.lock:
                        fleet.busy -= 1
                text = "reply to " + body["messages"][-1]["content"]
                out = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "fake-1",
                                  "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                               "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{s.server_address[1]}/v1" for s in self.servers]

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def _proxy(urls: list[str]) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "tests.model.router_proxy", "--name", "fake"]
    for u in urls:
        args += ["--backend", u]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        pytest.fail(f"the router proxy did not start: {line!r}")
    return proc, f"http://127.0.0.1:{line.split()[1]}/v1"


async def _sweep(client: ModelClient, api_base: str, calls: int, prefix: str = "q") -> None:
    reqs = [Request(model="openai/fake", messages=({"role": "user", "content": f"{prefix}{i}"},), sample=f"{prefix}{i}",
                    label=f"t{i}", params={"api_base": api_base, "api_key": "sk-to-proxy"}) for i in range(calls)]
    done = await asyncio.gather(*(client.acomplete(r) for r in reqs))
    assert [c.text for c in done] == [f"reply to {prefix}{i}" for i in range(calls)]


@pytest.mark.parametrize("n_servers", [1, 2, 4])
def test_throughput_grows_with_the_servers_behind_a_router(n_servers: int, tmp_path: Path) -> None:
    fleet = Fleet(n_servers)
    proc, api_base = _proxy(fleet.urls())
    try:
        client = ModelClient(cassette_dir=None, record="all", cache_dir=None, concurrency=8, retries=0,
                             timeout_s=60, prices={"openai/fake": {"input": 0, "output": 0}}, state_dir=tmp_path)
        asyncio.run(_sweep(client, api_base, 1, prefix="warm"))  # litellm's import and first connection
        fleet.served, fleet.peak = [0] * n_servers, 0
        calls = 4 * n_servers
        t0 = time.perf_counter()
        asyncio.run(_sweep(client, api_base, calls))
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)
        fleet.close()
    print(f"\n{n_servers} server(s): {calls} calls in {wall:.2f} s = {calls / wall:.1f} calls/s "
          f"(one server alone: at most {1 / SERVICE_S:.1f} calls/s); peak busy {fleet.peak}, per server {fleet.served}")
    assert sum(fleet.served) == calls
    assert all(s > 0 for s in fleet.served)  # the router spread the calls over every server
    assert fleet.peak == n_servers  # ... and kept them all busy at once: throughput scales with N
