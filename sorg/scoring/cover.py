"""The credited text of an answer: the fewest characters of its sections that pass what it passes.

Why a module of its own: step 5 of the definition in `sorg.scoring.coverage` needs an exact
minimum (an approximation could charge an answer for text that earns something, and could
change when sections are reordered); an exact cover is a search, kept apart from the scoring
that uses its length. The search stays small whatever the answer's length: it runs over item
subsets and capped counts, and only over the sections that could be in a minimum cover.
"""

from __future__ import annotations

from typing import Any

from sorg.scoring.verdicts import Verdict

__all__ = ["candidates", "min_cover"]


def min_cover(cands: list[tuple[int, int, tuple[int, ...]]], target: tuple[int, tuple[int, ...]]
               ) -> tuple[int, tuple[int, ...]]:
    """Fewest characters of candidate sections (chars, mask, capped counts) reaching `target`
    (all its mask bits, each count at least its cap): an exact 0/1 cover by dynamic
    programming over (mask, counts) states. Returns (chars, indices of the chosen sections)."""
    caps = target[1]
    states: dict[tuple[int, tuple[int, ...]], tuple[int, Any]] = {(0, (0,) * len(caps)): (0, None)}
    for i, (chars, mask, counts) in enumerate(cands):
        for (m, c), (cost, chain) in list(states.items()):
            key = (m | mask, tuple(min(cap, a + b) for cap, a, b in zip(caps, c, counts)))
            if key == (m, c):
                continue
            old = states.get(key)
            if old is None or cost + chars < old[0]:
                states[key] = (cost + chars, (i, chain))
    cost, chain = states[target]
    chosen: list[int] = []
    while chain is not None:
        chosen.append(chain[0])
        chain = chain[1]
    return cost, tuple(sorted(chosen))


def candidates(verdicts: list[Verdict], caps: tuple[int, ...]) -> list[int]:
    """Indices of the sections the cover needs to consider, a number bounded whatever the
    answer's length: of sections passing the same items with the same (capped) counts, the
    shortest ``max(caps)`` (a cover never needs more of them: each adds at least 1 to a
    count capped there), or the shortest one when they count nothing; then minus count-free
    sections dominated by another candidate (a superset of items, no longer)."""
    groups: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    for i, v in enumerate(verdicts):
        if v.mask:
            key = (v.mask, tuple(min(cap, n) for cap, n in zip(caps, v.counts)))
            groups.setdefault(key, []).append(i)
    need = max(caps, default=0)
    kept: list[int] = []
    for (_, counts), members in groups.items():
        members.sort(key=lambda i: (verdicts[i].chars, i))
        kept += members[: need if any(counts) else 1]
    out = []
    for i in kept:
        vi = verdicts[i]
        if any(min(cap, n) for cap, n in zip(caps, vi.counts)) or not any(
            j != i and verdicts[j].mask | vi.mask == verdicts[j].mask and (verdicts[j].chars, j) < (vi.chars, i)
            for j in kept
        ):
            out.append(i)
    return sorted(out)
