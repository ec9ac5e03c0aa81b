"""Single (a control): one agent alone.

- Order: none (one speaker). Roles: none. Sees: the mission only.
- Budget: the Coordinator's synthesis budget (`Team.answer_tokens`): one agent writes an answer
  of the size a synthesised team answer has. Team size changes nothing here, so the study runs
  it once per task and seed.
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
