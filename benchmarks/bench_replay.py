#!/usr/bin/env python
"""Replay cost per call: sorg's cassettes at 1,000 and 100,000 entries, and vcrpy at 1,000.

Why: replay is what CI and every reader of a result pays for; it must stay cheap as a study's
cassettes grow. sorg's look-up is one read of the file into a dict, then a hash and a dict
access per call. vcrpy (what users reach for today) matches each request against the
cassette's recorded interactions. Both replay the same number of distinct requests on the
same machine in the same run; each figure includes loading the cassette (the first call),
divided over all calls. Each figure is the process's CPU time, not wall time: the machine is
shared, and wall time would also measure whatever else runs on it.

Usage: python benchmarks/bench_replay.py [--sizes 1000 100000] [--vcr-n 1000]
The last line printed is one JSON object:
{"sorg_ms_per_call_1k": ..., "sorg_ms_per_call_100k": ..., "vcrpy_ms_per_call_1k": ...}
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sorg.model.backends import RawReply, register_backend  # noqa: E402
from sorg.model.client import ModelClient  # noqa: E402
from sorg.model.types import Request  # noqa: E402

MODEL = "bench/model"
PROMPT = "You are agent {i} of 8. The task: plan a two-day offsite for 40 people; say what you will do. " * 3


def _request(i: int) -> Request:
    return Request(model=MODEL, messages=({"role": "system", "content": "You are a careful planner."},
                                          {"role": "user", "content": PROMPT.format(i=i)}),
                   temperature=0.7, max_tokens=160, seed=i & 0x7FFFFFFF,
                   sample=f"task-{i % 48}|sequential|n8|s{i}|agent|a{i % 8}|r0",
                   label=f"bench-{i}")


def record_cassette(root: Path, n: int, through_client: int = 1000) -> None:
    """A cassette of `n` entries.

    The first `through_client` calls are recorded through ModelClient with an in-process
    backend (the real write path: one locked, fsynced append per call). The rest are the same
    entries written in bulk (correct keys and summaries for their requests): fsyncing 100,000
    appends would only measure the disk, and replay reads the file the same way either way.
    """
    import asyncio

    from sorg.model.identity import field_digests, request_key

    async def backend(req: Request) -> RawReply:
        return RawReply(text="ROLE: planner\nCONTRIBUTION: " + "I will book the venue and plan meals. " * 6,
                        prompt_tokens=120, completion_tokens=60, model_version="bench-1", finish_reason="stop",
                        cost_usd=0.0)

    register_backend("bench", backend)
    client = ModelClient(cassette_dir=root, record="new", cassette_name="bench", cache_dir=None)
    first = min(n, through_client)

    async def go() -> None:
        for i in range(first):
            await client.acomplete(_request(i))

    asyncio.run(go())
    path = client.cassettes.path_for(MODEL)
    template = json.loads(path.read_text().splitlines()[0])
    with path.open("a", encoding="utf-8") as fh:
        for i in range(first, n):
            req = _request(i)
            entry = {**template, "key": request_key(req), "sample": req.sample, "label": req.label,
                     "req": field_digests(req)}
            fh.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")


def bench_sorg(n: int) -> float:
    """ms per call replaying n distinct requests from a cassette of n entries (load included)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        record_cassette(root, n)
        requests = [_request(i) for i in range(n)]
        client = ModelClient(cassette_dir=root, record="none", cassette_name="bench", cache_dir=None)
        t0 = time.process_time()
        for req in requests:
            reply = client.complete(req)
        elapsed = time.process_time() - t0
        assert reply.source == "cassette"
        return elapsed * 1000 / n


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content = "reply to " + body[:40].decode(errors="replace")
        payload = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def bench_vcrpy(n: int) -> float:
    """ms per call replaying n distinct `requests` POSTs to a loopback URL with vcrpy."""
    import logging

    import requests
    import vcr

    logging.getLogger("vcr").setLevel(logging.WARNING)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    bodies = [json.dumps({"model": "m", "messages": [{"role": "user", "content": PROMPT.format(i=i)}], "seed": i})
              for i in range(n)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cassette = str(Path(tmp) / "bench.yaml")
            my_vcr = vcr.VCR(match_on=["method", "uri", "body"])
            with my_vcr.use_cassette(cassette, record_mode="new_episodes"):
                with requests.Session() as s:
                    for body in bodies:
                        s.post(url, data=body, headers={"Content-Type": "application/json"})
            server.shutdown()  # replay must not reach the server
            t0 = time.process_time()
            with my_vcr.use_cassette(cassette, record_mode="none"):
                with requests.Session() as s:
                    for body in bodies:
                        r = s.post(url, data=body, headers={"Content-Type": "application/json"})
            elapsed = time.process_time() - t0
            assert r.json()["choices"][0]["message"]["content"].startswith("reply to")
            return elapsed * 1000 / n
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs=2, default=(1000, 100_000), metavar=("SMALL", "LARGE"))
    ap.add_argument("--vcr-n", type=int, default=1000)
    args = ap.parse_args(argv)
    small, large = args.sizes
    s_small = bench_sorg(small)
    print(f"sorg   {small:>7} entries: {s_small:.4f} ms/call", flush=True)
    s_large = bench_sorg(large)
    print(f"sorg   {large:>7} entries: {s_large:.4f} ms/call", flush=True)
    v_small = bench_vcrpy(args.vcr_n)
    print(f"vcrpy  {args.vcr_n:>7} requests: {v_small:.4f} ms/call", flush=True)
    print(json.dumps({"sorg_ms_per_call_1k": round(s_small, 4), "sorg_ms_per_call_100k": round(s_large, 4),
                      "vcrpy_ms_per_call_1k": round(v_small, 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
