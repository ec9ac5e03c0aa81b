"""Dynamic (an extra, not one of the paper's protocols): agents bid each turn for who speaks next and in what role.

- Order: endogenous: each turn, a seeded sample of up to two agents who have not spoken yet
  bid (0-9) with the role they would take; the highest bid speaks (ties broken by the
  trial's seed); the loser goes back to the pool.
- Roles: endogenous: the winner speaks in the role it bid with.
- Sees: bidders and speakers see the completed contributions so far (latest whole, older
  as an index).
- Answer: the contributions in speaking order (`base.collate`).
Calls: at most 3n - 1 (n turns; two short bids, then one contribution, per turn). Bidding
by a sample rather than by all agents keeps a 256-agent trial linear, not quadratic.
"""

from __future__ import annotations

import re

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header

BIDDERS = 2
_DIGIT = re.compile(r"\b([0-9])\b")


def read_bid(reply) -> int:
    """The bid in a reply (the JSON contribution, or any lone digit); 0 if none."""
    if reply.abstain:
        return -1
    m = _DIGIT.search(reply.contribution or reply.raw)
    return int(m.group(1)) if m else 0


class Dynamic(Protocol):
    name = "dynamic"
    study = False

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        pool = list(range(team.n_agents))
        seen: list[agents.Seen] = []
        turn = 0
        while pool:
            bidders = sorted(team.rng.sample(pool, min(BIDDERS, len(pool))))
            done = team.context(seen)
            context = f"\n{done}\n\n" if done else "\nNobody has written anything yet.\n\n"
            if len(bidders) == 1:
                winner, role = bidders[0], None
            else:
                def bid(a: int, context: str, turn: int):
                    body = (f"{header(team, a)} Agents bid to speak next." + context
                            + "Say which role you would take next and, as contribution, only a "
                            "number 0-9: how much your part would add. Abstain if nothing.\n" + agents.ASK_JSON)
                    return lambda: team.ask(a, turn, "bid", body, max_tokens=48)

                bids = await team.together([bid(a, context, turn) for a in bidders])
                scores = [(read_bid(b), team.rng.random(), b) for b in bids]
                best = max(scores, key=lambda s: (s[0], s[1]))[2]
                winner, role = best.agent, best.role_raw or None
            pool.remove(winner)
            body = (f"{header(team, winner)} You won the turn to speak"
                    + (f" as '{role}'" if role else "") + "." + context
                    + "Write your part of the answer, or abstain if it is already covered.\n" + agents.ASK_JSON)
            r = await team.ask(winner, turn, "agent", body)
            if not r.abstain and r.contribution:
                seen.append(agents.Seen(winner, r.role_raw, r.contribution))
            turn += 1
        return collate(contributions([r for r in team.ordered_replies() if r.kind == "agent"]))
