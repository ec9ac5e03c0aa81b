"""Plain data that crosses the model door: the request going in, the completion coming out.

Everything a protocol or agent knows about a model call is in these two records; nothing
above the door ever sees litellm's objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["cassette", "cache", "live"]
RecordMode = Literal["none", "new", "all", "once", "rewrite"]


@dataclass(frozen=True)
class Request:
    """One chat completion asked of one model.

    `sample` names *which* sample this is (trial seed, agent, round, retry index), so that
    eight identical agents given the same prompt get eight independent replies rather than
    one cached answer. `label` says who asked (test node id / trial id); it appears in
    errors and cassette summaries but is not part of the request's identity.
    """

    model: str
    messages: tuple[Mapping[str, str], ...]
    temperature: float = 0.7
    max_tokens: int = 256
    seed: int | None = None
    response_format: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    sample: str = ""
    label: str = ""

    def __repr__(self) -> str:
        """Params shown cleaned (`--tb=long` and `-l` print reprs: an `api_key` must not show)."""
        from sorg.model.redact import clean_params, redact_text, secret_values

        shown = redact_text(repr(clean_params(self.params or {})), secret_values(self.params))
        return (f"Request(model={self.model!r}, messages=<{len(self.messages)} message(s)>, "
                f"temperature={self.temperature!r}, max_tokens={self.max_tokens!r}, seed={self.seed!r}, "
                f"params={shown}, sample={self.sample!r}, label={self.label!r})")


@dataclass(frozen=True)
class Completion:
    """A model's reply, with usage and provenance.

    `model` is the model string that was asked for; `model_version` is the version the
    provider reported (kept for reproducibility: e.g. "gpt-4o-2024-08-06", or the GGUF file
    of the embedded model); `source` says whether the reply came from a cassette, the disk cache or a live call.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    model: str
    source: Source
    key: str
    finish_reason: str | None = None
    model_version: str = ""
