"""Hierarchical (an extra, not one of the paper's protocols): coordinator -> leads -> members.

- Order: exogenous: the coordinator plans areas, each lead plans its members' subtasks,
  members work (in parallel), the coordinator assembles.
- Roles: exogenous at every level: the coordinator names each lead's area, each lead names
  its members' roles.
- Sees: the coordinator sees the mission and, at the end, every member's output (within the
  token budget); a lead sees its area; a member sees its lead's assignment only.
- Answer: the coordinator's assembly (`base.final_answer`).
Calls: n + 1 (plan, k = ceil(sqrt(n-1)) lead plans, n-1-k members, assembly). With fewer
than 3 agents there is no room for a middle layer and it runs as `coordinator`.
"""

from __future__ import annotations

import math

from sorg.protocols.base import Protocol, Team, contributions, final_answer
from sorg.protocols.coordinator import Coordinator, plan_call, work_call


class Hierarchical(Protocol):
    name = "hierarchical"
    study = False

    async def run(self, team: Team) -> str:
        n = team.n_agents
        if n < 4:
            return await Coordinator().run(team)
        k = math.ceil(math.sqrt(n - 1))
        leads = list(range(1, k + 1))
        members = list(range(k + 1, n))
        top = await plan_call(team, 0, 0, k, "the mission into areas, one per team lead")
        areas = {lead: top[i] for i, lead in enumerate(leads)}
        teams = {lead: members[i::k] for i, lead in enumerate(leads)}

        def lead_plan(lead: int):
            area = areas[lead]
            scope = f"your area ('{area.role}': {area.subtask})"
            return lambda: plan_call(team, lead, 1, max(1, len(teams[lead])), scope)

        # together(): a failed lead plan cancels its siblings instead of leaving them running.
        sub_plans = await team.together([lead_plan(lead) for lead in leads])
        plans = dict(zip(leads, sub_plans))

        calls = [work_call(team, m, 2, lead, "Your team lead", plans[lead][j])
                 for lead in leads for j, m in enumerate(teams[lead])]
        outs = await team.together(calls)
        return await final_answer(team, contributions(outs), 3)
