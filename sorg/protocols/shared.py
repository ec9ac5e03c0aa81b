"""Shared: each agent sees the team's organisational memory; all decide at once.

The paper's Shared: every agent sees a shared *organisational memory*, the role history of the
team on its *past tasks*, and all agents decide at the same time. So Shared carries state from
one task to the next: it is meant to run in a stream (`sorg.trial.run_stream`), where
`Team.memory` holds, for each earlier task of the stream, which role each agent took (or that
it abstained). On the first task of a stream (or a trial that is a stream of one) the memory is
empty and the agents decide from the mission alone.
- Order: none: all agents in parallel, one round.
- Roles: endogenous: each agent names its own role, in the light of the team's history, or
  abstains.
- Sees: the mission and the organisational memory (within the token budget), not the
  teammates' work on this task.
- Answer: the non-abstaining contributions, in agent order (`base.collate`): no synthesis call.
Calls: N, parallel (the paper's count).
"""

from __future__ import annotations

from collections.abc import Sequence

from sorg import agents
from sorg.protocols.base import PastTask, Protocol, Team, collate, contributions, header


def memory_view(team: Team, me: int, past: Sequence[PastTask]) -> str:
    """The role history of the team on earlier tasks, newest first, within the token budget.

    Agent `me`'s own line leads each task, so at 256 agents an agent still sees its own past
    when the rest no longer fits; what does not fit is counted, not shown.
    """
    if not past:
        return ""
    budget = team.see_budget
    lines: list[str] = []
    hidden = 0
    used = 0
    for t in reversed(past):
        mine = t.roles.get(me, "")
        entries = [f"you (agent {me}): {mine or 'abstained'}"]
        entries += [f"agent {a}: {r or 'abstained'}" for a, r in sorted(t.roles.items()) if a != me]
        head = f"Task {t.position + 1} ({t.title}):"
        kept: list[str] = []
        for e in entries:
            cost = agents.estimate_tokens(e) + 1
            if used + cost > budget:
                hidden += 1
                continue
            kept.append(e)
            used += cost
        if kept:
            lines.append(head + " " + "; ".join(kept))
    if hidden:
        lines.append(f"({hidden} earlier entries not shown)")
    return "\n".join(lines)


class Shared(Protocol):
    name = "shared"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)

        def turn(a: int):
            mem = memory_view(team, a, team.memory)
            body = (f"{header(team, a)} All agents decide at the same time; there is no leader "
                    "and no order.\n"
                    + (f"\nThe team's memory: the roles its agents took on earlier tasks:\n{mem}\n\n"
                       if mem else "\nThe team has no earlier tasks.\n\n")
                    + "Choose the role you will take on this mission and write that part; "
                    "or abstain.\n" + agents.ASK_JSON)
            return lambda: team.ask(a, 0, "agent", body)

        out = await team.together([turn(a) for a in range(team.n_agents)])
        return collate(contributions(out))
