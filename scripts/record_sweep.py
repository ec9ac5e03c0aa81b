"""Record the study's default sweep on the embedded model into cassettes/, chunk by chunk.

Why a script and not only `pytest evals/ --sorg-record=new`: recording the whole sweep on
2 CPU cores takes about an hour, and we commit it in chunks (one cassette file per chunk) so
an interrupted recording keeps what it finished and git never holds one huge file. The
requests it makes are exactly those `pytest evals/` makes (the sample identity is built by
`run_trial`, not by the caller), so the evals replay from these cassettes.

    python scripts/record_sweep.py --chunk protocols-n4 [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "local/smollm2-135m"
ALL_PROTOCOLS = ("coordinator", "hierarchical", "fixed_roles", "sequential",
                 "broadcast", "shared", "dynamic", "single")

# chunk name -> (protocols, team sizes, tasks per level, seeds)
CHUNKS: dict[str, tuple[tuple[str, ...], tuple[int, ...], int, tuple[int, ...]]] = {
    "protocols-n4": (ALL_PROTOCOLS, (4,), 1, (0, 1, 2)),
    "protocols-n8": (ALL_PROTOCOLS, (8,), 1, (0, 1, 2)),
    "scaling-small": (("sequential", "coordinator", "shared"), (16, 32), 1, (0,)),
    "scaling-64": (("sequential", "coordinator"), (64,), 1, (0,)),
    "scaling-64-shared": (("shared",), (64,), 1, (0,)),
    # 256 agents is hundreds of calls a trial: one chunk per protocol, so each commits alone.
    "scaling-256-sequential": (("sequential",), (256,), 1, (0,)),
    "scaling-256-coordinator": (("coordinator",), (256,), 1, (0,)),
    "scaling-256-shared": (("shared",), (256,), 1, (0,)),
}


def plan(chunk: str) -> list[tuple]:
    """The (task, protocol, n_agents, seed) cells of one chunk, in a fixed order."""
    from sorg.tasks import load_bank

    protocols, sizes, per_level, seeds = CHUNKS[chunk]
    levels = (1,) if chunk.startswith("scaling") else (1, 2, 3, 4)
    tasks = load_bank().select(levels=levels, per_level=per_level)
    return [(t, p, n, s) for t in tasks for n in sizes for p in protocols for s in seeds]


async def record(chunk: str, out: Path, state_dir: str | None = None) -> None:
    from sorg.model.client import ModelClient
    from sorg.trial import arun_trial

    cells = plan(chunk)
    client = ModelClient(cassette_dir=str(ROOT / "cassettes"), record="new",
                         cassette_name=chunk, cache_dir=str(ROOT / ".sorg/cache"),
                         state_dir=state_dir)
    t0 = time.time()
    calls = 0
    with out.open("a", encoding="utf-8") as fh:
        for i, (task, protocol, n, seed) in enumerate(cells, 1):
            rec = await arun_trial(task, protocol, MODEL, n, seed, client=client)
            calls += rec.calls
            fh.write(json.dumps(rec.to_dict()) + "\n")
            fh.flush()
            print(f"[{chunk}] {i}/{len(cells)} {task.id} {protocol} n={n} s={seed} "
                  f"status={rec.status} q={rec.quality.get('rubric')} calls={rec.calls} "
                  f"sources={dict(rec.sources)} t={time.time() - t0:.0f}s", flush=True)
    client.close()
    print(json.dumps({"chunk": chunk, "trials": len(cells), "calls": calls,
                      "wall_s": round(time.time() - t0, 1)}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", required=True, choices=sorted(CHUNKS))
    ap.add_argument("--dry-run", action="store_true", help="print the cells and exit")
    ap.add_argument("--out", default=str(ROOT / ".sorg" / "recording.jsonl"))
    ap.add_argument("--state-dir", default=None,
                    help="where the embedded servers' state lives; a second directory starts a "
                         "second set of servers, so two chunks record at once (set "
                         "SORG_LOCAL_SERVERS=1 SORG_LOCAL_THREADS=1 for each on 2 cores)")
    args = ap.parse_args(argv)
    if args.dry_run:
        for task, protocol, n, seed in plan(args.chunk):
            print(task.id, protocol, n, seed)
        return 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(record(args.chunk, Path(args.out), args.state_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
