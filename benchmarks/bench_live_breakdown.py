#!/usr/bin/env python
"""Where a live call's time goes on the embedded model (issue #26, "recording faster").

Why: recording the study on 2 CPU cores takes hours; before changing how it records we measure
what a study call spends its time on, on the same llama.cpp server driven directly (raw HTTP)
and through sorg's model door:

- prompt processing, cold: the request with a nonce at the very start (nothing reusable);
- prompt processing with the shared prefix: the same turns in trial order (the system prompt and
  the mission are a shared prefix; llama-cpp-python reuses the longest common prefix with the
  previous prompt of the same server);
- generation: tokens per second with the reply schema's grammar (as the study asks) and without;
- the model door: the same requests through `ModelClient` (litellm, hashing, bookkeeping; no
  cache, no cassette) against raw HTTP.

The requests are the study's own: every turn of a Sequential trial at 8 agents on a level-2 task
(captured from the protocol with scripted replies) and the judge's request on the collated
answer. One server, one request at a time (no queueing in the figures).

    SORG_LOCAL_SERVERS=1 python benchmarks/bench_live_breakdown.py [--threads 2]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODEL = "local/smollm2-135m"


def study_requests() -> list[Any]:
    """The requests of one Sequential trial (8 agents, a level-2 task) and its judge call."""
    from sorg.model.types import Completion, Request
    from sorg.scoring.judge_q import JUDGE_FORMAT, JUDGE_MAX_TOKENS, messages, shown_answer
    from sorg.tasks import load_bank
    from sorg.trial import run_trial

    class Capture:
        def __init__(self) -> None:
            self.requests: list[Request] = []

        async def acomplete(self, req: Request) -> Completion:
            self.requests.append(req)
            a = len(self.requests)
            text = json.dumps({"role": f"role {a}", "abstain": False,
                               "contribution": f"- step {a}: a concrete part of the plan with a date, an owner "
                                               f"and a budget of ${a * 100}"})
            return Completion(text=text, prompt_tokens=1, completion_tokens=1, cost_usd=0.0, latency_s=0.0,
                              model=req.model, source="live", key=str(a))

    task = load_bank().select(levels=(2,), per_level=1)[0]
    cap = Capture()
    rec = run_trial(task, "sequential", MODEL, 8, 0, client=cap, scorers=("coverage",))
    shown, _ = shown_answer(rec.answer, task.prompt)
    judge = Request(model=MODEL, messages=messages(task.prompt, shown), temperature=0.0,
                    max_tokens=JUDGE_MAX_TOKENS, response_format=JUDGE_FORMAT, sample="judge|bench", label="bench")
    return [*cap.requests, judge]


def body(req: Any, *, nonce: str = "", max_tokens: int | None = None, grammar: bool = True) -> dict[str, Any]:
    msgs = [dict(m) for m in req.messages]
    if nonce:
        msgs[0]["content"] = f"[{nonce}] " + msgs[0]["content"]
    out: dict[str, Any] = {"model": "smollm2-135m", "messages": msgs, "temperature": req.temperature,
                           "max_tokens": max_tokens or req.max_tokens, "seed": req.seed or 0}
    if grammar and req.response_format:  # as sorg sends it to llama-cpp-python (json_object + schema)
        from sorg.model.local import adapt_response_format

        out["response_format"] = adapt_response_format(req.response_format)
    return out


def post(client: Any, base: str, payload: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    r = client.post(f"{base}/chat/completions", json=payload)
    r.raise_for_status()
    return time.perf_counter() - t0, r.json()["usage"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="threads of the one server (default: the setting)")
    args = ap.parse_args(argv)
    import os

    import httpx

    os.environ["SORG_LOCAL_SERVERS"] = "1"
    if args.threads:
        os.environ["SORG_LOCAL_THREADS"] = str(args.threads)
    from sorg.model.client import ModelClient
    from sorg.model.local import ensure_servers, stop_server, threads_per_server

    state = Path(tempfile.mkdtemp(prefix="sorg-bench-breakdown-"))
    (base,) = ensure_servers(state / "local")
    reqs = study_requests()
    rows: dict[str, list[float]] = {k: [] for k in ("cold_pp_s", "prefix_pp_s", "warm_pp_s", "prompt_tokens",
                                                   "gen_s_grammar", "gen_tokens_grammar", "gen_s_free",
                                                   "gen_tokens_free", "raw_s", "door_s")}
    try:
        with httpx.Client(timeout=600) as http:
            post(http, base, body(reqs[0], nonce="warm-up", max_tokens=2))
            for i, req in enumerate(reqs):  # cold: nothing reusable
                s, u = post(http, base, body(req, nonce=f"cold {i}", max_tokens=1))
                rows["cold_pp_s"].append(s)
                rows["prompt_tokens"].append(u["prompt_tokens"])
            for req in reqs:  # in trial order: the previous turn leaves system + mission in the cache
                rows["prefix_pp_s"].append(post(http, base, body(req, max_tokens=1))[0])
            for req in reqs:  # the whole prompt again right after itself: its upper bound
                post(http, base, body(req, max_tokens=1))
                rows["warm_pp_s"].append(post(http, base, body(req, max_tokens=1))[0])
            for i, req in enumerate(reqs):  # generation, prompt already cached, with and without grammar
                post(http, base, body(req, max_tokens=1))
                s, u = post(http, base, body(req))
                rows["gen_s_grammar"].append(s - rows["warm_pp_s"][i])
                rows["gen_tokens_grammar"].append(u["completion_tokens"])
                post(http, base, body(req, max_tokens=1))
                s, u = post(http, base, body(req, grammar=False))
                rows["gen_s_free"].append(s - rows["warm_pp_s"][i])
                rows["gen_tokens_free"].append(u["completion_tokens"])
            for req in reqs:  # the study's request as sent, raw
                rows["raw_s"].append(post(http, base, body(req, nonce="door"))[0])

        async def door() -> None:
            from dataclasses import replace

            client = ModelClient(cassette_dir=None, cache_dir=None, concurrency=1, timeout_s=600, state_dir=state)
            try:
                for i, req in enumerate(reqs):
                    msgs = tuple(dict(m) for m in req.messages)
                    msgs[0]["content"] = "[door] " + msgs[0]["content"]
                    t0 = time.perf_counter()
                    await client.acomplete(replace(req, messages=msgs, sample=f"bench-door-{i}"))
                    rows["door_s"].append(time.perf_counter() - t0)
            finally:
                client.close()

        asyncio.run(door())
    finally:
        stop_server(state / "local")

    def tot(k: str) -> float:
        return sum(rows[k])

    pp_tok = tot("prompt_tokens")
    out = {
        "requests": len(reqs), "threads": threads_per_server(),
        "prompt_tokens_mean": round(pp_tok / len(reqs), 1),
        "cold_prompt_tokens_per_s": round(pp_tok / tot("cold_pp_s"), 1),
        "prefix_reuse_saves_pct": round(100 * (1 - tot("prefix_pp_s") / tot("cold_pp_s")), 1),
        "gen_tokens_per_s_grammar": round(tot("gen_tokens_grammar") / max(1e-9, tot("gen_s_grammar")), 1),
        "gen_tokens_per_s_free": round(tot("gen_tokens_free") / max(1e-9, tot("gen_s_free")), 1),
        "raw_call_s_median": round(statistics.median(rows["raw_s"]), 3),
        "door_call_s_median": round(statistics.median(rows["door_s"]), 3),
        "door_overhead_pct": round(100 * (tot("door_s") / tot("raw_s") - 1), 1),
        "share_prompt_pct": round(100 * tot("cold_pp_s") / tot("raw_s"), 1),
        "share_generation_pct": round(100 * tot("gen_s_grammar") / tot("raw_s"), 1),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
