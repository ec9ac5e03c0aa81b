"""Record the study's sweep on the embedded model into cassettes/, chunk by chunk.

Why a script and not only `pytest evals/ --sorg-record=new`: recording on 2 CPU cores takes
hours, and we commit it in chunks (one cassette file per chunk) so an interrupted recording
keeps what it finished, resumes from it (recorded calls replay, only the rest is called live),
and git never holds one huge file. The requests it makes are exactly those `pytest evals/`
makes (the sample identity is built by `run_stream`, not by the caller), so the evals replay
from these cassettes.

    python scripts/record_sweep.py --chunk streams-n4 [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from evals.sweep import MODEL, PAPER_AND_CONTROLS, SCALING_PROTOCOLS, SCALING_TASKS, STUDY_PROTOCOLS, TASKS_PER_LEVEL  # noqa: E402

# chunk name -> (protocols, team sizes, levels, tasks per level, stream length, seeds)
CHUNKS: dict[str, tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...], int, int, tuple[int, ...]]] = {
    "streams-n4": (tuple(STUDY_PROTOCOLS), (4,), (1, 2, 3, 4), 1, 4, (0, 1)),
    # the second task of each level: a second stream per protocol and seed
    "streams-n4-b": (tuple(STUDY_PROTOCOLS), (4,), (1, 2, 3, 4), TASKS_PER_LEVEL, 4, (0, 1)),
    "streams-n8": (tuple(PAPER_AND_CONTROLS), (8,), (1, 2, 3, 4), 1, 4, (0, 1)),
    "scaling-16": (tuple(SCALING_PROTOCOLS), (16,), (1,), 1, 1, (0,)),
    # the second level-1 task at 8 and 16 agents (its 4-agent cells replay from streams-n4-b)
    "scaling-b": (tuple(SCALING_PROTOCOLS), (8, 16), (1,), SCALING_TASKS, 1, (0,)),
}


def plan(chunk: str) -> list[tuple]:
    """The (stream of tasks, protocol, n_agents, seed) cells of one chunk, in a fixed order."""
    from sorg.tasks import load_bank
    from sorg.tasks.bank import stream_order

    protocols, sizes, levels, per_level, length, seeds = CHUNKS[chunk]
    tasks = stream_order(load_bank().select(levels=levels, per_level=per_level))
    streams = [tasks[i:i + length] for i in range(0, len(tasks), length)]
    return [(st, p, n, s) for st in streams for n in sizes for s in seeds for p in protocols]


async def record(chunk: str, out: Path, state_dir: str | None = None, parallel: int = 2) -> None:
    from sorg.model.client import ModelClient
    from sorg.scoring import SCORERS
    from sorg.trial import DEFAULT_SCORERS, arun_stream

    cells = plan(chunk)
    client = ModelClient(cassette_dir=str(ROOT / "cassettes"), record="new",
                         cassette_name=chunk, cache_dir=str(ROOT / ".sorg/cache"),
                         state_dir=state_dir)
    t0 = time.time()
    calls = 0
    gate = asyncio.Semaphore(parallel)
    done = 0

    async def one(stream, protocol: str, n: int, seed: int, fh) -> None:
        nonlocal calls, done
        async with gate:
            # Only scorers that call a model make requests; deterministic scores are computed
            # again from the answer whenever the evals replay.
            recs = await arun_stream(stream, protocol, MODEL, n, seed, client=client,
                                     scorers=[s for s in DEFAULT_SCORERS if s in SCORERS and SCORERS[s].needs_model])
        for rec in recs:
            calls += rec.calls + rec.scores.get("judge_q", {}).get("usage", {}).get("calls", 0)
            fh.write(json.dumps(rec.to_dict()) + "\n")
        fh.flush()
        done += 1
        print(f"[{chunk}] {done}/{len(cells)} {protocol} n={n} s={seed} tasks={len(stream)} "
              f"status={[r.status for r in recs]} q={[r.quality.get('judge_q') for r in recs]} "
              f"calls={sum(r.calls for r in recs)} sources={[dict(r.sources) for r in recs][-1]} "
              f"t={time.time() - t0:.0f}s", flush=True)

    with out.open("a", encoding="utf-8") as fh:
        # Cells run `parallel` at a time, so both embedded servers stay busy even when a
        # protocol speaks one agent at a time; the cassette is the same whatever the order.
        await asyncio.gather(*(one(*cell, fh) for cell in cells))
    client.close()
    print(json.dumps({"chunk": chunk, "cells": len(cells), "calls": calls,
                      "wall_s": round(time.time() - t0, 1)}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", required=True, choices=sorted(CHUNKS))
    ap.add_argument("--dry-run", action="store_true", help="print the cells and exit")
    ap.add_argument("--out", default=str(ROOT / ".sorg" / "recording.jsonl"))
    ap.add_argument("--parallel", type=int, default=2, help="cells recorded at once (default 2)")
    ap.add_argument("--state-dir", default=None,
                    help="where the embedded servers' state lives; a second directory starts a "
                         "second set of servers, so two chunks record at once (set "
                         "SORG_LOCAL_SERVERS=1 SORG_LOCAL_THREADS=1 for each on 2 cores)")
    args = ap.parse_args(argv)
    if args.dry_run:
        for stream, protocol, n, seed in plan(args.chunk):
            print([t.id for t in stream], protocol, n, seed)
        return 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(record(args.chunk, Path(args.out), args.state_dir, args.parallel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
