"""Broadcast: everyone announces an intention at once, sees all of them, then acts at once.

- Order: none within a round (all agents in parallel); two rounds.
- Roles: endogenous: each agent announces the role it intends to take, or abstains.
- Sees: round 0, the mission only; round 1, every teammate's announced role and intention
  (an index within the token budget), not their work.
- Answer: the round-1 contributions of agents that did not abstain, in agent order
  (`base.collate`): no synthesis call.
Calls: 2N (the paper's count), each round concurrent.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header


class Broadcast(Protocol):
    name = "broadcast"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        n = team.n_agents

        def intent(a: int):
            body = (f"{header(team, a)} All agents announce at the same time what they intend to "
                    "do. Announce the role you will take and, as contribution, one line saying "
                    "what you will write; or abstain.\n" + agents.ASK_JSON)
            return lambda: team.ask(a, 0, "intent", body, max_tokens=min(team.max_tokens, 64))

        intents = await team.together([intent(a) for a in range(n)])
        board = [agents.Seen(r.agent, r.role_raw, r.contribution) for r in intents if not r.abstain]

        def act(a: int):
            mine = intents[a]
            others = [s for s in board if s.agent != a]
            body = (f"{header(team, a)} The team's announced intentions:\n"
                    + (team.context(others, keep_whole=0) or "(none)")
                    + f"\n\nYou announced: {mine.role_raw or 'no role'}: {mine.contribution[:120]}\n"
                    "Now write your part, without repeating what others announced; or abstain.\n"
                    + agents.ASK_JSON)
            return lambda: team.ask(a, 1, "agent", body)

        acts = await team.together([act(a) for a in range(n)])
        return collate(contributions(acts))
