"""Request identity: the one hash that names a model call in the cassette and the cache.

Why a canonical hash of *everything* that changes the reply: two calls that could get
different replies must never share a recorded answer, and two calls that would get the same
reply must find each other across dict orderings, processes and Python runs. The sample
string (trial, agent, round) is part of it, so eight identical agents asked the same thing
get eight independent replies. `label` (who asked) is not: renaming a test must not
invalidate its recordings. Secrets are removed before hashing (sorg.model.redact).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from sorg.model.redact import identity_params
from sorg.model.types import Request

__all__ = ["canonical", "request_key", "field_digests", "model_slug", "digest"]


def _plain(value: Any) -> Any:
    """JSON-ready copy: mappings become dicts, tuples lists (so ordering never matters).

    Exact types first: a replay hashes every request of a sweep (200,000 at the study's
    scale), whose leaves are nearly all plain str and dict, and an ``isinstance(.., Mapping)``
    check (an ABC look-up) on each leaf was a third of the hashing time. The general branches
    below give the same result for these types."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _plain(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # 1 and 1.0 give the same reply; hash them alike.
        return int(value)
    if isinstance(value, (str, int, float)):
        return value
    # Anything else (a set, bytes, a Decimal, an object) has no JSON form; hashing its repr
    # would name the call by a memory address or an unordered iteration, so two identical
    # requests could miss each other and a recording could never replay.
    raise TypeError(f"request identity: a {type(value).__name__} ({value!r:.60}) is not plain JSON; "
                    f"pass str, int, float, bool, None, lists and dicts")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(req: Request) -> str:
    """The canonical JSON of what identifies `req` (sorted keys, no whitespace)."""
    return _dumps(
        {
            "model": req.model,
            "messages": _plain(req.messages),
            "temperature": _plain(req.temperature),
            "max_tokens": req.max_tokens,
            "seed": req.seed,
            "response_format": _plain(req.response_format),
            "params": _plain(identity_params(req.params or {})),
            "sample": req.sample,
        }
    )


def request_key(req: Request) -> str:
    """sha256 hex of `canonical(req)`: the request's name in cassettes and the cache."""
    return hashlib.sha256(canonical(req).encode("utf-8")).hexdigest()


def digest(value: Any) -> str:
    """A short (12 hex) digest of a JSON-ready value, for field-by-field comparison."""
    return hashlib.sha256(_dumps(_plain(value)).encode("utf-8")).hexdigest()[:12]


def field_digests(req: Request) -> dict[str, Any]:
    """Each identifying field, small scalars as is, bulky ones as digests.

    Stored with every cassette entry so a miss can say *which* fields differ from the
    nearest recorded request without storing the whole prompt.
    """
    return {
        "messages": digest(req.messages),
        "temperature": _plain(req.temperature),
        "max_tokens": req.max_tokens,
        "seed": req.seed,
        "response_format": None if req.response_format is None else digest(req.response_format),
        "params": digest(identity_params(req.params or {})),
        "sample": req.sample,
    }


_SLUG_RE = re.compile(r"[^A-Za-z0-9._-]+")


def model_slug(model: str) -> str:
    """A directory name for a model string: 'openai/gpt-4o' -> 'openai--gpt-4o'."""
    slug = _SLUG_RE.sub("-", model.replace("/", "--")).strip(".-")
    return slug or "model"
