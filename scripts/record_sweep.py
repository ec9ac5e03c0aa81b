"""Record the study's sweep on the embedded model into cassettes/, chunk by chunk.

Why a script and not only `pytest evals/ --sorg-record=new`: recording on 2 CPU cores takes
hours, and we commit it in chunks (one cassette file per chunk) so an interrupted recording
keeps what it finished, resumes from it (recorded calls replay, only the rest is called live),
and git never holds one huge file. The requests it makes are exactly those `pytest evals/`
makes (the sample identity is built by `run_stream`, not by the caller), so the evals replay
from these cassettes. Chunks are this script's business: the eval tests are one sweep per
experiment (evals/test_protocols.py, evals/test_scaling.py), and run the cells of the chunks
evals/recorded.json lists as complete.

    python scripts/record_sweep.py --chunk core-n4-s0 [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))
from sweep import CHUNKS, MODEL, RECORDED_FILE, recorded  # noqa: E402


def plan(chunk: str) -> list[tuple]:
    """The (stream of tasks, protocol, n_agents, seed) cells of one chunk, in a fixed order
    (`sweep.Chunk.cells`): this script selects the chunk's cells itself; the eval tests sweep
    their whole design and run the cells of the recorded chunks (`sweep.runnable`)."""
    from sorg.tasks import load_bank

    return [(list(st), p, n, s) for st, p, n, s in CHUNKS[chunk].cells(load_bank())]


def note_run(chunk: str, summary: dict, recorded_file: Path | None = None) -> None:
    """Put this run into evals/recorded.json, replacing its earlier note (same `started`).

    Called after every cell, not only at the end: a run killed by SIGKILL, a closed terminal
    or a crash never reaches a `finally`, and its live time and finished cells must still be on
    record. The chunk counts as recorded (the eval tests run its cells) once a run finished every
    cell with no error. Read-modify-write under the file's lock: two chunks may record at once.
    """
    from sorg.model.locks import locked

    recorded_file = recorded_file or RECORDED_FILE
    with locked(recorded_file):
        data = recorded(recorded_file)
        entry = data.setdefault(chunk, {"runs": [], "complete": False})
        entry["runs"] = [r for r in entry["runs"] if r.get("started") != summary["started"]] + [summary]
        entry["complete"] = any(r["complete"] for r in entry["runs"])
        entry["live_wall_s"] = round(sum(r["wall_s"] for r in entry["runs"]), 1)
        tmp = recorded_file.with_name(recorded_file.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(recorded_file)


async def record(chunk: str, out: Path, state_dir: str | None = None, parallel: int = 2) -> None:
    from sorg.model.client import ModelClient
    from sorg.scoring import SCORERS
    from sorg.trial import DEFAULT_SCORERS, arun_stream

    cells = plan(chunk)
    client = ModelClient(cassette_dir=str(ROOT / "cassettes"), record="new",
                         cassette_name=chunk, cache_dir=str(ROOT / ".sorg/cache"),
                         state_dir=state_dir)
    t0 = time.time()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
    calls = live = errors = 0
    gate = asyncio.Semaphore(parallel)
    done = 0

    async def one(stream, protocol: str, n: int, seed: int, fh) -> None:
        nonlocal calls, done, live, errors
        async with gate:
            # Only scorers that call a model make requests; deterministic scores are computed
            # again from the answer whenever the evals replay.
            recs = await arun_stream(stream, protocol, MODEL, n, seed, client=client,
                                     scorers=[s for s in DEFAULT_SCORERS if s in SCORERS and SCORERS[s].needs_model])
        for rec in recs:
            calls += rec.calls + rec.scores.get("judge_q", {}).get("usage", {}).get("calls", 0)
            live += rec.sources.get("live", 0)
            errors += rec.status not in ("ok", "budget")
            fh.write(json.dumps(rec.to_dict()) + "\n")
        fh.flush()
        done += 1
        _note(chunk, started, cells, done, errors, calls, live, t0)
        print(f"[{chunk}] {done}/{len(cells)} {protocol} n={n} s={seed} tasks={len(stream)} "
              f"status={[r.status for r in recs]} q={[r.quality.get('judge_q') for r in recs]} "
              f"calls={sum(r.calls for r in recs)} sources={[dict(r.sources) for r in recs][-1]} "
              f"t={time.time() - t0:.0f}s", flush=True)

    try:
        with out.open("a", encoding="utf-8") as fh:
            # Cells run `parallel` at a time, so both embedded servers stay busy even when a
            # protocol speaks one agent at a time; the cassette is the same whatever the order.
            await asyncio.gather(*(one(*cell, fh) for cell in cells))
    finally:  # Ctrl-C or SIGTERM: the time since the last cell counts too
        client.close()
        _note(chunk, started, cells, done, errors, calls, live, t0)


def _note(chunk: str, started: str, cells: list, done: int, errors: int, calls: int, live: int,
          t0: float) -> None:
    summary = {"chunk": chunk, "started": started, "cells": len(cells), "done": done, "errors": errors, "calls": calls,
               "live_calls": live, "wall_s": round(time.time() - t0, 1),
               "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "complete": done == len(cells) and errors == 0}
    note_run(chunk, summary)
    print(json.dumps(summary))


def estimate(chunks: list[str]) -> list[dict]:
    """Calls and prompt tokens of each chunk, counted on a fake model, and the live hours they
    project at the rate measured on the chunks recorded so far (evals/recorded.json)."""
    from sorg.model.backends import register_backend
    from sorg.model.client import ModelClient
    from sorg.scoring import SCORERS
    from sorg.trial import DEFAULT_SCORERS, arun_stream

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from protocol_calls import fake

    register_backend("fakeplan", fake)
    client = ModelClient(cassette_dir=None, cache_dir=None, concurrency=64)
    scorers = [s for s in DEFAULT_SCORERS if s in SCORERS and SCORERS[s].needs_model]
    done_runs = recorded()
    rows = []
    for chunk in chunks:
        calls = tokens = 0
        cells = plan(chunk)
        for stream, protocol, n, seed in cells:
            recs = asyncio.run(arun_stream(stream, protocol, "fakeplan/m", n, seed, client=client, scorers=scorers))
            for r in recs:
                judge = r.scores.get("judge_q", {}).get("usage", {})
                calls += r.calls + judge.get("calls", 0)
                tokens += r.prompt_tokens + judge.get("prompt_tokens", 0)
        rows.append({"chunk": chunk, "cells": len(cells), "calls": calls, "prompt_tokens": tokens})
    # Time follows prompt tokens more than calls (a 256-agent call reads far more than a 4-agent
    # one): the rate is the recorded chunks' counted prompt tokens over their live wall time.
    for r in rows:
        r["recorded"] = bool(done_runs.get(r["chunk"], {}).get("complete"))
    done = [r for r in rows if r["recorded"]]
    wall = sum(done_runs[r["chunk"]]["live_wall_s"] for r in done)
    rate = sum(r["prompt_tokens"] for r in done) / wall if wall else None
    for r in rows:
        r["hours"] = (round(done_runs[r["chunk"]]["live_wall_s"] / 3600, 2) if r["recorded"] else
                      round(r["prompt_tokens"] / rate / 3600, 2) if rate else None)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", choices=sorted(CHUNKS), help="the chunk to record (or to --dry-run / --plan)")
    ap.add_argument("--plan", action="store_true",
                    help="count every chunk's calls and prompt tokens on a fake model; hours: measured for recorded "
                         "chunks, projected for the rest at their prompt-token rate")
    ap.add_argument("--dry-run", action="store_true", help="print the cells and exit")
    ap.add_argument("--out", default=str(ROOT / ".sorg" / "recording.jsonl"))
    ap.add_argument("--parallel", type=int, default=2, help="cells recorded at once (default 2)")
    ap.add_argument("--state-dir", default=None,
                    help="where the embedded servers' state lives; a second directory starts a "
                         "second set of servers, so two chunks record at once (set "
                         "SORG_LOCAL_SERVERS=1 SORG_LOCAL_THREADS=1 for each on 2 cores)")
    args = ap.parse_args(argv)
    if args.plan:
        from tabulate import tabulate

        rows = estimate([args.chunk] if args.chunk else list(CHUNKS))
        print(tabulate(rows, headers="keys"))
        total = [r["hours"] for r in rows if r["hours"] is not None]
        todo = [r["hours"] for r in rows if not r["recorded"] and r["hours"] is not None]
        print(json.dumps({"chunks": len(rows), "calls": sum(r["calls"] for r in rows),
                          "hours": round(sum(total), 1) if total else None,
                          "hours_left": round(sum(todo), 1) if todo else None}))
        return 0
    if not args.chunk:
        ap.error("--chunk is required (or --plan)")
    if args.dry_run:
        for stream, protocol, n, seed in plan(args.chunk):
            print([t.id for t in stream], protocol, n, seed)
        return 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    # SIGTERM unwinds like Ctrl-C, so the time since the last cell's note is counted too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    asyncio.run(record(args.chunk, Path(args.out), args.state_dir, args.parallel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
