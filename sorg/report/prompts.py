"""Every call's prompt for the page's trial reader, recovered by replaying the run from its
cassettes (`sorg report RUN --prompts`), written to the run's `prompts.jsonl.gz`.

Why a replay and not the record: a trial record keeps each reply, not the messages that
asked for it (prompts are most of a run's bytes and no claim reads them), and a cassette
keeps only a hash of them. A replay rebuilds the very requests (the cassette key is their
hash, so a replayed call is byte-for-byte the recorded one) at no model cost, and only
when a person asks to read them. A stream that does not replay (another bank, other
generation settings, a cassette pruned since) is counted and left without prompts; nothing
ever goes live (record mode "none", no cache).
"""

from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sorg.record import TrialRecord
from sorg.store import TRIALS_FILE, read_records

PROMPTS_FILE = "prompts.jsonl.gz"


class _Capture:
    """A model client that notes each request's messages, by trial and sample, then asks
    the real client (a replay-only one)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.seen: dict[str, list[tuple[str, list[dict[str, str]]]]] = defaultdict(list)

    def _note(self, req: Any) -> None:
        self.seen[req.label].append((req.sample, [dict(m) for m in req.messages]))

    def complete(self, req: Any) -> Any:
        self._note(req)
        return self._inner.complete(req)

    async def acomplete(self, req: Any) -> Any:
        self._note(req)
        return await self._inner.acomplete(req)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _streams(records: Sequence[TrialRecord]) -> list[list[TrialRecord]]:
    groups: dict[str, list[TrialRecord]] = defaultdict(list)
    for r in records:
        groups[r.stream_id or r.trial_id].append(r)
    return [sorted(g, key=lambda r: r.position) for _, g in sorted(groups.items())]


def _per_reply(rec: TrialRecord, seen: list[tuple[str, list[dict[str, str]]]]) -> list[Any]:
    """The prompt of each of the record's replies (None where none matched), matched on the
    sample's kind, agent and round in call order."""
    queues: dict[str, list[list[dict[str, str]]]] = defaultdict(list)
    for sample, msgs in seen:
        queues["|".join(sample.split("|")[-3:])].append(msgs)
    out: list[Any] = []
    for rep in rec.replies:
        q = queues.get(f"{rep.kind}|a{rep.agent}|r{rep.round}")
        out.append(q.pop(0) if q else None)
    return out


def capture(run_dir: str | os.PathLike[str], cassette_dir: str | os.PathLike[str] = "cassettes",
            bank: str | None = None) -> dict[str, Any]:
    """Replay every stream of the run from `cassette_dir`, write `prompts.jsonl.gz`, and
    return what was done: trials with prompts, streams that did not replay (and why, once)."""
    from sorg.errors import SorgError
    from sorg.model.client import ModelClient
    from sorg.tasks import load_bank
    from sorg.trial import close_kept_loop, run_stream

    run_dir = Path(run_dir)
    records = [r for r in read_records(run_dir / TRIALS_FILE) if r.status == "ok"]
    tasks = load_bank(bank)
    client = _Capture(ModelClient(cassette_dir=Path(cassette_dir), record="none", cache_dir=None))
    rows: list[dict[str, Any]] = []
    failed, why = 0, ""
    for group in _streams(records):
        r0 = group[0]
        judge = r0.judge.get("judge_model") if not r0.judge.get("self_judged") else None
        try:
            run_stream([tasks.get(r.task_id) for r in group], r0.protocol, r0.model, r0.n_agents, r0.seed,
                       client=client, scorers=tuple(sorted(r0.quality)) or ("coverage",), judge_model=judge)
        except (SorgError, KeyError, ValueError) as exc:
            failed += 1
            why = why or f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            continue
        for r in group:
            rows.append({"trial_id": r.trial_id, "prompts": _per_reply(r, client.seen.pop(r.trial_id, []))})
    close_kept_loop()
    rows.sort(key=lambda d: d["trial_id"])
    with gzip.open(run_dir / PROMPTS_FILE, "wt", encoding="utf-8", compresslevel=6) as fh:
        for d in rows:
            fh.write(json.dumps(d, sort_keys=True, ensure_ascii=False) + "\n")
    return {"trials": len(rows), "streams_failed": failed, "first_failure": why}
