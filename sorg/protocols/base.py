"""What every protocol shares: the team's turn-taking machinery.

A protocol decides who speaks when and what each agent sees; `Team` does the rest the same
way for all of them: builds the request (with the sample identity of the contract, so replays
match), calls the model door, reads the reply and records it in call order. Call order is
fixed when a turn is *asked*, not when it returns, so concurrent turns leave the same record
on every run.

Why the team's answer is the protocol's own output: in the paper only the Coordinator has a
synthesis step (its N + 1 calls); Sequential (N), Broadcast (2N) and Shared (N) hand in their
agents' work. An earlier sorg ended every protocol with one "assembly" call of agent 0 that
rewrote the team's work; 85-95% of each answer became that one call's new text, and the protocols
were no longer the paper's. So a self-organised protocol hands in `collate(...)`: the
non-abstaining contributions in protocol order, separated by a blank line, with no model call and
no privileged agent; only protocols whose leader synthesises by definition (`coordinator`,
`hierarchical`) end with `final_answer`. Answers then differ in size with the team; scorers never
see them raw but through one protocol-blind bounded view (`sorg.scoring.view`), and the report
gives each protocol effect raw and adjusted for answer length.

A team in a *stream* keeps its agents from one task to the next: `Team.memory` holds the
roles they took on the stream's earlier tasks (only protocols that have organisational memory,
such as `shared`, show it to the agents).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sorg import agents
from sorg.model.types import Request
from sorg.record import AgentReply, ReplyKind
from sorg.tasks.task import Task

T = TypeVar("T")


def sub_seed(seed: int, *parts: object) -> int:
    """A stable 31-bit seed for one call, from the trial seed and the call's position."""
    h = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


#: Generation settings every trial shares unless the run sets others (temperature is the
#: paper's 0.7; the token budgets fit the embedded model's 2,048-token context).
TEMPERATURE = 0.7
MAX_TOKENS = 160
CONTEXT_TOKENS = 2048
ANSWER_TOKENS = 320


@dataclass(frozen=True)
class PastTask:
    """One earlier task of a stream, as the team's organisational memory holds it."""

    position: int
    title: str
    roles: Mapping[int, str]  # agent -> the role it took ("" = abstained or no role)


@dataclass
class Team:
    """One trial's team: task, size, seed, model and the replies so far."""

    task: Task
    protocol: str
    model: str
    n_agents: int
    seed: int
    client: Any
    trial_id: str
    max_tokens: int = MAX_TOKENS
    context_tokens: int = CONTEXT_TOKENS
    temperature: float = TEMPERATURE
    answer_tokens: int = ANSWER_TOKENS
    memory: tuple[PastTask, ...] = ()
    replies: list[tuple[int, AgentReply]] = field(default_factory=list)
    models_seen: list[str] = field(default_factory=list)
    _next: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(sub_seed(self.seed, self.task.id, self.protocol, self.n_agents))

    @property
    def see_budget(self) -> int:
        """Tokens left for teammates' work once mission, instructions and reply are counted."""
        fixed = agents.estimate_tokens(agents.SYSTEM + self.task.prompt) + 160
        return max(64, self.context_tokens - fixed - self.max_tokens)

    async def ask(self, agent: int, round_: int, kind: ReplyKind, body: str, *, structured: bool = True,
                  role: str | None = None, max_tokens: int | None = None,
                  response_format: Mapping[str, Any] | None = None,
                  defers_to: tuple[int, ...] | None = None) -> AgentReply:
        """One model call for `agent`; returns (and records) its reply.

        `role` is an imposed role (coordinator, fixed_roles, hierarchical): it is what the
        record counts, whatever the agent writes in its `role` field; `defers_to` likewise
        records a reporting line the protocol imposes. `response_format` overrides the agent
        reply schema (a plan has its own).
        """
        order = self._next
        self._next += 1
        fmt = response_format or (agents.REPLY_FORMAT if structured else None)
        req = Request(
            model=self.model,
            messages=agents.messages(self.task.prompt, body),
            temperature=self.temperature,
            max_tokens=max_tokens or self.max_tokens,
            seed=sub_seed(self.seed, agent, round_, kind),
            response_format=fmt,
            sample=f"{self.task.id}|{self.protocol}|n{self.n_agents}|s{self.seed}|{kind}|a{agent}|r{round_}",
            label=self.trial_id,
        )
        done = await self.client.acomplete(req)
        parsed = agents.parse_reply(done.text, n_agents=self.n_agents, me=agent, structured=structured)
        role_raw = role if role is not None else parsed.role_raw
        reply = AgentReply(
            agent=agent, round=round_, role_raw=role_raw, role=agents.clean_role(role_raw, self.task.prompt),
            abstain=parsed.abstain if role is None else False,
            contribution=parsed.contribution, builds_on=parsed.builds_on,
            defers_to=parsed.defers_to if defers_to is None else defers_to, parse_failed=parsed.parse_failed,
            raw=done.text,
            kind=kind, prompt_tokens=done.prompt_tokens,
            completion_tokens=done.completion_tokens, cost_usd=done.cost_usd, source=done.source,
        )
        self.replies.append((order, reply))
        self.models_seen.append(getattr(done, "model_version", "") or done.model)
        return reply

    async def together(self, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """Turns that do not depend on each other, run concurrently (the door bounds how many).

        Each call is *started* in list order, so the order numbers (and the record) do not
        depend on which reply returns first. If one turn fails (provider error, spent budget)
        its siblings are cancelled and awaited before the error goes on: a failed trial must
        not keep spending calls in the background after its record is written.
        """
        tasks = [asyncio.ensure_future(c()) for c in calls]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def mark_parse_failure(self, reply: AgentReply) -> None:
        """Record that a reply read as free text (a plan) could not be parsed."""
        for i, (order, r) in enumerate(self.replies):
            if r is reply:
                self.replies[i] = (order, dataclasses.replace(r, parse_failed=True))

    def ordered_replies(self) -> tuple[AgentReply, ...]:
        return tuple(r for _, r in sorted(self.replies, key=lambda x: x[0]))

    def context(self, seen: Sequence[agents.Seen], keep_whole: int = 3) -> str:
        return agents.visible_context(seen, self.see_budget, keep_whole)


def header(team: Team, agent: int) -> str:
    """Who the agent is in the team (never a role: protocols add one only if they impose it)."""
    return f"You are agent {agent} of a team of {team.n_agents}."


def contributions(replies: Sequence[AgentReply]) -> list[agents.Seen]:
    """The work of the replies that did not abstain, in the order given."""
    return [agents.Seen(r.agent, r.role_raw, r.contribution) for r in replies
            if not r.abstain and r.contribution.strip()]


def collate(work: Sequence[agents.Seen]) -> str:
    """The answer of a protocol without a synthesis step: each non-abstaining contribution, in the
    order given (the protocol's), separated by a blank line. Deterministic, no model call, no
    privileged agent: the team's work is the answer (see the module docstring)."""
    return "\n\n".join(s.text.strip() for s in work if s.text.strip())


ASSEMBLE = ("Turn the team's work above into the team's final answer to the mission: keep what "
            "is concrete (items, numbers, names), drop repetition and talk about the team. "
            "At most {words} words.")


async def final_answer(team: Team, work: Sequence[agents.Seen], round_: int) -> str:
    """A leader's synthesis of the team's work: one call of agent 0 over `work` (the Coordinator's
    own step, counted in its N + 1; `hierarchical` uses it too). No work, no call: the answer is
    empty. Self-organised protocols hand in `collate(work)` instead."""
    if not work:
        return ""
    body = (f"{header(team, 0)} The team's work:\n\n" + team.context(work, keep_whole=len(work))
            + "\n\n" + ASSEMBLE.format(words=team.answer_tokens * 3 // 4))
    final = await team.ask(0, round_, "assemble", body, structured=False,
                           max_tokens=team.answer_tokens)
    return final.contribution


class Protocol:
    """A coordination protocol: subclasses say who speaks when and what each sees."""

    name: str = ""

    async def run(self, team: Team) -> str:  # pragma: no cover - interface
        """Run the team's turns; return the final answer."""
        raise NotImplementedError

    #: True for the paper's four evaluated protocols and the controls; extras say False.
    study: bool = True

    async def solo(self, team: Team) -> str:
        """A team of one: the lone agent does the whole mission (every protocol at n=1),
        under the answer budget of the Coordinator's synthesis."""
        r = await team.ask(0, 0, "agent", header(team, 0) + " Write the complete answer to the mission.",
                           structured=False, max_tokens=team.answer_tokens)
        return r.contribution
