"""Secrets never leave the process: strip them from params, URLs and any text we write.

Why a module of its own: the request hash, the cassette summary, the cache entry and every
error message all pass through here, so one place decides what counts as a secret.

Why an allow-list: guessing secrets by name missed `x_api_key` and an `X-Api-Token` header, and
wrote them to cassettes and the cache. Now only params and headers named in `SAFE_PARAMS` /
`SAFE_HEADERS` (generation settings, routing, API versions) keep their values; any other is
kept by name with its value masked (so a reviewer sees it was passed, and a request with it
still hashes apart from one without), and a known secret name is dropped. A param of your own
that changes the reply and is no secret is added with `allow_param(name)`. Text (replies,
error messages, labels, reprs) is masked by shape too: the values of credential-looking
environment variables and the common key formats (`sk-`, `hf_`, `ghp_`, `AKIA`, ...).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Param names whose *values* are secrets; dropped entirely from anything written.
SECRET_PARAMS = frozenset(
    {
        "api_key", "api_token", "token", "access_token", "password", "secret",
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
        "azure_ad_token", "vertex_credentials", "client_secret",
    }
)
# Name segments that make any param a secret (`aws_web_identity_token`, `azure_password`,
# `my_client_secret_v2`, `google_credentials`): matched on "_"/"-"-separated segments, so
# `max_tokens` (segment "tokens") is not a secret.
SECRET_LAST_SEGMENTS = frozenset({"token", "password", "passwd", "apikey"})
SECRET_SUBSTRINGS = ("secret", "credential")


def is_secret_param(name: str) -> bool:
    """Whether a param of this name carries a secret: a known name, a name whose last
    segment is token/password, or one containing "secret" or "credential"."""
    low = name.lower()
    if low in SECRET_PARAMS or any(s in low for s in SECRET_SUBSTRINGS):
        return True
    segments = [x for x in re.split(r"[_\-]", low) if x]
    return bool(segments) and segments[-1] in SECRET_LAST_SEGMENTS


#: Params whose values are written and hashed as given (`allow_param` adds to it).
SAFE_PARAMS: set[str] = {
    "temperature", "max_tokens", "max_completion_tokens", "top_p", "top_k", "min_p", "seed", "stop", "n",
    "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "logprobs", "top_logprobs",
    "response_format", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "thinking",
    "stream", "timeout", "num_retries", "api_version", "custom_llm_provider", "extra_body",
    "api_base", "base_url", "api_url", "extra_headers", "headers",
}
#: Headers whose values are written as given; any other header's value is masked.
SAFE_HEADERS = frozenset({
    "accept", "content-type", "user-agent", "x-trace", "x-request-id", "openai-organization", "openai-project",
    "openai-beta", "anthropic-version", "anthropic-beta", "http-referer", "x-title",
})


def allow_param(name: str) -> None:
    """Write and hash param `name` as given (a reply-changing setting of your provider)."""
    if is_secret_param(name):
        raise ValueError(f"param {name!r} looks like a secret; it cannot be allow-listed")
    SAFE_PARAMS.add(name)


# Param names that carry headers; only non-secret headers survive.
HEADER_PARAMS = frozenset({"extra_headers", "headers"})
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "x-goog-api-key"}
)
# Query-string keys in a URL that carry credentials.
SECRET_QUERY = frozenset({"key", "api_key", "apikey", "token", "access_token", "sig", "signature", "code"})
URL_PARAMS = frozenset({"api_base", "base_url", "api_url"})

MASK = "***"
_URL_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# Shapes of well-known provider keys, masked wherever they appear in text.
_KEY_RE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|xox[abpors]-[A-Za-z0-9\-]{10,}"
    r"|hf_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_\-]{16,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}|r8_[A-Za-z0-9]{20,}|gsk_[A-Za-z0-9]{20,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{8,})"
)
_ENV_SECRET_RE = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.I)


def redact_url(url: str) -> str:
    """The URL without user:password@ and without credential query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, v) for k, v in pairs if k.lower() not in SECRET_QUERY])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def identity_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params as the request hash sees them: secret names and secret headers dropped (a rotated
    key must not invalidate a recording), URLs stripped of credentials, every other value as
    given (two values of an unlisted param may get different replies, so they must not share
    one). Only hashed, never written: what is written is `clean_params`."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        low = name.lower()
        if is_secret_param(name):
            continue
        if low in HEADER_PARAMS and isinstance(value, Mapping):
            kept = {h: v for h, v in value.items() if h.lower() not in SECRET_HEADERS}
            if kept:
                out[name] = kept
            continue
        out[name] = redact_url(value) if low in URL_PARAMS and isinstance(value, str) else value
    return out


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params fit to write: secret names dropped, URLs stripped of credentials, the values of
    params and headers not on the allow-list masked."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        low = name.lower()
        if is_secret_param(name):
            continue
        if low in HEADER_PARAMS and isinstance(value, Mapping):
            kept = {h: (v if h.lower() in SAFE_HEADERS else MASK) for h, v in value.items()
                    if h.lower() not in SECRET_HEADERS}
            if kept:
                out[name] = kept
            continue
        if low in URL_PARAMS and isinstance(value, str):
            out[name] = redact_url(value)
            continue
        out[name] = value if name in SAFE_PARAMS or low in SAFE_PARAMS else MASK
    return out


def secret_values(params: Mapping[str, Any] | None = None) -> list[str]:
    """Every concrete secret string we know of: secret params, header values, env keys."""
    found: list[str] = []
    for name, value in (params or {}).items():
        low = name.lower()
        if (is_secret_param(name) or not (name in SAFE_PARAMS or low in SAFE_PARAMS)) and isinstance(value, str):
            found.append(value)
        elif low in HEADER_PARAMS and isinstance(value, Mapping):
            found += [str(v) for h, v in value.items() if h.lower() not in SAFE_HEADERS]
        elif low in URL_PARAMS and isinstance(value, str):
            found += url_secrets(value)
    found += known_secrets()
    return [s for s in found if len(s) >= 4]


def url_secrets(url: str) -> list[str]:
    """The credentials inside a URL: user, password and credential query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [x for x in (parts.password, parts.username) if x]
    return found + [v for k, v in parse_qsl(parts.query) if k.lower() in SECRET_QUERY]


#: Secrets sorg was given outside requests and the environment (a model config file's keys).
_ADDED: set[str] = set()


def add_secrets(values: Iterable[str]) -> None:
    """Mask these values wherever sorg writes text, from now on in this process (a model config
    file's api keys: neither a request param nor an environment variable holds them).

    Only values shaped like a credential: 12+ characters with a digit, or 32+. A local server's
    placeholder key (`none`, `EMPTY`, `sk-no-key-required`) is no secret, and masking it would
    change every reply that contains the word."""
    _ADDED.update(v for v in values if isinstance(v, str) and looks_secret(v))


def looks_secret(value: str) -> bool:
    """Whether `value` is shaped like a credential rather than a placeholder word."""
    value = value.strip()
    return (len(value) >= 12 and any(c.isdigit() for c in value)) or len(value) >= 32


def known_secrets() -> list[str]:
    """Every secret value this process knows of outside a request: credential-looking
    environment variables and the values given to `add_secrets`."""
    return env_secrets() + sorted(_ADDED)


def env_secrets() -> list[str]:
    """Values of credential-looking environment variables (`*_KEY`, `*_TOKEN`, ...), 8+ chars."""
    return [v for k, v in os.environ.items() if _ENV_SECRET_RE.search(k) and len(v) >= 8]


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with URL credentials, key-shaped strings, the values of credential-looking
    environment variables, `add_secrets`' values and the given secret values masked."""
    out = _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
    for secret in sorted(set(extra) | set(known_secrets()), key=len, reverse=True):
        if secret:
            out = out.replace(secret, MASK)
    return _KEY_RE.sub(MASK, out)
