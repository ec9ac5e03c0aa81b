"""Clonal: successful contributions are copied and varied.

The definition is ours: the paper names Clonal among its bio-inspired protocols, from a
companion paper whose definitions we do not have. In clonal selection, the cells that bind
best multiply, with variation.
- Order: two rounds, each all at once: founders (agents 0..k-1, k = max(2, ceil(N/4))) write,
  then every other agent varies the fittest founder's work.
- Roles: endogenous: founders and clones each name their own role, or abstain.
- Fitness: the founder contribution with the most concrete items (numbers and list lines),
  ties to the lowest agent: a count over the text, so the protocol never calls a scorer.
- Sees: founders, the mission only; clones, the fittest founder's contribution.
- Answer: every non-abstaining contribution, founders first (`base.collate`).
Calls: N (each round concurrent).
"""

from __future__ import annotations

import math
import re

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header
from sorg.record import AgentReply

_CONCRETE = re.compile(r"\d+|^\s*(?:[-*\u2022]|\d+[.)])\s", re.M)


def fitness(reply: AgentReply) -> int:
    """How concrete a contribution is: numbers and list lines it holds; -1 if it abstained."""
    if reply.abstain or not reply.contribution.strip():
        return -1
    return len(_CONCRETE.findall(reply.contribution))


class Clonal(Protocol):
    name = "clonal"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        n = team.n_agents
        k = min(n, max(2, math.ceil(n / 4)))

        def found(a: int):
            body = (f"{header(team, a)} You are one of {k} founders; the rest of the team will "
                    "copy and vary the best founder's work. Choose your role and write your "
                    "part; or abstain.\n" + agents.ASK_JSON)
            return lambda: team.ask(a, 0, "agent", body)

        founders = await team.together([found(a) for a in range(k)])
        best = max(founders, key=lambda r: (fitness(r), -r.agent))
        seen = contributions([best])
        view = team.context(seen, keep_whole=1)

        def clone(a: int):
            body = (f"{header(team, a)} The founders' fittest work:\n\n"
                    + (view or "(nothing: every founder abstained)")
                    + "\n\nCopy its strongest part and vary it: extend or correct it in the role "
                    "you choose; or abstain.\n" + agents.ASK_JSON)
            return lambda: team.ask(a, 1, "agent", body)

        clones = await team.together([clone(a) for a in range(k, n)]) if n > k else []
        return collate(contributions([*founders, *clones]))
