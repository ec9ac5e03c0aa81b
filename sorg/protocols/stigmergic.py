"""Stigmergic: agents coordinate only through traces they leave in a shared environment.

The definition is ours: the paper names Stigmergic among its bio-inspired protocols, from a
companion paper whose definitions we do not have. Stigmergy is coordination through traces
left in a shared environment rather than through direct messages, as ants lay trails.
- Order: one agent at a time, in an order drawn from the trial's seed (no designed order).
- Roles: endogenous: each agent reinforces a trail (takes a role already marked), starts a new
  one, or abstains.
- Sees: the environment only: each role marked so far with its strength (how many agents have
  marked it) and the latest one-line note left on it; never a teammate's full work.
- Answer: the contributions, in acting order (`base.collate`).
Calls: N, serial.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, collate, contributions, header


def trail_view(trails: dict[str, tuple[int, str]], budget_tokens: int) -> str:
    """The marked roles, strongest first (ties by name), within the budget."""
    lines, used = [], 0
    for role, (strength, note) in sorted(trails.items(), key=lambda kv: (-kv[1][0], kv[0])):
        line = f"- {role} (marked {strength}x): {note[:70]}"
        cost = agents.estimate_tokens(line)
        if used + cost > budget_tokens:
            break
        lines.append(line)
        used += cost
    return "\n".join(lines)


class Stigmergic(Protocol):
    name = "stigmergic"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        order = list(range(team.n_agents))
        team.rng.shuffle(order)
        trails: dict[str, tuple[int, str]] = {}
        done = []
        for a in order:
            view = trail_view(trails, team.see_budget)
            body = (f"{header(team, a)} You cannot talk to your teammates; you see only the marks "
                    "they left on the work.\n"
                    + (f"\nMarked so far (role, strength, latest note):\n{view}\n\n" if view
                       else "\nNothing is marked yet.\n\n")
                    + "Reinforce a weakly marked role, mark a role nobody took, or abstain; then "
                    "write that part.\n" + agents.ASK_JSON)
            r = await team.ask(a, 0, "agent", body)
            done.append(r)
            if not r.abstain and r.contribution.strip():
                key = r.role or "unnamed"
                first = r.contribution.strip().splitlines()[0]
                trails[key] = (trails.get(key, (0, ""))[0] + 1, first)
        return collate(contributions(done))
