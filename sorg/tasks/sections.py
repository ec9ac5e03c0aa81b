"""An answer's sections: the unit every rubric check looks at.

Why a module of its own: both quality scores (`sorg.tasks.rubric`, `sorg.scoring.coverage`)
and the echo masking work on the same sections, and the split is what makes a score
independent of the order of an answer's contributions, so there is exactly one definition.
"""

from __future__ import annotations

import re

__all__ = ["split_sections"]

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


def split_sections(text: str) -> list[str]:
    """Split an answer into sections: runs of non-blank lines; a markdown heading starts one.

    Uses str.splitlines so every Unicode line break counts; each section is its lines joined
    by "\\n". The split is local (depends on each line and whether it is blank), which is what
    makes reordering blank-line-separated sections leave the multiset of sections unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"answer must be str, not {type(text).__name__}")
    sections: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            if current:
                sections.append("\n".join(current))
                current = []
            continue
        if _HEADING.match(line) and current:
            sections.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        sections.append("\n".join(current))
    return sections
