"""A simulated agent: reads the prompt a protocol built and answers from its world's policy.

Why it reads the real prompt: the point of a simulated world is that a bug anywhere between the
protocol and the report moves a verdict. So the agent knows only what the request carries: the
mission and what the protocol showed it (earlier work, announced intentions, an assignment, the
team's memory), plus the request's `sample` (task id, protocol, team size, seed, turn), which
the world uses to look the task's rubric up and to apply declared per-protocol capabilities.
It never sees other agents' replies except through its prompt.

One turn writes at most one rubric item, as one line: correct (in words the task's checks match)
with the world's capability, else a hedged line that earns nothing; it avoids items it can see
were attempted, and abstains when it sees nothing left (`sorg.sim.world` lists every parameter).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sorg.sim import items
from sorg.sim.world import World
from sorg.tasks.task import Element, Task

__all__ = ["Turn", "parse_sample", "agent_reply", "role_of"]

#: Roles a coin-flipping agent picks from (the world where roles are noise).
COIN_ROLES = ("helper", "member", "worker", "contributor", "assistant", "writer")
_SHOWN = re.compile(r"(?:^\[agent (\d+)|^- agent (\d+) \()", re.M)
_ASSIGNED = re.compile(r"with this subtask: (.*)$", re.M)
_IMPOSED = re.compile(r"Your assigned role is: ([^.\n]+)\.")
_MEMORY_ME = re.compile(r"you \(agent \d+\): ([^;\n]+)")
_ANNOUNCED = re.compile(r"^You announced: (.*)$", re.M)
_TEAM = re.compile(r"of a team of (\d+)")


@dataclass(frozen=True)
class Turn:
    """What the request's `sample` says about the turn (see `sorg.protocols.base.Team.ask`)."""

    task_id: str
    protocol: str
    n_agents: int
    seed: int
    kind: str
    agent: int
    round: int


def parse_sample(sample: str) -> Turn | None:
    """`task|protocol|nN|sS|kind|aA|rR` -> Turn, or None for a sample of another shape."""
    parts = sample.split("|")
    if len(parts) != 7:
        return None
    try:
        return Turn(parts[0], parts[1], int(parts[2][1:]), int(parts[3][1:]), parts[4], int(parts[5][1:]),
                    int(parts[6][1:]))
    except ValueError:
        return None


#: How an agent names the role it takes for an item: "<item> lead", "<item> planner"...
ROLE_NOUNS = ("lead", "planner", "specialist", "coordinator", "analyst", "owner", "designer", "advisor")


def role_of(element: Element, rng: random.Random | None = None, text: str = "", avoid: str = "") -> str:
    """The role an agent takes for writing `element` (the world's item -> role lexicon): the
    item's own word and a noun the agent picks ("variable planner", "budget lead"), so agents
    invent roles as the paper saw, and a role names what its contribution is about. The word is
    the longest of four or more letters in `text` (what the agent wrote), else in the item's
    description, else the item's id; never a word of `avoid` (the task's title: a role is what
    the agent does, not the task's name)."""
    noun = rng.choice(ROLE_NOUNS) if rng is not None else ROLE_NOUNS[0]
    skip = _FILLER | set(re.findall(r"[a-z]{4,}", avoid.lower()))
    words = [w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in skip]
    words = words or [w for w in re.findall(r"[a-z]{4,}", element.description.lower()) if w not in skip]
    head = max(words, key=len) if words else element.id.replace("_", " ")
    return f"{head} {noun}"


#: Words a role is never named after (the hedge of a wrong item, generic verbs).
_FILLER = {"decided", "with", "gives", "names", "says", "describes", "that", "what", "which", "from"}


def _shown_agents(body: str, me: int) -> list[int]:
    out: list[int] = []
    for m in _SHOWN.finditer(body):
        a = int(m.group(1) or m.group(2))
        if a != me and a not in out:
            out.append(a)
    return out


def _reply(role: str, contribution: str, abstain: bool, builds_on: Sequence[int] = (),
           defers_to: Sequence[int] = ()) -> str:
    obj: dict[str, Any] = {"role": role, "contribution": "" if abstain else contribution, "abstain": abstain}
    if builds_on:
        obj["builds_on"] = list(builds_on)
    if defers_to:
        obj["defers_to"] = list(defers_to)
    return json.dumps(obj)


def _write(task: Task, el: Element, rng: random.Random, c: float) -> str:
    good = items.correct_text(task, el)
    return good if good is not None and rng.random() < c else items.wrong_text(el)


def agent_reply(world: World, model: str, task: Task, turn: Turn, body: str, rng: random.Random) -> str:
    """The JSON reply (the agents' reply schema) of one structured turn."""
    c = world.capability_of(model, turn.protocol)
    els = items.writable_elements(task)
    n = int(m.group(1)) if (m := _TEAM.search(body)) else turn.n_agents
    shown = _shown_agents(body, turn.agent)
    imposed = _IMPOSED.search(body)
    assigned = _ASSIGNED.search(body)
    if world.coin:
        el = rng.choice(els) if els else None
        text = _write(task, el, rng, c) if el else ""
        links = [rng.randrange(max(n, 1)) for _ in range(rng.randint(0, 2))]
        return _reply(rng.choice(COIN_ROLES), text, rng.random() < 0.5 and not imposed and not assigned,
                      links[:1], links[1:])
    if world.blind:
        text = blind_text(world, model, task, turn)
        return _reply(role_of(els[0], rng, text, task.title) if els else "worker", text,
                      not imposed and not assigned and _sits_out(world, len(els), n, rng))
    if assigned:  # an imposed assignment (coordinator, hierarchical): write that part
        sub = assigned.group(1).strip().lower()
        el = next((e for e in els if e.description.lower() == sub), None) or (rng.choice(els) if els else None)
        # Workers on one part share how well it was specified: whether the part comes out right
        # is drawn once per part of the trial, not once per worker (more workers on a vague
        # part do not make it right).
        part_rng = random.Random(f"{turn.task_id}|{turn.protocol}|{turn.n_agents}|{turn.seed}|{sub}")
        text = _write(task, el, part_rng, c) if el else ""
        return _reply(role_of(el, text=text, avoid=task.title) if el else "worker", text, False)
    announced = _ANNOUNCED.search(body)
    seen_text = _ANNOUNCED.sub("", body) if announced else body
    todo = [e for e in els if not items.attempted(e, seen_text)]
    sees_work = bool(shown) or "Nobody has written anything yet" in body
    mine: Element | None = None
    if announced:  # broadcast's second round: keep my announced item unless another took it
        mine = next((e for e in els if e.description.lower() in announced.group(1).lower()), None)
        if mine is not None and mine not in todo:
            mine = rng.choice(todo) if todo else None  # taken by another: switch, or nothing is left
        sees_work = True
    role = ""
    remembered = _MEMORY_ME.search(body)
    if remembered and remembered.group(1).strip() not in ("abstained", "no role given") and rng.random() < world.memory:
        role = remembered.group(1).strip()
    if mine is None:
        if todo and sees_work:
            mine = rng.choice(todo)
        elif not sees_work and els:
            # Nothing of the others' work is visible: choose blind, and sit out in proportion
            # to how much larger the team is than the work (redundancy the agent can infer).
            if _sits_out(world, len(els), n, rng):
                return _reply(role or "", "", True)
            mine = rng.choice(els)
    if mine is None:  # everything it can see is attempted
        if imposed or rng.random() < world.error or not els:
            mine = rng.choice(els) if els else None
        else:
            return _reply(role or "", "", True)
    if not imposed and sees_work and rng.random() < world.abstain:
        return _reply(role or "", "", True)
    text = _write(task, mine, rng, c) if mine is not None else ""
    builds = [shown[-1]] if shown and rng.random() < world.link else []
    defers = [shown[0]] if shown and rng.random() < world.defer else []
    chosen = imposed.group(1) if imposed else (role or (role_of(mine, rng, text, task.title) if mine else "worker"))
    return _reply(chosen, text, False, builds, defers)


def _sits_out(world: World, items_: int, n: int, rng: random.Random) -> bool:
    """Blind redundancy: sit out in proportion to how much larger the team is than the work."""
    return rng.random() < (1.0 - world.error) * max(0.0, 1.0 - items_ / max(n, 1))


def blind_text(world: World, model: str, task: Task, turn: Turn) -> str:
    """A blind agent's contribution: every item, each right or wrong by one draw per trial and
    item that every agent of the trial shares. So the answer's coverage does not depend on what
    the protocol showed anyone, on how many agents wrote, or on who: the null of no protocol and
    no team-size effect, exactly, in distribution."""
    c = world.capability_of(model, turn.protocol)
    lines = []
    for e in items.writable_elements(task):
        draw = random.Random(f"{task.id}|{turn.protocol}|{turn.n_agents}|{turn.seed}|{model}|{e.id}")
        lines.append(_write(task, e, draw, c))
    return "\n".join(lines)


def intent_reply(world: World, model: str, task: Task, turn: Turn, body: str, rng: random.Random) -> str:
    """Broadcast's first round: announce one item chosen blind, or sit out (as above)."""
    els = items.writable_elements(task)
    if world.coin:
        return _reply(rng.choice(COIN_ROLES), "I will help.", rng.random() < 0.5)
    if not els or _sits_out(world, len(els), turn.n_agents, rng):
        return _reply("", "", True)
    el = rng.choice(els)
    return _reply(role_of(el, rng, avoid=task.title), f"I will write {el.description}.", False)


def plan_reply(task: Task, body: str) -> str:
    """The coordinator's plan: one part per rubric item (up to the parts it may ask for)."""
    m = re.search(r"into up to (\d+) parts", body)
    k = int(m.group(1)) if m else 8
    w = re.search(r"You lead (\d+) workers", body)
    workers = int(w.group(1)) if w else k
    els = list(items.writable_elements(task))[:k] or list(task.rubric.elements)[:k]
    share = [workers // len(els) + (1 if i < workers % len(els) else 0) for i in range(len(els))] if els else []
    parts = [{"role": role_of(e, avoid=task.title), "phase": 1 + i % 3, "subtask": e.description, "workers": s}
             for i, (e, s) in enumerate(zip(els, share)) if s > 0]
    return json.dumps({"assignments": parts})


def free_text(world: World, model: str, task: Task, turn: Turn, body: str, rng: random.Random) -> str:
    """A free-text turn: the assembly keeps the work's item lines; a lone agent writes every item."""
    if turn.kind == "assemble":
        lines: list[str] = []
        for line in body.splitlines():
            s = line.strip()
            m = re.match(r"^- agent \d+ \([^)]*\): (.*)$", s)
            if m:
                s = m.group(1).strip()
            if s.startswith("- ") and s not in lines and not s.startswith("- agent"):
                lines.append(s)
        return "\n".join(lines)
    if world.blind:
        return blind_text(world, model, task, turn)
    c = world.capability_of(model, turn.protocol)
    return "\n".join(_write(task, e, rng, c) for e in items.writable_elements(task))
