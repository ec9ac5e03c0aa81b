"""What a trial's replies say about the team: roles, abstention, hierarchy, usage.

Pure functions over `AgentReply` tuples, so a record's figures can be recomputed from the
record alone. Orchestration calls (plans, assemblies, bids, intentions) count in usage like
any other call; the emergence figures (roles, abstention) count agents' working turns.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sorg.record import AgentReply, TrialRecord, UsageRow
from sorg.tasks.task import Task

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


# --------------------------------------------------------------------------- validity checks
# Why beside the rates: an abstention rate, a role count or an RSI is a finding only if the
# replies behind it are behaviour, not noise. On the committed replay a required boolean
# behaved like a coin and roles were copied from memory; these checks show it, each a figure
# with a declared threshold, and a claim over a measure whose checks fail reads "not
# measured" (`sorg.scoring.outcome`, `sorg.instrument.emergence_gate`). None of them changes a
# request: they read the records.


@dataclass(frozen=True)
class ValidityCheck:
    """One validity check of an emergence measure over a run's records."""

    name: str
    instruments: tuple[str, ...]
    figure: float | None
    threshold: str
    passed: bool | None  # None: no data to check (the measure is then not validated)
    n: int
    what: str


def _words(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower())}


def _from_title(role: str, titles: Sequence[set[str]]) -> bool:
    """Whether `role` is an earlier task's title ("meal kit app launch role" for "Meal-kit app
    launch"): at least half its words (first five letters of words of four or more) are one
    title's, and at least one is."""
    w = _words(role)
    return bool(w) and any(len(w & t) >= max(1, len(w) / 2) for t in titles)


def _seq_turns(records: Sequence[TrialRecord]) -> Iterator[tuple[TrialRecord, AgentReply, set[int], str]]:
    """Sequential's first-round working turns, each with the agents it was shown (earlier
    speakers who contributed) and the work they had written."""
    for rec in records:
        if rec.protocol != "sequential" or rec.n_agents < 2:
            continue
        shown: set[int] = set()
        work: list[str] = []
        for r in sorted(work_turns(rec.replies), key=lambda r: (r.round, r.agent)):
            if r.round != 0:
                continue
            yield rec, r, set(shown), "\n\n".join(work)
            if not r.abstain and r.contribution.strip():
                shown.add(r.agent)
                work.append(r.contribution)


def _check(name: str, inst: tuple[str, ...], hits: int, n: int, op: str, limit: float, what: str,
           figure: float | None = None) -> ValidityCheck:
    fig = figure if figure is not None else (hits / n if n else None)
    ok = None if fig is None or n == 0 else (fig <= limit if op == "<=" else fig >= limit)
    return ValidityCheck(name, inst, None if fig is None else round(fig, 4), f"{op} {limit}", ok, n, what)


def emergence_checks(records: Sequence[TrialRecord], tasks: Mapping[str, Task]) -> list[ValidityCheck]:
    """Every validity check over the ok records of a run (`tasks`: the bank by id, for titles
    and the rubric). Thresholds are declared here, once."""
    from sorg.scoring.coverage import coverage_details

    ok = [r for r in records if r.status == "ok"]
    ab = ("emergence.abstention",)
    seq = list(_seq_turns(ok))
    first = [r for _, r, _, _ in seq if r.agent == 0]
    out = [_check("sequential_agent0_abstains", ab, sum(r.abstain for r in first), len(first), "<=", 0.1,
                  "share of Sequential's first speakers (nothing written yet) who abstain")]
    abst = [r for rec in ok for r in work_turns(rec.replies) if r.abstain]
    out.append(_check("abstention_is_empty", ab, sum(not r.contribution.strip() for r in abst), len(abst),
                      ">=", 0.8, "share of abstaining replies that carry no contribution"))
    high: list[bool] = []
    low: list[bool] = []
    for rec, r, _, work in seq:
        task = tasks.get(rec.task_id)
        if r.agent == 0 or task is None:
            continue
        (high if coverage_details(task, work)["coverage"] >= 0.5 else low).append(r.abstain)
    gap = (sum(high) / len(high) - sum(low) / len(low)) if high and low else None
    out.append(_check("abstains_when_covered", ab, 0, len(high) + len(low) if gap is not None else 0, ">=", 0.1,
                      "abstention rate after work covering >= half the rubric minus after less (Sequential)",
                      figure=gap))
    own = other = n_roles = 0
    for rec in ok:
        turns = [r for r in work_turns(rec.replies) if r.role and not r.abstain and r.contribution.strip()]
        for i, r in enumerate(turns):
            if len(turns) < 2:
                break
            n_roles += 1
            own += bool(_words(r.role) & _words(r.contribution))
            other += bool(_words(r.role) & _words(turns[(i + 1) % len(turns)].contribution))
    agree = (own - other) / n_roles if n_roles else None
    out.append(_check("role_matches_contribution", ("emergence.roles", "emergence.rsi"), 0, n_roles, ">=", 0.1,
                      "share of roles sharing a word with their own contribution minus with a teammate's",
                      figure=agree))
    links = bad = 0
    for _, r, shown, _ in seq:
        for k in (*r.builds_on, *r.defers_to):
            links += 1
            bad += k not in shown
    out.append(_check("impossible_links", ("emergence.links",), bad, links, "<=", 0.05,
                      "share of Sequential's builds_on/defers_to links naming an agent it was not shown"))
    titles: dict[str, dict[int, set[str]]] = defaultdict(dict)
    for rec in ok:
        if rec.stream_id and rec.task_id in tasks:
            titles[rec.stream_id][rec.position] = _words(tasks[rec.task_id].title)
    copied = roles_n = 0
    kept: Counter[str] = Counter()
    kept_copied: Counter[str] = Counter()
    by_stream: dict[str, dict[int, TrialRecord]] = defaultdict(dict)
    for rec in ok:
        if rec.stream_id:
            by_stream[rec.stream_id][rec.position] = rec
    for sid, recs in by_stream.items():
        for pos, rec in recs.items():
            earlier = [t for p, t in titles[sid].items() if p < pos and t]
            if not earlier:
                continue
            prev = recs.get(pos - 1)
            for i, role in enumerate(rec.agent_roles):
                if not role:
                    continue
                is_title = _from_title(role, earlier)
                roles_n += 1
                copied += is_title
                if prev is not None and i < len(prev.agent_roles) and prev.agent_roles[i] == role:
                    kept[rec.protocol] += 1
                    kept_copied[rec.protocol] += is_title
    out.append(_check("roles_are_not_memory_titles", ("emergence.roles",), copied, roles_n, "<=", 0.05,
                      "share of roles (after a stream's first task) that are an earlier task's title"))
    # Per protocol (assigned roles, kept by design, would dilute a protocol that copies titles):
    # the worst protocol with at least 3 kept roles.
    shares = {p: kept_copied[p] / n for p, n in kept.items() if n >= 3}
    worst = max(shares, key=lambda p: (shares[p], p), default=None)
    out.append(_check("kept_roles_are_not_titles", ("emergence.rsi",), 0, kept[worst] if worst else 0, "<=", 0.2,
                      "share of roles kept from the previous task that are an earlier task's title "
                      f"(worst protocol{': ' + worst if worst else ''})", figure=shares.get(worst or "")))
    return out
