"""Run one trial: task x protocol x model x team size x seed -> a frozen `TrialRecord`.

The record holds everything claims and reports need (quality per scorer, cost, tokens,
calls, per-agent and per-round usage, every reply, the emergence metrics, where each reply
came from), so nothing downstream ever reruns a trial. A provider failure or a spent budget
does not raise: the trial comes back with status "error" / "budget" and the message, so a
sweep goes on and the report marks the cell incomplete. A `CassetteMiss` does raise: it is
a configuration problem (a prompt changed, or nothing was recorded) that the user must see.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import hashlib
import inspect
import threading
import time
from collections import Counter
from typing import Any, Coroutine, TypeVar

from sorg import metrics
from sorg.errors import BudgetExceeded, ModelError
from sorg.protocols import PROTOCOLS
from sorg.protocols.base import Team
from sorg.record import TrialRecord
from sorg.tasks.task import Task

T = TypeVar("T")


def _prompt_version() -> str:
    """A hash of every prompt template and protocol, so a prompt change shows in records."""
    import sorg.agents
    import sorg.protocols.plan

    parts = [inspect.getsource(sorg.agents), inspect.getsource(sorg.protocols.plan)]
    parts += [inspect.getsource(type(p)) for _, p in sorted(PROTOCOLS.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


PROMPT_VERSION = _prompt_version()


def model_slug(model: str) -> str:
    return model.replace("/", "-")


def trial_id(task_id: str, protocol: str, model: str, n_agents: int, seed: int) -> str:
    """Readable and deterministic: the same five inputs always name the same trial."""
    return f"{task_id}.{protocol}.{model_slug(model)}.n{n_agents}.s{seed}"


async def arun_trial(task: Task, protocol: str, model: str, n_agents: int, seed: int, *,
                     client: Any, judge_model: str | None = None, label: str = "",
                     context_tokens: int = 2048, max_tokens: int = 160) -> TrialRecord:
    """Run one trial (async); see the module docstring for what it returns and raises.

    Every request carries `label = trial_id` and the contract's `sample` identity, so a
    cassette recorded by any caller replays under any other. The `label` argument is
    accepted for the contract's signature but not put on requests: the contract fixes their
    label to the trial id, so errors and cassette summaries name the trial whoever ran it.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; known: {sorted(PROTOCOLS)}")
    if not 1 <= n_agents <= 1024:
        raise ValueError(f"n_agents must be in 1..1024, not {n_agents}")
    tid = trial_id(task.id, protocol, model, n_agents, seed)
    team = Team(task=task, protocol=protocol, model=model, n_agents=n_agents, seed=seed,
                client=client, trial_id=tid, max_tokens=max_tokens, context_tokens=context_tokens)
    t0 = time.perf_counter()
    status, error, answer = "ok", "", ""
    judge: dict[str, Any] = {}
    try:
        answer = await PROTOCOLS[protocol].run(team)
        if judge_model:
            from sorg.judge import judge_answer

            judge = dict(await judge_answer(client, task, answer, judge_model, label=tid))
    except BudgetExceeded as exc:
        status, error = "budget", str(exc)
    except ModelError as exc:
        status, error = "error", str(exc)
    latency = time.perf_counter() - t0
    return build_record(team, task, answer, status, error, judge, latency)


def run_trial(task: Task, protocol: str, model: str, n_agents: int, seed: int, *,
              client: Any, judge_model: str | None = None, label: str = "",
              context_tokens: int = 2048, max_tokens: int = 160) -> TrialRecord:
    """Run one trial (blocking): `arun_trial` in an event loop (see `run_in_loop`)."""
    return run_in_loop(arun_trial(task, protocol, model, n_agents, seed, client=client,
                                  judge_model=judge_model, label=label,
                                  context_tokens=context_tokens, max_tokens=max_tokens), client)


class _Kept:
    runner: asyncio.Runner | None = None


def run_in_loop(coro: Coroutine[Any, Any, T], client: Any = None) -> T:
    """`asyncio.run(coro)`, but the main thread's loop is kept across trials that only replay.

    Why: building and closing an event loop for each trial was about a tenth of a replayed
    trial's time in a worker (cProfile of benchmarks/bench_sweep.py's 3,840-trial sweep).
    The loop is kept only while nothing can be bound to it: after a trial that called a
    model live (`client.live_calls` moved: litellm ties a background logging task and its
    HTTP clients to the loop), that left a task behind, or that raised, the loop is closed
    exactly as `asyncio.run` closes it (pending tasks cancelled, async generators and the
    default executor shut down) and the next trial gets a fresh one. A client without
    `live_calls`, and any thread but the main one, get `asyncio.run`.
    """
    before = getattr(client, "live_calls", None)
    if before is None or threading.current_thread() is not threading.main_thread():
        return asyncio.run(coro)
    runner = _Kept.runner
    if runner is None or runner.get_loop().is_closed():
        # A loop_factory keeps the loop out of `asyncio.get_event_loop()` between trials, so
        # other code in the process never picks it up (or closes it).
        runner = _Kept.runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)
    kept = False
    try:
        # The loop runs the trial directly: Runner.run would also swap the SIGINT handler in
        # and out on every trial (signal.signal + getsignal, 0.4 ms a trial in enum lookups).
        # Ctrl-C then raises KeyboardInterrupt out of the loop, and the `finally` below closes
        # it, cancelling the trial's tasks.
        loop = runner.get_loop()
        result = loop.run_until_complete(loop.create_task(coro, context=contextvars.copy_context()))
        kept = client.live_calls == before and not asyncio.all_tasks(loop)
        return result
    finally:
        if not kept:
            close_kept_loop()


def close_kept_loop() -> None:
    """Close the kept loop, if any (also at interpreter exit)."""
    runner, _Kept.runner = _Kept.runner, None
    if runner is not None:
        runner.close()


atexit.register(close_kept_loop)


def build_record(team: Team, task: Task, answer: str, status: str, error: str,
                 judge: dict[str, Any], latency: float) -> TrialRecord:
    from sorg.tasks import score_rubric

    replies = team.ordered_replies()
    quality: dict[str, float] = {}
    if status == "ok":
        quality["rubric"] = float(score_rubric(task, answer))
        if judge.get("score") is not None:
            quality["judge"] = float(judge["score"])
    roles = metrics.roles(replies)
    return TrialRecord(
        trial_id=team.trial_id, task_id=task.id, level=task.level, domain=task.domain,
        protocol=team.protocol, model=team.model, n_agents=team.n_agents, seed=team.seed,
        answer=answer, quality=quality,
        cost_usd=round(sum(r.cost_usd for r in replies), 12),
        prompt_tokens=sum(r.prompt_tokens for r in replies),
        completion_tokens=sum(r.completion_tokens for r in replies),
        calls=len(replies), latency_s=round(latency, 4),
        max_prompt_tokens=max((r.prompt_tokens for r in replies), default=0),
        per_agent=metrics.usage(replies, "agent"), per_round=metrics.usage(replies, "round"),
        replies=replies, unique_roles=len(roles), roles=roles,
        role_entropy=round(metrics.role_entropy(replies), 6),
        abstention_rate=round(metrics.abstention_rate(replies), 6),
        hierarchy_depth=metrics.hierarchy_depth(replies),
        parse_failure_rate=round(metrics.parse_failure_rate(replies), 6),
        sources=dict(Counter(r.source for r in replies)), status=status, error=error,
        judge=judge, prompt_version=PROMPT_VERSION,
        model_version=Counter(team.models_seen).most_common(1)[0][0] if team.models_seen else "",
    )
