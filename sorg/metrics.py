"""What a trial's replies say about the team: roles, abstention, hierarchy, usage.

Pure functions over `AgentReply` tuples, so a record's figures can be recomputed from the
record alone. Orchestration calls (plans, assemblies, bids, intentions) count in usage like
any other call; the emergence figures (roles, abstention) count agents' working turns.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence

from sorg.record import AgentReply, UsageRow

#: Reply kinds that are an agent's own work (not orchestration).
WORK_KINDS = ("agent",)


def work_turns(replies: Iterable[AgentReply]) -> list[AgentReply]:
    return [r for r in replies if r.kind in WORK_KINDS]


def roles(replies: Sequence[AgentReply]) -> tuple[str, ...]:
    """The normalised roles of the working turns that contributed, sorted and distinct."""
    return tuple(sorted({r.role for r in work_turns(replies) if r.role and not r.abstain}))


def role_entropy(replies: Sequence[AgentReply]) -> float:
    """Shannon entropy (bits) of the roles taken in working turns: 0 when all share one."""
    counts = Counter(r.role for r in work_turns(replies) if r.role and not r.abstain)
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return -sum(c / total * math.log2(c / total) for c in counts.values()) + 0.0


def abstention_rate(replies: Sequence[AgentReply]) -> float:
    turns = work_turns(replies)
    return sum(r.abstain for r in turns) / len(turns) if turns else 0.0


def agent_roles(replies: Sequence[AgentReply], n_agents: int) -> tuple[str, ...]:
    """The role each agent took on this task: its last working turn's cleaned role ("" = it
    abstained, wrote nothing, or named no role)."""
    out = [""] * n_agents
    for r in work_turns(replies):
        if 0 <= r.agent < n_agents:
            out[r.agent] = "" if r.abstain or not r.contribution.strip() else r.role
    return tuple(out)


def work_chars(replies: Sequence[AgentReply]) -> int:
    """Characters of the agents' own work (contributions of working turns that did not abstain)."""
    return sum(len(r.contribution) for r in work_turns(replies) if not r.abstain)


def trial_rsi(before: Sequence[str] | None, now: Sequence[str]) -> float | None:
    """Role Stability Index of one trial of a stream: among agents that took a role on both
    the previous task and this one, the share that kept the same role. None on a stream's
    first task, or when no agent took a role on both."""
    if before is None:
        return None
    both = [(a, b) for a, b in zip(before, now) if a and b]
    return round(sum(a == b for a, b in both) / len(both), 6) if both else None


def agent_rsi(history: Sequence[str]) -> float | None:
    """Role Stability Index of one agent across a stream: over consecutive tasks on which it
    took a role on both, the share where the role stayed the same (an abstention breaks the
    pair: it is not a role kept). None when the agent never took a role on two consecutive
    tasks. 1.0 = the agent kept one role throughout; 0.0 = it changed role every time."""
    pairs = [(a, b) for a, b in zip(history, history[1:]) if a and b]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else None


def stream_rsi(histories: Sequence[Sequence[str]]) -> float | None:
    """A stream's RSI: the mean of its agents' `agent_rsi` (agents with no pair left out).

    `histories[t]` is `agent_roles` of the stream's t-th task (all of the same team size)."""
    if not histories:
        return None
    per_agent = [agent_rsi([h[i] for h in histories]) for i in range(len(histories[0]))]
    vals = [v for v in per_agent if v is not None]
    return sum(vals) / len(vals) if vals else None


def parse_failure_rate(replies: Sequence[AgentReply]) -> float:
    return sum(r.parse_failed for r in replies) / len(replies) if replies else 0.0


def hierarchy_depth(replies: Sequence[AgentReply]) -> int:
    """Longest chain of `defers_to` links between agents (cycles cut), in links.

    0 when nobody defers to anyone; 1 for workers under one coordinator; 2 for members
    under leads under a coordinator, whether imposed or formed by the agents themselves.
    """
    edges: dict[int, set[int]] = defaultdict(set)
    for r in replies:
        for d in r.defers_to:
            if d != r.agent:
                edges[r.agent].add(d)
    # Longest path by depth-first search; an edge back onto the current path (a cycle) is
    # cut. Memoised, so dense deference graphs stay cheap; iterative (an explicit stack), so
    # a 1024-agent chain does not hit Python's recursion limit.
    memo: dict[int, int] = {}
    for root in sorted(edges):
        if root in memo:
            continue
        on_path = {root}
        stack: list[tuple[int, Iterator[int], int]] = [(root, iter(sorted(edges[root])), 0)]
        while stack:
            node, nexts, best = stack[-1]
            child = None
            for b in nexts:
                if b in on_path:
                    continue
                if b in memo:
                    best = max(best, 1 + memo[b])
                    continue
                child = b
                break
            if child is not None:
                stack[-1] = (node, nexts, best)
                on_path.add(child)
                stack.append((child, iter(sorted(edges.get(child, ()))), 0))
                continue
            stack.pop()
            on_path.discard(node)
            memo[node] = best
            if stack:
                parent, pnexts, pbest = stack[-1]
                stack[-1] = (parent, pnexts, max(pbest, 1 + best))
    return max(memo.values(), default=0)


def usage(replies: Sequence[AgentReply], by: str) -> tuple[UsageRow, ...]:
    """Calls, tokens and cost per agent (`by="agent"`) or per round (`by="round"`)."""
    rows: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for r in replies:
        row = rows[getattr(r, by)]
        row[0] += 1
        row[1] += r.prompt_tokens
        row[2] += r.completion_tokens
        row[3] += r.cost_usd
    return tuple(UsageRow(key=k, calls=int(v[0]), prompt_tokens=int(v[1]), completion_tokens=int(v[2]),
                          cost_usd=round(v[3], 12)) for k, v in sorted(rows.items()))
