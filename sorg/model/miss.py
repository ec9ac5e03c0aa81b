"""What a cassette miss says: the request that missed, the nearest recording, what differs,
and whether the miss is one trial's or the whole run's.

Why a module of its own: a replay-only run (CI) fails on a miss, and the message is all the
reader has to tell a changed prompt from a changed sample name or an unrecorded model; finding
the nearest entry is a search over the model's recordings, apart from the look-up itself.

Why an index: a changed setting misses on every request of a sweep, and comparing each miss
with every entry of the model made a replay of the study spend minutes there. The index
(built once per model and file state) holds the entries by sample and the sorted samples, so a
miss looks at the recordings of its own sample, or of the few samples next to it in sort
order, and at the set of generation settings ever recorded.

Why a cause: a request whose generation settings (temperature, token limit, response format,
extra params) match no recording of its model, or whose own sample was recorded with other
messages (a prompt or protocol change), misses on every trial alike. Such a miss is marked
`run_wide` with its `cause`, and the plugin reports it once and stops the run instead of
failing each trial with the same story.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

from sorg.model.cassette import CassetteStore
from sorg.model.entry import last_message, short
from sorg.model.identity import field_digests
from sorg.model.redact import redact_text, secret_values
from sorg.model.types import Request

__all__ = ["miss_message", "miss_cause", "nearest", "MissIndex"]

#: Fields a whole run sets alike (a sweep's generation settings); a value no recording has is
#: a changed setting, not a new trial. (`seed` and `sample` name the trial: a new one is new data.)
_SETTINGS = ("temperature", "max_tokens", "response_format", "params")
#: How many neighbouring samples (in sort order) a miss without a recording of its own sample
#: compares with.
_NEIGHBOURS = 8


class MissIndex:
    """The recordings of one model, arranged for misses: by sample, samples sorted, and each
    generation setting's recorded values."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self.by_sample: dict[str, list[Mapping[str, Any]]] = {}
        self.settings: dict[str, set[str]] = {f: set() for f in _SETTINGS}
        for e in entries:
            self.by_sample.setdefault(str(e.get("sample", "")), []).append(e)
            fields = e.get("req") or {}
            for f in _SETTINGS:
                if f in fields:
                    self.settings[f].add(repr(fields[f]))
        self.samples = sorted(self.by_sample)

    def candidates(self, sample: str) -> list[Mapping[str, Any]]:
        """Entries of `sample`, else of the samples nearest it in sort order."""
        own = self.by_sample.get(sample)
        if own:
            return own
        i = bisect.bisect_left(self.samples, sample)
        near = self.samples[max(0, i - _NEIGHBOURS // 2): i + _NEIGHBOURS // 2]
        return [e for s in near for e in self.by_sample[s]]


_INDEX: dict[int, tuple[dict[str, Any], int, MissIndex]] = {}


def index_of(store: CassetteStore, model: str) -> MissIndex:
    """The model's miss index, rebuilt when its entries changed (a recording run adds some)."""
    entries = store.entries(model)
    got = _INDEX.get(id(entries))
    if got is None or got[0] is not entries or got[1] != len(entries):
        got = (entries, len(entries), MissIndex(entries.values()))
        _INDEX[id(entries)] = got
    return got[2]


def miss_cause(store: CassetteStore, req: Request) -> str:
    """Why every trial would miss like this one, or "" when the miss is this request's own."""
    idx = index_of(store, req.model)
    if not idx.samples:
        return ""
    mine = field_digests(req)
    changed = [f for f in _SETTINGS if idx.settings[f] and repr(mine[f]) not in idx.settings[f]]
    if changed:
        shown = ", ".join(
            f"{f} {mine[f]!r} asked, recorded {', '.join(sorted(idx.settings[f]))}"
            if f in ("temperature", "max_tokens") else f"{f} differs from every recording" for f in changed)
        return f"generation settings of {req.model!r} differ from every recording ({shown})"
    own = idx.by_sample.get(req.sample) or []
    if own and all((e.get("req") or {}).get("messages") != mine["messages"] for e in own):
        # The same words for every trial (the plugin reports a fault once by its text).
        return (f"the prompts changed: {req.model!r} was recorded with other messages for the same samples "
                f"(a prompt, protocol or prompt-version change; re-record, or restore the prompts)")
    return ""


def miss_message(store: CassetteStore, req: Request, key: str, cause: str = "") -> str:
    """Why `req` (named by `key`) has no recorded reply in `store`, and how to record it."""
    who = req.label or "(no label)"
    lines = [
        f"no recorded reply for {who}: model {req.model!r}, sample {req.sample!r}, "
        f"last message {short(redact_text(last_message(req)))!r} (key {key[:12]}).",
    ]
    if cause:
        lines.append(f"Every trial misses alike: {cause}.")
    found = nearest(req, index_of(store, req.model).candidates(req.sample))
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
    # The message reaches the terminal and junit XML: a key inside a prompt or label is masked.
    return redact_text(" ".join(lines), secret_values(req.params))


def nearest(req: Request, entries: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The recorded entry most like `req` among `entries` (a `MissIndex.candidates` list):
    same sample first, then most fields equal, then text."""
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
