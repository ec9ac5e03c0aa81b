"""Shared (fully autonomous): parallel rounds on a shared blackboard.

- Order: endogenous: no speaking order; everyone writes in each round, in parallel.
- Roles: endogenous: each agent names its own role every round, or abstains.
- Sees: the blackboard: the intentions and work posted in earlier rounds (latest whole,
  older as an index), its own included.
- Answer: each agent's latest non-abstaining contribution, in agent order.
Calls: 2n (two rounds), each round concurrent.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, assemble, header

ROUNDS = 2


class Shared(Protocol):
    name = "shared"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        board: list[agents.Seen] = []
        latest: dict[int, object] = {}
        for rnd in range(ROUNDS):
            view = team.context(board)

            def turn(a: int, view: str = view, rnd: int = rnd):
                body = (f"{header(team, a)} There is no leader and no order: everyone writes on a "
                        f"shared board at the same time. Round {rnd + 1} of {ROUNDS}.\n"
                        + (f"\nThe board so far:\n{view}\n\n" if view else "\nThe board is empty.\n\n")
                        + "Pick the role you see missing and add that part, improving on the board; "
                        "or abstain.\n" + agents.ASK_JSON)
                return lambda: team.ask(a, rnd, "agent", body)

            out = await team.together([turn(a) for a in range(team.n_agents)])
            for r in out:
                if not r.abstain and r.contribution:
                    board.append(agents.Seen(r.agent, r.role_raw, r.contribution))
                    latest[r.agent] = r
        return assemble([latest[a] for a in sorted(latest)])
