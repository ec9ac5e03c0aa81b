"""The `sim/...` models behind the model door: a registered backend that is never recorded.

Model strings: `sim/<world>` (the world's first model) or `sim/<world>/<model>`. The backend is
registered with `recorded=False`: a simulated reply is a pure function of the request, so it is
computed again instead of being stored in cassettes or the cache (a replay of a sim run needs
nothing but sorg). Usage follows what the agent read and wrote (`sorg.agents.estimate_tokens`),
and cost follows the world's declared prices, so the cost and token claims have numbers.

Determinism: every random choice is drawn from a generator seeded by a hash of the whole request
(model, messages, sample, seed), so the same request always gets the same reply, and two agents
given the same prompt (different samples) answer independently.
"""

from __future__ import annotations

import hashlib
import json
import random
from functools import lru_cache

from sorg.agents import estimate_tokens
from sorg.model.backends import RawReply, register_backend
from sorg.model.types import Request
from sorg.sim import agent, judge
from sorg.sim.world import World, WorldError, load_world
from sorg.tasks.task import Task

__all__ = ["PREFIX", "sim_call", "install", "split_model", "find_task"]

PREFIX = "sim"


def split_model(model: str) -> tuple[World, str]:
    """`sim/<world>[/<model>]` -> (world, model name)."""
    parts = model.split("/")
    if len(parts) not in (2, 3) or parts[0] != PREFIX or not parts[1]:
        raise WorldError(f"model {model!r}: a simulated model is named sim/<world> or sim/<world>/<model>")
    world = load_world(parts[1])
    name = parts[2] if len(parts) == 3 else world.default_model
    world.model(name)  # an unknown model is an error naming the world's models
    return world, name


_BANKS: list[object] = []


@lru_cache(maxsize=1)
def _default_index() -> tuple[dict[str, Task], dict[str, Task]]:
    from sorg.tasks.bank import load_bank

    tasks = list(load_bank())
    return {t.id: t for t in tasks}, {t.prompt.strip(): t for t in tasks}


def use_tasks(tasks: object) -> None:
    """Let simulated agents find the tasks of a user's bank (the packaged bank is always known)."""
    _BANKS.append(tasks)


def find_task(task_id: str = "", mission: str = "") -> Task | None:
    """The task a request is about: by id (agents' samples) or by mission text (the judge)."""
    for bank in reversed(_BANKS):
        for t in bank:  # type: ignore[attr-defined]
            if (task_id and t.id == task_id) or (mission and t.prompt.strip() == mission):
                return t
    by_id, by_text = _default_index()
    return by_id.get(task_id) or by_text.get(mission.strip())


def _rng(req: Request) -> random.Random:
    blob = json.dumps([req.model, [dict(m) for m in req.messages], req.sample, req.seed], sort_keys=True)
    return random.Random(int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big"))


def _text(req: Request, world: World, model: str) -> str:
    user = req.messages[-1]["content"] if req.messages else ""
    rng = _rng(req)
    if judge.is_judge(req.response_format):
        mission, answer = judge.split_judge_prompt(user)
        # A judge at temperature 0 is a function of what it judges: its noise is drawn from the
        # mission and the answer alone, so asking again, or in another key order, is the same
        # question (the instrument gate checks both).
        same = random.Random(hashlib.sha256(f"{world.name}|{mission}|{answer}".encode()).hexdigest())
        return judge.judge_reply(world, find_task(mission=mission), answer, req.response_format, same,
                                 judge.asked_dimension(user))
    turn = agent.parse_sample(req.sample)
    if turn is None:
        raise WorldError(f"sim model {req.model!r}: cannot read the request's sample {req.sample!r} "
                         "(expected task|protocol|nN|sS|kind|aA|rR, as sorg's protocols send)")
    task = find_task(task_id=turn.task_id)
    if task is None:
        raise WorldError(f"sim model {req.model!r}: task {turn.task_id!r} is in no bank the world knows "
                         "(sorg.sim.use_tasks(bank) adds a user's bank)")
    mission = f"Mission: {task.prompt.strip()}\n\n"
    body = user[len(mission):] if user.startswith(mission) else user
    fmt = (req.response_format or {}).get("json_schema", {}).get("name") if req.response_format else None
    if turn.kind == "plan":
        return agent.plan_reply(task, body)
    if fmt is None:
        return agent.free_text(world, model, task, turn, body, rng)
    if turn.kind == "intent":
        return agent.intent_reply(world, model, task, turn, body, rng)
    return agent.agent_reply(world, model, task, turn, body, rng)


async def sim_call(req: Request) -> RawReply:
    """Answer `req` as its simulated world declares (see the module docstring)."""
    world, model = split_model(req.model)
    text = _text(req, world, model)
    read = estimate_tokens("".join(m.get("content", "") for m in req.messages))
    if world.reads_at_most:
        read = min(read, world.reads_at_most)
    if world.abstain_reads and '"abstain": true' in text:
        read = min(read, world.abstain_reads)
    wrote = estimate_tokens(text)
    m = world.model(model)
    return RawReply(text=text, prompt_tokens=read, completion_tokens=wrote, model_version=f"sim/{world.name}",
                    finish_reason="stop", cost_usd=read * m.price_input + wrote * m.price_output)


def install() -> None:
    """Register the `sim` backend (idempotent): unrecorded, offline, deterministic."""
    register_backend(PREFIX, sim_call, recorded=False)
