"""Guards on task files a user writes: regexes that backtrack exponentially, JSON nested too deep.

Why apart from the loader: both are checks of shape, not of the task schema, and each is a
small pure function with its own tests (tests/faults/test_input_faults.py).
"""

from __future__ import annotations

import re
from typing import Any

_ESCAPE = re.compile(r"\\.")
_CLASS = re.compile(r"\[\^?\]?[^\]]*\]")
_QUANT = re.compile(r"[*+]|\{\d*,\d*\}|\{\d+\}")


def nested_quantifier(pattern: str) -> bool:
    """Whether a repeated group holds a repeat itself (`(?:[^!]{1,5})+!`, `(a+)*`): the shape
    that backtracks exponentially when the text almost matches (a 28-character answer took
    10 s). Escapes and character classes are read as one character first."""
    s = _CLASS.sub("x", _ESCAPE.sub("x", pattern))
    stack: list[bool] = []  # per open group: does it hold a repeat
    i = 0
    while i < len(s):
        ch = s[i]
        m = _QUANT.match(s, i)
        if ch == "(":
            stack.append(False)
        elif ch == ")" and stack:
            inner = stack.pop()
            after = _QUANT.match(s, i + 1)
            if inner and after and not _fixed(after.group(0)):
                return True
            if stack:
                stack[-1] = stack[-1] or inner or bool(after)
        elif m and stack and not _fixed(m.group(0)):
            stack[-1] = True
            i = m.end()
            continue
        i += 1
    return False


def _fixed(quantifier: str) -> bool:
    """A repeat that cannot vary its count ({3}, {1,1}) or only by one ({0,1}): no backtracking."""
    if "," not in quantifier:
        return quantifier.startswith("{")
    lo, hi = quantifier.strip("{}").split(",")
    return hi != "" and int(hi) - int(lo or 0) <= 1



#: Deepest JSON nesting a task file may have (the schema needs about 6): the validators recurse.
MAX_DEPTH = 32


def json_depth(value: Any) -> int:
    """Nesting depth of JSON data, counted without recursion (stops past MAX_DEPTH)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            if d > MAX_DEPTH:
                return d
            todo.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest
