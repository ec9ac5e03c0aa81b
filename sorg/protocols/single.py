"""Single: one agent alone, the compute-matched control.

- Order: none (one speaker). Roles: none. Sees: the mission only.
- Budget: the token budget of the team it is compared with (n_agents x max_tokens output
  tokens), capped to what fits the context, so "a team beats one agent" is not just "more
  tokens beat fewer".
- Answer: its reply, whole.
Calls: 1.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team


class Single(Protocol):
    name = "single"

    async def run(self, team: Team) -> str:
        prompt = agents.estimate_tokens(agents.SYSTEM + team.task.prompt) + 40
        budget = max(team.max_tokens, min(team.n_agents * team.max_tokens, team.context_tokens - prompt))
        r = await team.ask(0, 0, "agent", "You work alone. Write the complete answer to the mission.",
                           structured=False, max_tokens=budget)
        return r.contribution
