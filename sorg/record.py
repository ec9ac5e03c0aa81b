"""The trial record: what one trial leaves behind, as plain frozen data.

Everything downstream (the results store, claims, reports) reads these records and
nothing else, so a claim can be re-judged from `trials.jsonl` alone without rerunning a
trial. `to_dict` / `from_dict` round-trip exactly through JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sorg.model.types import Source

RECORD_VERSION = 2

#: How a trial ended: "ok", or cut short by an error or the run's spent budget (kept so reports
#: mark the cell incomplete; claims read only "ok" trials). The one definition of the set.
TrialStatus = Literal["ok", "error", "budget"]
TRIAL_STATUSES: tuple[TrialStatus, ...] = ("ok", "error", "budget")
#: What a turn was: an agent's contribution, or one of the protocols' own steps.
ReplyKind = Literal["agent", "plan", "assemble", "bid", "lead", "intent", "signal"]


@dataclass(frozen=True)
class AgentReply:
    """One agent's turn: what it said, the role it chose, whether it abstained."""

    agent: int
    round: int
    role_raw: str
    role: str
    abstain: bool
    contribution: str
    builds_on: tuple[int, ...] = ()
    defers_to: tuple[int, ...] = ()
    parse_failed: bool = False
    raw: str = ""
    kind: ReplyKind = "agent"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    source: Source = "live"


@dataclass(frozen=True)
class UsageRow:
    """Calls, tokens and cost summed over one agent or one round."""

    key: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class TrialRecord:
    """One trial: task x protocol x model x team size x seed, and all it produced.

    `quality` maps scorer name ("coverage", "judge_q", ...) to a score in [0, 1]; a scorer
    that failed has no entry there, only its details in `scores`. `judge` repeats the
    `judge_q` details (the five dimensions, Q, whether the judge was the agents' own model).
    `status` is "ok", or "error" / "budget" for a trial cut short (kept so reports can mark the
    cell incomplete; claims ignore such trials).

    `answer_chars` is the length of the team's whole answer; `scored_chars` that of the bounded
    view every scorer saw (`sorg.scoring.view`), `scored_cut` whether the view had to shorten
    sections to fit; `work_chars` the total of the agents' contributions (what the
    Coordinator's synthesis read; for a collating protocol about the answer itself).
    `stream_id` and `position` place the trial in its stream ("" and 0 for a trial on its own);
    `agent_roles[i]` is the role agent i took ("" = none or abstained), and
    `rsi` the share of agents who kept the role they had on the stream's previous task (None
    on the first task, or where no agent took a role twice).
    """

    trial_id: str
    task_id: str
    level: int
    domain: str
    protocol: str
    model: str
    n_agents: int
    seed: int
    answer: str
    quality: Mapping[str, float]
    cost_usd: float
    prompt_tokens: int
    completion_tokens: int
    calls: int
    latency_s: float
    max_prompt_tokens: int
    per_agent: tuple[UsageRow, ...]
    per_round: tuple[UsageRow, ...]
    replies: tuple[AgentReply, ...]
    unique_roles: int
    roles: tuple[str, ...]
    role_entropy: float
    abstention_rate: float
    hierarchy_depth: int
    parse_failure_rate: float
    sources: Mapping[str, int]
    status: TrialStatus = "ok"
    error: str = ""
    judge: Mapping[str, Any] = field(default_factory=dict)
    prompt_version: str = ""
    model_version: str = ""
    scores: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    answer_chars: int = 0
    work_chars: int = 0
    scored_chars: int = 0
    scored_cut: bool = False
    stream_id: str = ""
    position: int = 0
    agent_roles: tuple[str, ...] = ()
    rsi: float | None = None
    version: int = RECORD_VERSION

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialRecord:
        """Inverse of `to_dict`; raises KeyError/TypeError naming the bad field."""
        d = dict(data)
        d["per_agent"] = tuple(UsageRow(**r) for r in d.get("per_agent", ()))
        d["per_round"] = tuple(UsageRow(**r) for r in d.get("per_round", ()))
        d["replies"] = tuple(
            AgentReply(
                **{
                    **r,
                    "builds_on": tuple(r.get("builds_on", ())),
                    "defers_to": tuple(r.get("defers_to", ())),
                }
            )
            for r in d.get("replies", ())
        )
        d["roles"] = tuple(d.get("roles", ()))
        d["agent_roles"] = tuple(d.get("agent_roles", ()))
        if d.get("status", "ok") not in TRIAL_STATUSES:  # a closed set: a typo'd status would hide a trial
            raise TypeError(f"trial record status {d['status']!r} is not one of {', '.join(TRIAL_STATUSES)}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise TypeError(f"unknown trial record field(s): {sorted(unknown)}")
        return cls(**d)
