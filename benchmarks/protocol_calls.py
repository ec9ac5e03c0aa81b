"""Model calls and prompt tokens per protocol as the team grows, measured with a fake model.

Why: the scaling claims are about cost; this shows what each protocol's design costs in calls
and prompt tokens at 4, 16, 64 and 256 agents before any real model is paid for, and that
prompts stay bounded (max prompt tokens per call) however large the team.

    python benchmarks/protocol_calls.py            # last line: one JSON object
"""

from __future__ import annotations

import json
import sys

from tabulate import tabulate

from sorg.model.backends import RawReply, register_backend
from sorg.model.client import ModelClient
from sorg.protocols import PROTOCOLS
from sorg.tasks import load_bank
from sorg.trial import run_trial

SIZES = (4, 16, 64, 256)


async def fake(req):
    """A plausible reply of each kind (a judge's too), 40 completion tokens long; prompt tokens =
    chars/4. scripts/record_sweep.py --plan counts a chunk's calls with it."""
    fmt = req.response_format and req.response_format["json_schema"]["name"]
    if fmt == "plan":
        text = json.dumps({"assignments": [{"role": f"lead {i}", "subtask": "write part " + str(i)} for i in range(4)]})
    elif fmt == "judge_q":
        dims = req.response_format["json_schema"]["schema"]["required"][1:]
        text = json.dumps({"rationale": "ok", **{d: 3 for d in dims}})
    elif fmt:
        text = json.dumps({"role": "analyst", "contribution": "Venue: $1200. Catering: $800. " * 4, "abstain": False})
    else:
        text = "Final plan: venue $1200, catering $800."
    prompt = sum(len(m["content"]) for m in req.messages) // 4
    return RawReply(text=text, prompt_tokens=prompt, completion_tokens=40)


def main() -> int:
    register_backend("fake", fake)
    client = ModelClient(cassette_dir=None, cache_dir=None, concurrency=16)
    task = load_bank().select(levels=(4,), per_level=1)[0]
    rows, out = [], {}
    for name in sorted(PROTOCOLS):
        for n in SIZES:
            rec = run_trial(task, name, "fake/bench", n, 0, client=client, scorers=("coverage",))
            rows.append((name, n, rec.calls, rec.prompt_tokens, rec.max_prompt_tokens))
            out[f"{name}_n{n}"] = {"calls": rec.calls, "prompt_tokens": rec.prompt_tokens,
                                   "max_prompt_tokens": rec.max_prompt_tokens}
    print(tabulate(rows, headers=["protocol", "agents", "calls", "prompt tokens", "max prompt tokens/call"]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
