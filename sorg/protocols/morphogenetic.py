"""Morphogenetic: roles differentiate along signals from neighbours.

The definition is ours: the paper names Morphogenetic among its bio-inspired protocols, from a
companion paper whose definitions we do not have. In morphogenesis, identical cells take
different fates from the signals of the cells around them. Agents sit on a ring.
- Order: two rounds, each all at once: every agent emits a signal (the role it leans to), then
  every agent differentiates.
- Roles: endogenous: in round 2 an agent takes a role unlike its two neighbours' signals, or
  abstains.
- Sees: round 1, the mission only; round 2, its two ring neighbours' signals (not the team's).
- Answer: the round-2 contributions, in agent order (`base.collate`).
Calls: 2N (each round concurrent).
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header


class Morphogenetic(Protocol):
    name = "morphogenetic"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        n = team.n_agents

        def signal(a: int):
            body = (f"{header(team, a)} Every agent first signals the role it leans to. Give that "
                    "role and, as contribution, one line on why; or abstain.\n" + agents.ASK_JSON)
            return lambda: team.ask(a, 0, "signal", body, max_tokens=min(team.max_tokens, 48))

        signals = await team.together([signal(a) for a in range(n)])

        def grow(a: int):
            near = sorted({(a - 1) % n, (a + 1) % n} - {a})
            said = "\n".join(f"- agent {b}: {signals[b].role_raw or 'no role'}"
                             + (" (abstains)" if signals[b].abstain else "") for b in near)
            body = (f"{header(team, a)} Your neighbours signalled:\n{said}\nYou signalled: "
                    f"{signals[a].role_raw or 'no role'}.\n\nDifferentiate: take a role your "
                    "neighbours do not cover and write that part; or abstain.\n" + agents.ASK_JSON)
            return lambda: team.ask(a, 1, "agent", body)

        out = await team.together([grow(a) for a in range(n)])
        return collate(contributions(out))
