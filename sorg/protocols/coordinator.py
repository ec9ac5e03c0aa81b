"""Coordinator (centralised): agent 0 assigns every other agent a role and a phase.

The paper's Coordinator: agent 0 reads the mission and assigns every other agent a role and a
phase; the others then work in parallel.
- Order: exogenous: the coordinator plans, the workers work (in parallel), the coordinator
  assembles.
- Roles: exogenous: the plan covers every worker at any team size (`plan.allocate`).
- Sees: the coordinator sees the mission, then every worker's output (within the token
  budget); a worker sees the mission and its own assignment only.
- Answer: the coordinator's assembly of the workers' outputs (`base.final_answer`, the same
  assembly step every protocol ends with).
Calls: N + 1 (plan, N - 1 workers, assembly), the paper's count.
"""

from __future__ import annotations

from sorg import agents
from sorg.protocols.base import Protocol, Team, contributions, final_answer, header
from sorg.protocols.plan import MAX_PARTS, PLAN_FORMAT, Part, allocate, read_plan


async def plan_call(team: Team, agent: int, round_: int, workers: int, scope: str) -> list[Part]:
    """Ask `agent` to plan `scope` for `workers` workers (record kind "plan"); one part each."""
    k = min(workers, MAX_PARTS)
    body = (f"{header(team, agent)} You lead {workers} workers. Split {scope} into up to {k} "
            f'parts and staff every worker. Answer in JSON with the key "assignments": a list of '
            f'parts, each with a "role" (a job title suited to the part), a "phase" (1, 2 or 3: '
            f'when it is done), a "subtask" (what its workers must write) and "workers" (how many '
            f"of the {workers} take it; the counts add up to {workers}).")
    r = await team.ask(agent, round_, "plan", body, structured=False,
                       role="coordinator" if agent == 0 else "team lead",
                       max_tokens=48 * k + 40,
                       response_format=PLAN_FORMAT, defers_to=() if agent == 0 else (0,))
    parts, ok = read_plan(r.raw)
    if not ok:
        team.mark_parse_failure(r)
    return allocate(parts, workers)


def work_call(team: Team, worker: int, round_: int, boss: int, boss_title: str, part: Part):
    """A worker's turn under an imposed assignment (it defers to `boss`), ready to start."""
    body = (f"{header(team, worker)} {boss_title} (agent {boss}) assigned you the role "
            f"'{part.role}' in phase {part.phase} of 3, with this subtask: {part.subtask}\n"
            "Write only your part.\n" + agents.ASK_JSON_IMPOSED)
    return lambda: team.ask(worker, round_, "agent", body, role=part.role, defers_to=(boss,))


class Coordinator(Protocol):
    name = "coordinator"

    async def run(self, team: Team) -> str:
        if team.n_agents == 1:
            return await self.solo(team)
        workers = list(range(1, team.n_agents))
        plan = await plan_call(team, 0, 0, len(workers), "the mission")
        outs = await team.together([work_call(team, w, 1, 0, "The coordinator", plan[i])
                                    for i, w in enumerate(workers)])
        return await final_answer(team, contributions(outs), 2)
