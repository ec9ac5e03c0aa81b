"""Fake judges for the instrument gate's tests: backends that answer the real judge prompt in
the real reply format, from a declared policy.

- `constant`: the same five scores whatever it is asked;
- `counting`: 1, 2, 3, 4, 1 down the schema's keys (it follows the slot, not the dimension:
  what the 135M self-judge did on the committed replay);
- `coverage`: every dimension from the answer's `coverage` score (1 + 3 x coverage, rounded),
  so it follows the answer and not the slot.

Each reads the request exactly as a model would: the schema's property order, the mission and
the answer in the user message; the per-dimension variant's prompt names one quality and asks
for "score".
"""

from __future__ import annotations

import json
import re

from sorg.model.backends import RawReply, register_backend, unregister_backend
from sorg.model.types import Request
from sorg.scoring.coverage import score_coverage
from sorg.tasks.bank import load_bank

PREFIX = "fakejudge"
_BANK = {t.prompt.strip(): t for t in load_bank()}


def _keys(req: Request) -> list[str]:
    schema = (req.response_format or {})["json_schema"]["schema"]
    return [k for k in schema["properties"] if k != "rationale"]


def _mission_answer(req: Request) -> tuple[str, str]:
    user = req.messages[-1]["content"]
    m = re.match(r"MISSION:\n(.*?)\n\nANSWER:\n(.*?)\n\n(?:Dimensions|Quality to score)", user, re.S)
    assert m, user[:200]
    answer = m.group(2)
    return m.group(1), "" if answer == "(empty answer)" else answer


def policy_scores(policy: str, req: Request) -> dict[str, int]:
    keys = _keys(req)
    if policy == "constant":
        return {k: 3 for k in keys}
    if policy == "counting":
        return {k: (i % 4) + 1 for i, k in enumerate(keys)}
    mission, answer = _mission_answer(req)
    c = score_coverage(_BANK[mission.strip()], answer)
    return {k: 1 + round(3 * c) for k in keys}


async def backend(req: Request) -> RawReply:
    policy = req.model.split("/", 1)[1]
    reply = {"rationale": f"{policy} judge", **policy_scores(policy, req)}
    return RawReply(text=json.dumps(reply), prompt_tokens=100, completion_tokens=20, cost_usd=0.0)


def install() -> None:
    register_backend(PREFIX, backend)


def uninstall() -> None:
    unregister_backend(PREFIX)
