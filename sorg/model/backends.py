"""Where a live call goes: a registered Python backend, or litellm.

Why a registry: tests, benchmarks and offline examples need a "model" that answers without a
network. `register_backend("fake", fn)` sends every model string "fake/..." to the async
function `fn(Request) -> RawReply`; everything else goes to litellm. The client treats both
the same way (retries, timeout, budget, cassette, cache), so what is tested with a fake
backend is the path real calls take.

A backend signals a transient provider fault by raising `ProviderError(status=429|5xx,
retry_after=...)`, `TimeoutError` or `ConnectionError`; the client retries those. Any other
exception from a registered backend is a bug in that backend and propagates unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sorg.model.types import Request

__all__ = [
    "RawReply",
    "ProviderError",
    "Backend",
    "register_backend",
    "unregister_backend",
    "find_backend",
    "is_recorded",
    "litellm_call",
]


@dataclass(frozen=True)
class RawReply:
    """What a backend returns: the reply whole, usage, and the provider's model version.

    `cost_usd=None` lets the client price the call (pyproject prices, then litellm's map).
    Volatile provider fields (ids, timestamps) are deliberately absent: they would make
    recordings differ for identical replies.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_version: str = ""
    finish_reason: str | None = None
    cost_usd: float | None = None


class ProviderError(Exception):
    """A provider answered with an error; `retryable` for 429, 5xx, 408 and empty replies."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None,
                 retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        if retryable is None:
            retryable = status is None or status in (408, 409, 425, 429) or (status >= 500)
        self.retryable = retryable


Backend = Callable[[Request], Awaitable[RawReply]]
_BACKENDS: dict[str, Backend] = {}
#: Prefixes whose replies are never stored (cassette, cache): pure functions of the request.
_UNRECORDED: set[str] = set()
#: Backends sorg ships, registered on first use of their prefix: module -> its `install()`.
_BUILTIN = {"sim": "sorg.sim.backend"}


def register_backend(prefix: str, fn: Backend, *, recorded: bool = True) -> None:
    """Route model strings "<prefix>/..." to `fn` instead of litellm (replaces an earlier one).

    `recorded=False` declares the backend a pure, free function of the request (a simulated
    world): its replies bypass cassettes and the cache and are computed again on every run, so
    a replay never misses on them and they never fill a cassette.
    """
    prefix = prefix.rstrip("/")
    if not prefix or "/" in prefix:
        raise ValueError(f"backend prefix must be one path segment like 'fake', got {prefix!r}")
    if not callable(fn):
        raise TypeError(f"backend for {prefix!r} must be an async function, got {fn!r}")
    _BACKENDS[prefix] = fn
    if recorded:
        _UNRECORDED.discard(prefix)
    else:
        _UNRECORDED.add(prefix)


def unregister_backend(prefix: str) -> None:
    """Remove a registered backend (no error if absent)."""
    _BACKENDS.pop(prefix.rstrip("/"), None)
    _UNRECORDED.discard(prefix.rstrip("/"))


def find_backend(model: str) -> Backend | None:
    """The registered backend for `model`'s prefix, or None (litellm)."""
    if "/" not in model:
        return None
    prefix = model.split("/", 1)[0]
    if prefix not in _BACKENDS and prefix in _BUILTIN:
        import importlib

        importlib.import_module(_BUILTIN[prefix]).install()
    return _BACKENDS.get(prefix)


def is_recorded(model: str) -> bool:
    """Whether replies of `model` are stored in cassettes and the cache (False: a pure backend)."""
    return find_backend(model) is None or model.split("/", 1)[0] not in _UNRECORDED


# --- litellm --------------------------------------------------------------------------------

_litellm: Any = None


def load_litellm() -> Any:
    """Import litellm once, offline: local cost map, no telemetry, no debug banners."""
    global _litellm
    if _litellm is None:
        # No network at import or later: the bundled cost map, no tokenizer or catalog fetches.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_OFFLINE_MODE", "True")
        os.environ.setdefault("LITELLM_TELEMETRY", "False")
        import litellm  # noqa: PLC0415 - lazy on purpose: replay must not import it

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        litellm.drop_params = False
        _litellm = litellm
    return _litellm


def _retry_after(exc: BaseException) -> float | None:
    """The Retry-After the provider sent with an error, in seconds, if any."""
    candidates: list[Any] = []
    resp = getattr(exc, "response", None)
    if resp is not None:
        candidates.append(getattr(resp, "headers", None))
    candidates.append(getattr(exc, "headers", None))
    candidates.append(getattr(exc, "litellm_response_headers", None))
    for headers in candidates:
        if not headers:
            continue
        try:
            value = headers.get("retry-after") or headers.get("Retry-After")
        except AttributeError:
            continue
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            continue  # an HTTP date: fall back to our own backoff
    return None


async def litellm_call(req: Request, *, model: str, timeout_s: float,
                       extra: dict[str, Any] | None = None, router: Any = None,
                       price: Callable[[Any], float | None] | None = None) -> RawReply:
    """One attempt through litellm.acompletion (or `router.acompletion`, `model` then being a
    model_list name); provider faults become ProviderError.

    litellm's own retries are off (num_retries=0): the client owns retries so that backoff,
    Retry-After and the budget are handled in one place for every backend. `price`: the
    reply's USD from the litellm response (default `response_cost` as `req.model`).
    """
    litellm = load_litellm()
    kwargs: dict[str, Any] = dict(req.params or {})
    kwargs.update(
        model=model,
        messages=[dict(m) for m in req.messages],
        temperature=req.temperature,
        max_tokens=req.max_tokens,
        timeout=timeout_s,
        num_retries=0,
    )
    if req.seed is not None:
        kwargs["seed"] = req.seed
    if req.response_format is not None:
        kwargs["response_format"] = _plain_dict(req.response_format)
    kwargs.update(extra or {})  # the caller's adaptations (api_base, backend-specific shapes) win
    try:
        resp = await (router.acompletion if router is not None else litellm.acompletion)(**kwargs)
    except Exception as exc:  # litellm maps every provider fault onto its exception types
        status = getattr(exc, "status_code", None)
        name = type(exc).__name__
        timeout_like = isinstance(exc, (TimeoutError,)) or name in ("Timeout", "APITimeoutError")
        conn_like = name in ("APIConnectionError", "InternalServerError", "ServiceUnavailableError",
                             "BadGatewayError", "APIError")
        retryable = None
        if timeout_like or conn_like or status is None:
            retryable = True
        elif isinstance(status, int):
            retryable = status in (408, 409, 425, 429) or status >= 500
        raise ProviderError(f"{name}: {getattr(exc, 'message', None) or exc}",
                            status=status if isinstance(status, int) else None,
                            retry_after=_retry_after(exc), retryable=retryable) from exc
    choice = resp.choices[0]
    text = getattr(choice.message, "content", None) or ""
    usage = getattr(resp, "usage", None)
    return RawReply(
        text=text,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        model_version=str(getattr(resp, "model", "") or ""),
        finish_reason=getattr(choice, "finish_reason", None),
        cost_usd=price(resp) if price is not None else response_cost(resp, req.model),
    )


def response_cost(resp: Any, model: str) -> float | None:
    """USD of a litellm response priced from the *whole* response (cached prompt tokens,
    reasoning tokens, the provider's own cost header): `litellm.completion_cost`. None when
    litellm cannot price it (an unmapped model); the client then uses its price table."""
    import litellm

    from sorg.model.pricing import same_model

    reported = str(getattr(resp, "model", "") or "")
    if reported and not same_model(model, reported):
        return None  # litellm would price the name the provider reports (a self-hosted "gpt-4")
    hidden = getattr(resp, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    if cost is None:
        try:
            cost = litellm.completion_cost(completion_response=resp)
        except Exception:  # litellm raises its own "model not mapped" errors
            return None
    try:
        return float(cost)
    except (TypeError, ValueError):
        return None


def _plain_dict(value: Any) -> Any:
    if hasattr(value, "items"):
        return {k: _plain_dict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_dict(v) for v in value]
    return value
