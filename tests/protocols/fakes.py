"""A scripted fake model for protocol tests: routed through the real model door.

`FakeTeamModel` is registered as the backend for "fake/..." model strings; it answers by
the request's kind (plan, bid, agent, intent, assemble) and logs every request, so tests
can assert who was called, in what order and seeing what.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sorg.model.backends import RawReply
from sorg.model.types import Request


def kind_of(req: Request) -> str:
    return req.sample.split("|")[4]


def agent_of(req: Request) -> int:
    return int(req.sample.split("|")[5][1:])


def round_of(req: Request) -> int:
    return int(req.sample.split("|")[6][1:])


def user_text(req: Request) -> str:
    return req.messages[-1]["content"]


class FakeTeamModel:
    """Answers each request with `reply(req)` (default: a role and a budget line per agent)."""

    def __init__(self, reply: Callable[[Request], str] | None = None) -> None:
        self.requests: list[Request] = []
        self.reply = reply or self.default

    @staticmethod
    def default(req: Request) -> str:
        if req.sample.startswith("judge|"):
            return json.dumps({"rationale": "fine", "accuracy": 3, "completeness": 2, "coherence": 3,
                               "actionability": 2, "mission_relevance": 4})
        kind, agent = kind_of(req), agent_of(req)
        if req.response_format and req.response_format["json_schema"]["name"] == "plan":
            return json.dumps({"assignments": [{"role": f"Lead {i}", "phase": 1 + i % 3, "subtask": f"part {i}",
                                                "workers": 1 + i} for i in range(3)]})
        if kind == "bid":
            return json.dumps({"role": f"bidder {agent}", "contribution": str(agent % 10), "abstain": False})
        if req.response_format:
            role = ("The Planners", "Budget Analysts", "the critics!", "Writers")[agent % 4]
            return json.dumps({"role": role, "contribution": f"Item {agent}: $100",
                               "abstain": False})
        return f"Final answer by agent {agent}."

    async def __call__(self, req: Request) -> RawReply:
        self.requests.append(req)
        prompt = sum(len(m["content"]) for m in req.messages) // 4
        return RawReply(text=self.reply(req), prompt_tokens=prompt, completion_tokens=10,
                        model_version="fake-1")
