"""Ripple: influence spreads outward from a seed agent through its neighbours.

The definition is ours: the paper names Ripple among its bio-inspired protocols (and notes it
behaves like Sequential on adversarial tasks), from a companion paper whose definitions we do
not have. Agents sit on a ring; agent 0 is the seed.
- Order: in waves: the seed first, then the agents at ring distance 1 (both sides, at the same
  time), then distance 2, and so on.
- Roles: endogenous: each agent picks its role from what reached it, or abstains.
- Sees: only the work of its neighbour one step nearer the seed (what the ripple carried to
  it), not the whole team's.
- Answer: the contributions, in wave order (`base.collate`).
Calls: N, in about N/2 waves.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header
from sorg.record import AgentReply


def waves(n: int) -> list[list[tuple[int, int]]]:
    """(agent, the neighbour it hears) per wave; the seed (agent 0) hears nobody (-1)."""
    out: list[list[tuple[int, int]]] = [[(0, -1)]]
    for d in range(1, n // 2 + 1):
        right, left = d % n, (-d) % n
        wave = [(right, (d - 1) % n)]
        if left != right:
            wave.append((left, (-(d - 1)) % n))
        out.append(wave)
    return out


class Ripple(Protocol):
    name = "ripple"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        heard: dict[int, AgentReply] = {}
        done: list[AgentReply] = []
        for w, wave in enumerate(waves(team.n_agents)):
            def turn(a: int, src: int, w: int = w):
                prev = heard.get(src)
                seen = ([agents.Seen(prev.agent, prev.role_raw, prev.contribution)]
                        if prev is not None and not prev.abstain and prev.contribution.strip() else [])
                view = team.context(seen, keep_whole=1)
                body = (f"{header(team, a)} Work ripples out from agent 0 through neighbours; you "
                        f"are in wave {w + 1}.\n"
                        + (f"\nWhat reached you from your neighbour:\n{view}\n\n" if view
                           else ("\nYou start the ripple.\n\n" if src < 0 else "\nNothing reached you.\n\n"))
                        + "Take the role that carries the work further and write that part; or "
                        "abstain.\n" + agents.ASK_JSON)
                return lambda: team.ask(a, w, "agent", body)

            out = await team.together([turn(a, src) for a, src in wave])
            for (a, _), r in zip(wave, out):
                heard[a] = r
                done.append(r)
        return collate(contributions(done))
