"""One recorded reply as it is stored (cassette line, cache value) and as it is served.

Why a module of its own: the same entry is written by a live call, copied from the cache into
a cassette, and read back from either as a `Completion`; building it and reading it back are
one concern (the stored shape), apart from where it is looked up (`sorg.model.client`) and how
it is written to disk (`sorg.model.cassette`, `sorg.model.cache`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sorg.model.backends import RawReply
from sorg.model.cassette import FORMAT_VERSION
from sorg.model.identity import field_digests
from sorg.model.redact import clean_params, redact_text, secret_values
from sorg.model.types import Completion, Request, Source

__all__ = ["completion_of", "last_message", "make_entry", "short"]


def last_message(req: Request) -> str:
    """The text of the request's last message ("" for none): what a person recognises it by."""
    if not req.messages:
        return ""
    content = req.messages[-1].get("content", "")
    return content if isinstance(content, str) else str(content)


def short(text: str, n: int = 80) -> str:
    """`text` on one line, cut to `n` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def make_entry(req: Request, key: str, raw: RawReply, cost: float, latency: float) -> dict[str, Any]:
    """The stored entry for a live reply: the reply and its usage, plus a summary of the
    request (field digests, the last message cut short, secrets redacted) that lets a cassette
    miss name the nearest recording without storing the prompt."""
    secrets = secret_values(req.params)
    params = clean_params(req.params or {})
    return {
        "v": FORMAT_VERSION,
        "key": key,
        "model": req.model,
        "sample": req.sample,
        "label": redact_text(req.label, secrets),
        "last": redact_text(short(last_message(req)), secrets),
        "req": {**field_digests(req), **({"params_shown": params} if params else {})},
        "reply": {
            # A reply that echoes a secret (a key in the prompt, a provider's debug text) is
            # stored and served masked: what the trial saw live is what a replay will see.
            "text": redact_text(raw.text, secrets),
            "prompt_tokens": int(raw.prompt_tokens),
            "completion_tokens": int(raw.completion_tokens),
            "finish_reason": raw.finish_reason,
            "model_version": raw.model_version,
        },
        "cost_usd": float(cost),
        "latency_s": round(latency, 4),
    }


def completion_of(entry: Mapping[str, Any], source: Source, key: str, model: str) -> Completion:
    """The `Completion` a stored entry serves, saying where it came from."""
    reply = entry["reply"]
    return Completion(
        text=reply["text"],
        prompt_tokens=reply["prompt_tokens"],
        completion_tokens=reply["completion_tokens"],
        cost_usd=entry.get("cost_usd", 0.0),
        # A replay reports the latency recorded with the reply, so metrics computed from
        # cassettes reproduce those of the live run.
        latency_s=entry.get("latency_s", 0.0),
        model=model,
        source=source,
        key=key,
        finish_reason=reply.get("finish_reason"),
        model_version=reply.get("model_version") or "",
    )
