"""Sequential (hybrid): fixed speaking order, roles chosen by the agents.

- Order: exogenous, fixed (agent 0, 1, ..., n-1).
- Roles: endogenous: each agent, after reading the completed outputs of those before it,
  names its own role for what the task still needs, or abstains.
- Sees: the completed contributions of earlier speakers (latest whole, older as an index).
- Answer: the non-abstaining contributions, in speaking order (`base.collate`): no
  synthesis call.
Calls: N, serial (the paper's count).
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header


class Sequential(Protocol):
    name = "sequential"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        seen: list[agents.Seen] = []
        for a in range(team.n_agents):
            done = team.context(seen)
            body = (f"{header(team, a)} Agents speak one after another; {a} have spoken.\n"
                    + (f"\n{done}\n\n" if done else "\nNobody has written anything yet.\n\n")
                    + "Choose the role the mission still needs most and write that part, "
                    "or abstain if the work is already covered.\n" + agents.ASK_JSON)
            r = await team.ask(a, 0, "agent", body)
            if not r.abstain and r.contribution:
                seen.append(agents.Seen(a, r.role_raw, r.contribution))
        return collate(contributions(team.ordered_replies()))
