"""Run one stream of tasks (or one trial, a stream of one) -> frozen `TrialRecord`s.

A **stream** is one team of persistent agents working through an ordered list of tasks; each
task yields its own record carrying `stream_id` and `position`. What the team remembers from
one task to the next is the roles its agents took (`Team.memory`); only protocols with
organisational memory (`shared`) show it to the agents, so every protocol can run in streams
and comparisons between protocols stay paired task by task.

The record holds everything claims and reports need (quality per scorer and each scorer's
details, cost, tokens, calls, per-agent and per-round usage, every reply, the emergence
metrics, where each reply came from), so nothing downstream ever reruns a trial. A provider
failure or a spent budget does not raise: the trial comes back with status "error" / "budget"
and the message (and so do the stream's later tasks, which never ran), so a sweep goes on and
the report marks the cell incomplete. A `CassetteMiss` does raise: it is a configuration
problem (a prompt changed, or nothing was recorded) that the user must see.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from sorg import metrics
from sorg.errors import BudgetExceeded, ModelError
from sorg.model.identity import model_slug
from sorg.protocols import PROTOCOLS
from sorg.protocols.base import PastTask, Team
from sorg.record import TrialRecord, TrialStatus
from sorg.scoring import SCORERS, Score, ScoreContext, get_scorer
from sorg.scoring.view import View, scored_view, view_budget
from sorg.sim_defaults import SIM_CONTEXT_TOKENS, is_simulated
from sorg.tasks.task import Task

T = TypeVar("T")

#: What a trial is scored with unless the run says otherwise (`--sorg-scorers`).
DEFAULT_SCORERS = ("coverage", "judge_q")


def trial_id(task_id: str, protocol: str, model: str, n_agents: int, seed: int,
             stream: str = "", position: int = 0) -> str:
    """Readable and deterministic: the same inputs always name the same trial.

    A trial of a stream of several tasks also names the stream and its position, since the
    same task may sit in two streams (and then the team remembers different things). The
    model is named by `model_slug`, the one name sorg gives a model in files ('local/m' ->
    'local--m'). A trial id names a record and labels its model requests (`Request.label`,
    which is neither sent to the model nor part of the request's key): it changes no request.
    """
    tid = f"{task_id}.{protocol}.{model_slug(model)}.n{n_agents}.s{seed}"
    return f"{tid}.{stream}@{position}" if stream else tid


def stream_name(tasks: Sequence[Task]) -> str:
    """A stream's name from its tasks: '' for a stream of one, else 'first..last+N'."""
    if len(tasks) <= 1:
        return ""
    return f"{tasks[0].id}..{tasks[-1].id}+{len(tasks)}"


def stream_id(name: str, protocol: str, model: str, n_agents: int, seed: int) -> str:
    return f"{name}.{protocol}.{model_slug(model)}.n{n_agents}.s{seed}" if name else ""


def _check(protocol: str, n_agents: int, scorers: Sequence[str]) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; known: {sorted(PROTOCOLS)}")
    if not 1 <= n_agents <= 1024:
        raise ValueError(f"n_agents must be in 1..1024, not {n_agents}")
    for s in scorers:
        get_scorer(s)


async def _score(scorers: Sequence[str], ctx: ScoreContext) -> dict[str, Score]:
    """Every scorer on one answer (`ctx.answer` is its bounded view, `sorg.scoring.view`):
    deterministic ones first, then those that call a model.

    An empty view (every agent abstained, or nothing but whitespace) scores each model-calling
    scorer's `floor` with no call: there is nothing to judge, and a judge asked about an empty
    answer grades the mission instead. Deterministic scorers score the empty text themselves."""
    names = sorted(scorers, key=lambda s: (SCORERS[s].needs_model, list(scorers).index(s)))
    out: dict[str, Score] = {}
    for name in names:
        scorer = SCORERS[name]
        if scorer.needs_model and not ctx.answer.strip():
            out[name] = Score(scorer.floor, {"empty_answer": True})
        else:
            out[name] = await scorer.score(ctx)
    return out


async def arun_stream(tasks: Sequence[Task], protocol: str, model: str, n_agents: int, seed: int, *,
                      client: Any, scorers: Sequence[str] = DEFAULT_SCORERS,
                      judge_model: str | None = None, context_tokens: int | None = None,
                      max_tokens: int | None = None, answer_tokens: int | None = None,
                      temperature: float | None = None, view_chars: int | None = None) -> list[TrialRecord]:
    """Run `tasks` in order with one persistent team; one record per task (see module doc).

    The generation settings (`temperature`, the agents' `max_tokens`, the `context_tokens`
    budget, the synthesis's `answer_tokens`) default to `Team`'s (None: the default);
    `view_chars`, the budget of the view the scorers see, to the judge's (`view_budget`)."""
    _check(protocol, n_agents, scorers)
    if context_tokens is None and is_simulated(model):
        context_tokens = SIM_CONTEXT_TOKENS  # the paper's models read far more than the embedded one
    if not tasks:
        raise ValueError("a stream needs at least one task")
    name = stream_name(tasks)
    sid = stream_id(name, protocol, model, n_agents, seed)
    memory: list[PastTask] = []
    records: list[TrialRecord] = []
    stopped: tuple[TrialStatus, str] | None = None
    extra: dict[str, Any] = {k: v for k, v in (("context_tokens", context_tokens), ("max_tokens", max_tokens),
                               ("answer_tokens", answer_tokens), ("temperature", temperature)) if v is not None}
    for pos, task in enumerate(tasks):
        tid = trial_id(task.id, protocol, model, n_agents, seed, name, pos)
        team = Team(task=task, protocol=protocol, model=model, n_agents=n_agents, seed=seed,
                    client=client, trial_id=tid, memory=tuple(memory), **extra)
        t0 = time.perf_counter()
        status: TrialStatus = "ok"
        error, answer = "", ""
        view = scored_view("")
        scores: dict[str, Score] = {}
        if stopped is not None:
            status, error = stopped[0], f"not run: an earlier task of stream {sid} stopped it ({stopped[1]})"
        else:
            try:
                answer = await PROTOCOLS[protocol].run(team)
                view = scored_view(answer, view_chars or view_budget(judge_model or model))
                ctx = ScoreContext(task=task, answer=view.text, trial_id=tid, model=model, client=client,
                                   judge_model=judge_model)
                scores = await _score(scorers, ctx)
            except BudgetExceeded as exc:
                status, error = "budget", str(exc)
            except ModelError as exc:
                status, error = "error", str(exc)
            if status != "ok":
                stopped = (status, error.splitlines()[0] if error else status)
        latency = time.perf_counter() - t0
        rec = build_record(team, task, answer, status, error, scores, latency, sid, pos,
                           previous=records[-1] if records else None, view=view)
        records.append(rec)
        memory.append(PastTask(position=pos, title=task.title, roles=dict(enumerate(rec.agent_roles))))
    return records


async def arun_trial(task: Task, protocol: str, model: str, n_agents: int, seed: int, *,
                     client: Any, scorers: Sequence[str] = DEFAULT_SCORERS,
                     judge_model: str | None = None, label: str = "",
                     context_tokens: int | None = None, max_tokens: int | None = None,
                     answer_tokens: int | None = None, temperature: float | None = None,
                     view_chars: int | None = None) -> TrialRecord:
    """Run one trial (async): a stream of one task.

    Every request carries `label = trial_id` and the contract's `sample` identity, so a
    cassette recorded by any caller replays under any other. The `label` argument is
    accepted for the contract's signature but not put on requests: the contract fixes their
    label to the trial id, so errors and cassette summaries name the trial whoever ran it.
    """
    (rec,) = await arun_stream([task], protocol, model, n_agents, seed, client=client, scorers=scorers,
                               judge_model=judge_model, context_tokens=context_tokens, max_tokens=max_tokens,
                               answer_tokens=answer_tokens, temperature=temperature, view_chars=view_chars)
    return rec


def run_stream(tasks: Sequence[Task], protocol: str, model: str, n_agents: int, seed: int, *,
               client: Any, **kw: Any) -> list[TrialRecord]:
    """Run one stream (blocking): `arun_stream` in an event loop (see `run_in_loop`)."""
    return run_in_loop(arun_stream(tasks, protocol, model, n_agents, seed, client=client, **kw), client)


def run_trial(task: Task, protocol: str, model: str, n_agents: int, seed: int, *,
              client: Any, **kw: Any) -> TrialRecord:
    """Run one trial (blocking): `arun_trial` in an event loop (see `run_in_loop`)."""
    return run_in_loop(arun_trial(task, protocol, model, n_agents, seed, client=client, **kw), client)


class _Kept:
    runner: asyncio.Runner | None = None


def run_in_loop(coro: Coroutine[Any, Any, T], client: Any = None) -> T:
    """`asyncio.run(coro)`, but the main thread's loop is kept across trials that only replay.

    Why: building and closing an event loop for each trial was a measurable share of a
    replayed trial's time in a worker (benchmarks/bench_sweep.py). The loop is kept only while
    nothing can be bound to it: after a trial that called a model live (`client.live_calls`
    moved: litellm ties a background logging task and its HTTP clients to the loop), that left
    a task behind, or that raised, the loop is closed exactly as `asyncio.run` closes it
    (pending tasks cancelled, async generators and the default executor shut down) and the
    next trial gets a fresh one. A client without `live_calls`, and any thread but the main
    one, get `asyncio.run`.
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
        # and out on every trial. Ctrl-C then raises KeyboardInterrupt out of the loop, and the
        # `finally` below closes it, cancelling the trial's tasks.
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


def build_record(team: Team, task: Task, answer: str, status: TrialStatus, error: str,
                 scores: dict[str, Score], latency: float, sid: str = "", position: int = 0,
                 previous: TrialRecord | None = None, *, view: View) -> TrialRecord:
    from sorg.prompt_version import prompt_version

    replies = team.ordered_replies()
    quality = {name: float(s.value) for name, s in scores.items() if s.value is not None and status == "ok"}
    details = {name: dict(s.details) for name, s in scores.items()}
    roles = metrics.roles(replies)
    agent_roles = metrics.agent_roles(replies, team.n_agents)
    judge = details.get("judge_q", {})
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
        judge=judge, prompt_version=prompt_version(),
        model_version=Counter(team.models_seen).most_common(1)[0][0] if team.models_seen else "",
        scores=details, answer_chars=len(answer), work_chars=metrics.work_chars(replies),
        scored_chars=len(view.text), scored_cut=view.cut,
        stream_id=sid, position=position, agent_roles=agent_roles,
        rsi=metrics.trial_rsi(previous.agent_roles if previous else None, agent_roles),
    )
