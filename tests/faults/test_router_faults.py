"""A router in front of several inference servers (issue 28, item 14): before, the proxy
dropped `response_format` (judge JSON was never asked for through it) and kept sending to a
dead backend (3 of 24 trials failed)."""

from __future__ import annotations

import asyncio

import pytest

from sorg.model.client import ModelClient
from sorg.model.types import Request
from tests.fakes.openai_server import FakeOpenAI
from tests.model.test_router_scaling import _proxy

pytestmark = pytest.mark.slow  # a proxy process with litellm: left out of the quick selection


def _req(i: int, api_base: str) -> Request:
    return Request(model="openai/fake", messages=({"role": "user", "content": f"q{i}"},), sample=f"s{i}",
                   response_format={"type": "json_object"}, params={"api_base": api_base, "api_key": "sk-to-proxy"})


def test_a_dead_backend_loses_no_trial_and_every_param_is_forwarded(tmp_path):
    a, b = FakeOpenAI().start(), FakeOpenAI().start()
    proc, api_base = _proxy([a.url, b.url])
    try:
        client = ModelClient(cassette_dir=None, record="all", cache_dir=None, concurrency=2, retries=0, timeout_s=30,
                             prices={"openai/fake": {"input": 0, "output": 0}}, state_dir=tmp_path)

        async def sweep(lo: int, hi: int) -> list[str]:
            return [c.text for c in await asyncio.gather(*(client.acomplete(_req(i, api_base)) for i in range(lo, hi)))]

        first = asyncio.run(sweep(0, 6))
        b.stop()  # one backend dies mid-run
        rest = asyncio.run(sweep(6, 24))
    finally:
        proc.terminate()
        proc.wait(10)
        a.stop()
    assert first + rest == [f"echo: q{i}" for i in range(24)]  # no trial lost (retries=0 in sorg: the router's doing)
    bodies = [r["body"] for r in a.chat_requests()]
    assert bodies and all(x.get("response_format") == {"type": "json_object"} for x in bodies)
