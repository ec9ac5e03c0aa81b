"""An answer's sections as `coverage` scores them: JSON unwrapped, each section normalised.

Why a module of its own: deciding what text an answer *is* (steps 1 and 2 of the definition in
`sorg.scoring.coverage`) comes before, and apart from, checking that text against a rubric.
Wrapping an answer in ``{"answer": ...}``, a fence or a list of contributions must give the
same sections as the bare answer, so JSON is never rewarded and its syntax, keys and numbers
are never credited; and two sections that differ only in case or spacing must be one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sorg.tasks.sections import split_sections

__all__ = ["MAX_JSON_DEPTH", "PAYLOAD_KEYS", "answer_sections", "normalise_section"]

#: Keys of a JSON object whose values are the payload (the rest is metadata, e.g. a role).
PAYLOAD_KEYS = ("contribution", "answer", "final_answer", "content", "text")
#: How deep JSON-in-a-JSON-string is unwrapped (each level is strictly shorter text).
MAX_JSON_DEPTH = 32

_FENCE_OPEN = re.compile(r"\A```[\w+.-]*[ \t]*\n")
_FENCE_CLOSE = re.compile(r"^[ \t]*```[ \t]*$", re.MULTILINE)
_DECODER = json.JSONDecoder()


def _string_leaves(obj: Any) -> list[str]:
    """The string leaves of a parsed JSON value, payload keys only where a dict has them."""
    out: list[str] = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str):
            out.append(o)
        elif isinstance(o, dict):
            keys = [k for k in PAYLOAD_KEYS if k in o]
            stack.extend(reversed([o[k] for k in keys] if keys else list(o.values())))
        elif isinstance(o, list):
            stack.extend(reversed(o))
    return out


def _parse_json(section: str) -> tuple[list[str], str] | None:
    """(string leaves, the text around them) when `section` is JSON: the whole section, a
    JSON object/array that begins it, or either inside a fenced block that begins it (text
    after the JSON or after the closing fence is kept); None when it is plain text."""
    s = section.strip()
    after = ""
    fence = _FENCE_OPEN.match(s)
    if fence:
        s = s[fence.end():]
        close = _FENCE_CLOSE.search(s)
        if close:
            s, after = s[: close.start()], s[close.end():]
        s = s.strip()
    if not s or s[0] not in '{["':
        return None
    rest = ""
    try:
        obj = json.loads(s)
    except (ValueError, RecursionError):
        try:
            obj, end = _DECODER.raw_decode(s)
        except (ValueError, RecursionError):
            return None
        rest = s[end:]
        # A quoted string begins JSON only when a line break follows it: '"Great venue,"
        # said the team' is prose.
        if isinstance(obj, str) and not rest.lstrip(" \t").startswith(("\n", "\r")):
            return None
    if not isinstance(obj, (dict, list, str)):
        return None
    return _string_leaves(obj), (rest + "\n" + after).strip()


def answer_sections(answer: str) -> tuple[list[str], bool]:
    """The answer's sections with JSON sections replaced by their string leaves (split into
    sections again, recursively), in order; and whether any JSON was unwrapped."""
    out: list[str] = []
    unwrapped = False
    stack = [(s, 0) for s in reversed(split_sections(answer))]
    while stack:
        section, depth = stack.pop()
        parsed = _parse_json(section) if depth < MAX_JSON_DEPTH else None
        if parsed is None:
            out.append(section)
            continue
        unwrapped = True
        leaves, rest = parsed
        pieces = [p for leaf in leaves for p in split_sections(leaf)] + split_sections(rest)
        stack.extend((p, depth + 1) for p in reversed(pieces))
    return out, unwrapped


def normalise_section(section: str) -> str:
    """Lines stripped, whitespace runs made one space, lower case, blank lines dropped: two
    sections that differ only in case or spacing are the same section."""
    lines = (" ".join(line.split()).lower() for line in section.splitlines())
    return "\n".join(line for line in lines if line)
