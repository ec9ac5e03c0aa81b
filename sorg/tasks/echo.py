"""Echo masking: blanking the task's own words out of an answer before it is checked.

Why: small models often restate the task, and the task's own words would satisfy its rubric.
Masking is a function of the text and the task alone, so it keeps the rubric scores'
properties (order independence, monotonicity in added sections); see `sorg.tasks.rubric`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

__all__ = ["ECHO_NGRAM", "mask_echo", "mask_grams", "phrase_grams"]

#: The shortest run of words copied from the prompt that is blanked out.
ECHO_NGRAM = 4

_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=512)
def _prompt_ngrams(prompt: str, n: int = ECHO_NGRAM) -> frozenset[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(prompt)]
    return frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def phrase_grams(sources: Iterable[tuple[str, int]]) -> dict[int, frozenset[tuple[str, ...]]]:
    """The word n-grams of each (text, n) source, grouped by n: what `mask_grams` blanks.

    Several sources with their own n let one pass mask a long prompt by 4-grams and a short
    checklist line ("names a venue") by its whole 3-word run.
    """
    out: dict[int, set[tuple[str, ...]]] = {}
    for text, n in sources:
        if n >= 1:
            out.setdefault(n, set()).update(_prompt_ngrams(text, n))
    return {n: frozenset(g) for n, g in sorted(out.items()) if g}


def mask_grams(section: str, grams: Mapping[int, frozenset[tuple[str, ...]]]) -> str:
    """Blank out of `section` every run of n consecutive words that is one of `grams[n]`.

    Words are maximal runs of letters/digits, compared case-insensitively; a masked word's
    characters become spaces, so line structure and the other words keep their places.
    """
    if not grams:
        return section
    spans = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(section)]
    covered = [False] * len(spans)
    words = [w for _, _, w in spans]
    for n, found in grams.items():
        for i in range(len(spans) - n + 1):
            if tuple(words[i : i + n]) in found:
                for j in range(i, i + n):
                    covered[j] = True
    if not any(covered):
        return section
    chars = list(section)
    for (start, end, _), hit in zip(spans, covered):
        if hit:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


def mask_echo(section: str, prompt: str, n: int = ECHO_NGRAM) -> str:
    """Blank out of `section` every run of >= n consecutive words copied from `prompt`."""
    grams = _prompt_ngrams(prompt, n)
    return mask_grams(section, {n: grams}) if grams else section
