"""Coordinator (centralised): one agent decomposes, assigns and assembles.

- Order: exogenous: the coordinator plans, the workers work (in parallel), the coordinator
  assembles.
- Roles: exogenous: the coordinator gives each worker a role and a subtask.
- Sees: the coordinator sees the mission, then every worker's output (within the token
  budget); a worker sees the mission and its own assignment only.
- Answer: the coordinator's assembly of the workers' outputs.
Calls: n + 1 (plan, n-1 workers, assembly). The plan and the assembly are counted like any
other call (kinds "plan" and "assemble").
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, header
from sorg.protocols.plan import PLAN_FORMAT, assignment, read_plan


async def plan_call(team: Team, agent: int, round_: int, workers: int, scope: str) -> list[tuple[str, str]]:
    """Ask `agent` to split `scope` into up to `workers` assignments (record kind "plan")."""
    k = min(workers, 4)
    body = (f"{header(team, agent)} You lead {workers} workers. Split {scope} into {k} parts. "
            f'Answer in JSON with the key "assignments": a list of {k} items, each with a "role" '
            f'(a job title suited to the part) and a "subtask" (what that worker must write).')
    r = await team.ask(agent, round_, "plan", body, structured=False,
                       role="coordinator" if agent == 0 else "team lead",
                       max_tokens=60 * k + 40,
                       response_format=PLAN_FORMAT, defers_to=() if agent == 0 else (0,))
    team_plan, ok = read_plan(r.raw)
    if not ok:
        team.mark_parse_failure(r)
    return team_plan


def work_call(team: Team, worker: int, round_: int, boss: int, boss_title: str, role: str, sub: str):
    """A worker's turn under an imposed assignment (it defers to `boss`), ready to start."""
    body = (f"{header(team, worker)} {boss_title} (agent {boss}) assigned you the role "
            f"'{role}' and this subtask: {sub}\nWrite only your part.\n" + agents.ASK_JSON_IMPOSED)
    return lambda: team.ask(worker, round_, "agent", body, role=role, defers_to=(boss,))


async def assemble_call(team: Team, round_: int, outs, who: str) -> str:
    """The coordinator's last turn: all `who`'s outputs (within the budget) into one answer."""
    seen = [agents.Seen(r.agent, r.role_raw, r.contribution) for r in outs if r.contribution]
    body = (f"{header(team, 0)} You are the coordinator. Your {who} wrote:\n\n"
            + (team.context(seen, keep_whole=len(seen)) or "(nothing)")
            + "\n\nAssemble their work into the team's final answer to the mission.")
    final = await team.ask(0, round_, "assemble", body, structured=False, role="coordinator",
                           max_tokens=2 * team.max_tokens)
    return final.contribution


class Coordinator(Protocol):
    name = "coordinator"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        workers = list(range(1, team.n_agents))
        plan = await plan_call(team, 0, 0, len(workers), "the mission")

        outs = await team.together([work_call(team, w, 1, 0, "The coordinator", *assignment(plan, w - 1))
                                    for w in workers])
        return await assemble_call(team, 2, outs, "workers")
