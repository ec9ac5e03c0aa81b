"""Single (a control): one agent alone.

- Order: none (one speaker). Roles: none. Sees: the mission only.
- Budget: the answer budget every team's assembly has (`Team.answer_tokens`), so its answer is
  of the size a team's is: a team is compared with one agent on answers of the same length.
- Answer: its reply, whole.
Calls: 1.
"""

from __future__ import annotations

from sorg.protocols.base import Protocol, Team


class Single(Protocol):
    name = "single"

    async def run(self, team: Team) -> str:
        r = await team.ask(0, 0, "agent", "You work alone. Write the complete answer to the mission.",
                           structured=False, max_tokens=team.answer_tokens)
        return r.contribution
