#!/usr/bin/env python
"""Live throughput on the embedded model: sorg's model door versus raw HTTP, and concurrent agents.

Why: every live call of a sweep goes through `ModelClient` (identity hashing, retries, the
concurrency limit, budget and cost bookkeeping, litellm); that must cost next to nothing next
to the model itself (target: under 5% fewer calls/s than the same requests sent straight to the
llama.cpp server with the same concurrency). And a protocol whose agents speak at once
(shared, broadcast) must finish faster when its calls run concurrently than when the same calls
are made one after another (ModelClient(concurrency=1)).

Method: the embedded servers (`sorg.model.local.ensure_servers`: `SORG_LOCAL_SERVERS` replicas,
each answering one request at a time, in their own state dir), a warm-up call, then N distinct
requests (different prompts and seeds, so nothing is cached; no cassette,
no cache) three times: raw httpx (spread over the same replicas by the same fewest-in-flight
rule the client uses), sorg, raw again (the raw figure is the mean of the two, which
cancels drift such as another process's load). Then one `shared` and one `broadcast` trial at
`--agents` agents, with the client's concurrency at `--concurrency` and at 1.

    python benchmarks/bench_live.py [--calls 32] [--concurrency 4] [--max-tokens 24] [--agents 4]

The last line printed is one JSON object (calls_per_s and tokens_per_s for sorg and raw,
sorg_overhead_pct, and per protocol concurrent_s, sequential_s, speedup).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODEL = "local/smollm2-135m"
STATE: Path = Path(".")  # set in main(): clients and ensure_server must share one state dir
TOPICS = ("a team offsite", "a product launch", "an incident review", "a course syllabus", "a research plan",
          "a software design review", "a hiring plan", "a conference")


def _messages(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a concise planner."},
            {"role": "user", "content": f"Request {i}: name the first step of planning {TOPICS[i % len(TOPICS)]}."}]


async def _raw(api_bases: list[str], n: int, offset: int, concurrency: int, max_tokens: int) -> tuple[float, int]:
    """(seconds, completion tokens) for n requests posted straight to the servers."""
    import httpx

    sem = asyncio.Semaphore(concurrency)
    inflight = [0] * len(api_bases)
    tokens = 0

    async def one(client: httpx.AsyncClient, i: int) -> None:
        nonlocal tokens
        async with sem:
            pick = min(range(len(api_bases)), key=lambda j: inflight[j])
            inflight[pick] += 1
            try:
                r = await client.post(f"{api_bases[pick]}/chat/completions", json={
                    "model": "smollm2-135m", "messages": _messages(i), "max_tokens": max_tokens,
                    "temperature": 0.7, "seed": i})
            finally:
                inflight[pick] -= 1
            r.raise_for_status()
            tokens += int(r.json()["usage"]["completion_tokens"])

    async with httpx.AsyncClient(timeout=600) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(one(client, offset + i) for i in range(n)))
        return time.perf_counter() - t0, tokens


async def _sorg(n: int, offset: int, concurrency: int, max_tokens: int) -> tuple[float, int]:
    """(seconds, completion tokens) for n requests through ModelClient (no cassette, no cache)."""
    from sorg.model.client import ModelClient
    from sorg.model.types import Request

    client = ModelClient(cassette_dir=None, cache_dir=None, concurrency=concurrency, timeout_s=600,
                         state_dir=STATE)
    reqs = [Request(model=MODEL, messages=tuple(_messages(offset + i)), max_tokens=max_tokens, temperature=0.7,
                    seed=offset + i, sample=f"bench-live-{offset + i}", label="bench_live") for i in range(n)]
    try:
        t0 = time.perf_counter()
        replies = await asyncio.gather(*(client.acomplete(r) for r in reqs))
        elapsed = time.perf_counter() - t0
    finally:
        client.close()
    assert all(r.source == "live" for r in replies)
    return elapsed, sum(r.completion_tokens for r in replies)


def _trial_seconds(protocol: str, agents: int, concurrency: int, max_tokens: int) -> tuple[float, int]:
    from sorg.model.client import ModelClient
    from sorg.tasks import load_bank
    from sorg.trial import run_trial

    task = load_bank().select(levels=(2,), per_level=1)[0]
    client = ModelClient(cassette_dir=None, cache_dir=None, concurrency=concurrency, timeout_s=600,
                         state_dir=STATE)
    try:
        t0 = time.perf_counter()
        rec = run_trial(task, protocol, MODEL, agents, 0, client=client, max_tokens=max_tokens, scorers=("coverage",))
        elapsed = time.perf_counter() - t0
    finally:
        client.close()
    if rec.status != "ok":
        raise SystemExit(f"{protocol} trial failed: {rec.error}")
    return elapsed, rec.calls


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=32, help="requests per measurement (default 32)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--agents", type=int, default=4, help="team size of the concurrency comparison")
    ap.add_argument("--state-dir", type=Path, help="embedded server state dir (default: a temp dir)")
    args = ap.parse_args(argv)

    from sorg.model.local import ensure_servers, stop_server, threads_per_server

    global STATE
    STATE = args.state_dir or Path(tempfile.mkdtemp(prefix="sorg-bench-live-"))
    api_bases = ensure_servers(STATE / "local")  # where ModelClient(state_dir=STATE) looks for them
    try:
        asyncio.run(_raw(api_bases, 1, 10**6, 1, args.max_tokens))  # warm-up: model load, first-call costs
        asyncio.run(_sorg(1, 10**6 + 1, 1, args.max_tokens))  # and litellm's import
        n, c, mt = args.calls, args.concurrency, args.max_tokens
        raw1 = asyncio.run(_raw(api_bases, n, 0, c, mt))
        srg = asyncio.run(_sorg(n, n, c, mt))
        raw2 = asyncio.run(_raw(api_bases, n, 2 * n, c, mt))
        raw_s, raw_tok = (raw1[0] + raw2[0]) / 2, (raw1[1] + raw2[1]) / 2
        out: dict = {
            "calls": n, "concurrency": c, "max_tokens": mt, "servers": len(api_bases),
            "threads_per_server": threads_per_server(),
            "raw_calls_per_s": round(n / raw_s, 3), "sorg_calls_per_s": round(n / srg[0], 3),
            "raw_tokens_per_s": round(raw_tok / raw_s, 2), "sorg_tokens_per_s": round(srg[1] / srg[0], 2),
            # time per call, sorg over raw; token counts differ a little (sampling), calls do not
            "sorg_overhead_pct": round((srg[0] / raw_s - 1) * 100, 2),
            "raw_s_runs": [round(raw1[0], 3), round(raw2[0], 3)], "sorg_s": round(srg[0], 3),
        }
        for protocol in ("shared", "broadcast"):
            conc, calls = _trial_seconds(protocol, args.agents, c, mt)
            seq, calls_seq = _trial_seconds(protocol, args.agents, 1, mt)
            out[protocol] = {"agents": args.agents, "calls": calls, "concurrent_s": round(conc, 3),
                             "sequential_s": round(seq, 3), "speedup": round(seq / conc, 3),
                             "same_calls": calls == calls_seq}
        out["targets_met"] = {"sorg_overhead_under_5pct": out["sorg_overhead_pct"] < 5,
                              "concurrent_faster": all(out[p]["speedup"] > 1 for p in ("shared", "broadcast"))}
        print(json.dumps(out))
        return 0
    finally:
        if args.state_dir is None:
            stop_server(STATE / "local", force=True)


if __name__ == "__main__":
    sys.exit(main())
