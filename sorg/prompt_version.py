"""The prompt version: a hash of every prompt an agent or a judge can receive, as rendered.

Why rendered text and not source code: a prompt is made of templates, headers and constants
(rounds, taxonomies, the plan's part limit, the answer budget, the judge's rubric) spread over
many modules; hashing some modules' source missed the others, and hashed comments too. Here
every registered protocol runs a two-task stream (so organisational memory renders) at a team
of four and of one, on a fixed probe mission, against a probe model that answers every call
with the same reply; every scorer that calls a model scores a probe answer the same way. The
hash covers each request's messages, response format, temperature and token limit. Any change
to what a model is asked changes the version; nothing else does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sorg.model.types import Completion, Request
from sorg.tasks.task import Element, Rubric, Task

_PROBE_TASKS = (
    Task(id="probe-1", domain="probe", level=1, title="Probe one", prompt="Probe mission one.",
         rubric=Rubric(elements=(Element(id="e", description="d", patterns=("x",)),))),
    Task(id="probe-2", domain="probe", level=2, title="Probe two", prompt="Probe mission two.",
         rubric=Rubric(elements=(Element(id="e", description="d", patterns=("x",)),))),
)
_REPLY = ('{"role": "probe role", "contribution": "- probe item 1\\n- probe item 2", "abstain": false, '
          '"accuracy": 2, "completeness": 2, "coherence": 2, "actionability": 2, "mission_relevance": 2, '
          '"rationale": "probe"}')


class _ProbeClient:
    """A model door that records each request and answers it with `_REPLY`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def acomplete(self, req: Request) -> Completion:
        self.requests.append(req)
        return Completion(text=_REPLY, prompt_tokens=1, completion_tokens=1, cost_usd=0.0, latency_s=0.0,
                          model=req.model, source="live", key="probe")


def _render() -> list[Any]:
    from sorg.protocols import PROTOCOLS
    from sorg.scoring import SCORERS, ScoreContext
    from sorg.trial import arun_stream

    client = _ProbeClient()
    failed: list[Any] = []  # a user's part that fails on the probe must not fail every trial

    async def go() -> None:
        _rendering.on = True
        for name in sorted(PROTOCOLS):
            for n in (4, 1):
                try:
                    await arun_stream(list(_PROBE_TASKS), name, "probe/model", n, 0, client=client, scorers=())
                except Exception as exc:
                    failed.append(["protocol", name, n, type(exc).__name__])
        for name in sorted(SCORERS):
            if SCORERS[name].needs_model:
                ctx = ScoreContext(task=_PROBE_TASKS[0], answer="probe answer", trial_id="probe",
                                   model="probe/model", client=client)
                try:
                    await SCORERS[name].score(ctx)
                except Exception as exc:
                    failed.append(["scorer", name, type(exc).__name__])

    # A thread of its own: the version is first asked for from inside a running trial's loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result()
    return [[list(r.messages), r.response_format, r.temperature, r.max_tokens] for r in client.requests] + failed


_cache: dict[tuple[str, ...], str] = {}
_rendering = threading.local()


def prompt_version() -> str:
    """12 hex digits naming every prompt template in use (recomputed when a protocol or
    scorer is registered)."""
    from sorg.protocols import PROTOCOLS
    from sorg.scoring import SCORERS

    key = (*sorted(PROTOCOLS), "|", *sorted(SCORERS))
    if getattr(_rendering, "on", False):
        return ""  # the probe's own records, thrown away
    if key not in _cache:
        blob = json.dumps(_render(), sort_keys=True, default=str)
        _cache[key] = hashlib.sha256(blob.encode()).hexdigest()[:12]
    return _cache[key]


def reset() -> None:
    """Forget the cached version (tests that change a template call this)."""
    _cache.clear()
