"""What a cassette miss says: the request that missed, the nearest recording and what differs.

Why a module of its own: a replay-only run (CI) fails on a miss, and the message is all the
reader has to tell a changed prompt from a changed sample name or an unrecorded model; finding
the nearest entry is a search over the model's recordings, apart from the look-up itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sorg.model.cassette import CassetteStore
from sorg.model.entry import last_message, short
from sorg.model.identity import field_digests
from sorg.model.redact import redact_text
from sorg.model.types import Request

__all__ = ["miss_message", "nearest"]


def miss_message(store: CassetteStore, req: Request, key: str) -> str:
    """Why `req` (named by `key`) has no recorded reply in `store`, and how to record it."""
    entries = store.entries(req.model)
    who = req.label or "(no label)"
    lines = [
        f"no recorded reply for {who}: model {req.model!r}, sample {req.sample!r}, "
        f"last message {short(redact_text(last_message(req)))!r} (key {key[:12]}).",
    ]
    found = nearest(req, entries.values())
    if found is None:
        lines.append(f"No recording of {req.model!r} under {store.root}/ at all.")
    else:
        mine = field_digests(req)
        theirs = found.get("req") or {}
        diff = [f for f in mine if theirs.get(f, mine[f]) != mine[f]]
        shown = ", ".join(
            f"{f} ({theirs.get(f)!r} recorded, {mine[f]!r} asked)"
            if f not in ("messages", "params", "response_format")
            else f"{f} (content differs)" for f in diff
        ) or "none of the summarised fields (the request hash scheme changed?)"
        lines.append(
            f"Nearest recorded: sample {found.get('sample')!r}, last message {found.get('last', '')!r}"
            f" (label {found.get('label', '')!r}); fields that differ: {shown}."
        )
    lines.append(
        "To record it: rerun with --sorg-record=new (ModelClient(record='new')) where the model "
        "can be reached, then commit the cassette file "
        f"{store.path_for(req.model)}."
    )
    return " ".join(lines)


def nearest(req: Request, entries: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The recorded entry most like `req`: same sample first, then most fields equal, then text."""
    import difflib

    mine = field_digests(req)
    last = short(last_message(req))
    best: tuple[float, Mapping[str, Any]] | None = None
    sample_matcher = difflib.SequenceMatcher(None, "", req.sample)
    last_matcher = difflib.SequenceMatcher(None, "", last)
    for entry in entries:
        fields = entry.get("req") or {}
        same = sum(1 for f, v in mine.items() if fields.get(f) == v)
        sample_matcher.set_seq1(entry.get("sample", ""))
        last_matcher.set_seq1(entry.get("last", ""))
        score = same + sample_matcher.quick_ratio() + 0.5 * last_matcher.quick_ratio()
        if best is None or score > best[0]:
            best = (score, entry)
    return None if best is None else best[1]
