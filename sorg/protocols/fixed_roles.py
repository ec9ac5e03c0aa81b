"""Fixed roles (a control): roles from a fixed taxonomy, fixed order, earlier outputs visible.

- Order: exogenous, fixed (agent 0, 1, ..., n-1).
- Roles: exogenous: agent i plays TAXONOMY[i mod 6]; agents may not abstain.
- Sees: the completed contributions of earlier speakers (latest whole, older as an index).
- Answer: every contribution, in speaking order (`base.collate`): no synthesis call.
Calls: N. The same as `sequential` except that roles are imposed: the contrast the study
draws between designed and self-chosen roles.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header

TAXONOMY = ("planner", "researcher", "analyst", "designer", "critic", "writer")


class FixedRoles(Protocol):
    name = "fixed_roles"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        seen: list[agents.Seen] = []
        for a in range(team.n_agents):
            role = TAXONOMY[a % len(TAXONOMY)]
            done = team.context(seen)
            body = (f"{header(team, a)} Your assigned role is: {role}.\n"
                    + (f"\n{done}\n\n" if done else "\n")
                    + f"Write your part of the answer as the team's {role}.\n" + agents.ASK_JSON_IMPOSED)
            r = await team.ask(a, 0, "agent", body, role=role)
            seen.append(agents.Seen(a, role, r.contribution))
        return collate(contributions(team.ordered_replies()))
