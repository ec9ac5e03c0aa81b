"""Trial data packed into the page: gzip, then base64, in inert `<script>` data blocks.

Why: the page must stay one offline file and open fast on a 10,000-trial run. Trial text
(answers, turns, prompts) is most of its bytes and compresses several times over; packed
in chunks, a browser inflates (`DecompressionStream`) only the index when the page opens
and one chunk when a trial is opened, and never parses the rest. Deterministic (gzip with
no timestamp, JSON with sorted keys), so two builds of one run give the same page.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

#: Trials per detail chunk: opening one trial inflates at most this many.
CHUNK = 40


def dumps(data: Any) -> str:
    """Compact canonical JSON (sorted keys, no NaN)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def pack(data: Any) -> str:
    """`data` as base64 of gzipped canonical JSON (safe inside any HTML element)."""
    return base64.b64encode(gzip.compress(dumps(data).encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def pack_text(json_text: str) -> str:
    """Like `pack`, for JSON that is already text."""
    return base64.b64encode(gzip.compress(json_text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def unpack(text: str) -> Any:
    """Inverse of `pack` (tests and tools read the page's data back with it)."""
    return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))


def block(block_id: str, payload: str) -> str:
    """An inert data block the page's script reads by id (never executed: not a JS type)."""
    return f'<script type="application/octet-stream" id="{block_id}">{payload}</script>'
