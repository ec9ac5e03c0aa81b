"""Helpers for the model door's tests: a scripted in-process backend and a request maker."""

from __future__ import annotations

import asyncio
from typing import Any

from sorg.model.backends import RawReply
from sorg.model.types import Request


class FakeBackend:
    """An in-process backend: answers "<prefix> reply to <sample>: <last message>", counts calls.

    `faults` is a list consumed one per call: an exception instance to raise, a float to
    sleep first, or a RawReply to return instead of the default.
    """

    def __init__(self) -> None:
        self.calls: list[Request] = []
        self.faults: list[Any] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay_s = 0.0

    async def __call__(self, req: Request) -> RawReply:
        self.calls.append(req)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.faults:
                fault = self.faults.pop(0)
                if isinstance(fault, BaseException):
                    raise fault
                if isinstance(fault, (int, float)):
                    await asyncio.sleep(fault)
                elif isinstance(fault, RawReply):
                    return fault
            last = req.messages[-1]["content"] if req.messages else ""
            return RawReply(text=f"reply to {req.sample}: {last}", prompt_tokens=10, completion_tokens=5,
                            model_version="fake-v1", finish_reason="stop")
        finally:
            self.in_flight -= 1



def make_request(content: str = "hello", *, model: str = "fake/m", sample: str = "s0", label: str = "t",
                 **kw: Any) -> Request:
    return Request(model=model, messages=({"role": "user", "content": content},), sample=sample, label=label, **kw)
