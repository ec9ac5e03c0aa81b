"""`coverage`: a deterministic rubric quality that answer length cannot buy.

Why another rubric score: ``quality.rubric`` (sorg/tasks/rubric.py) is an existence check over
an answer's sections, so it is monotone in added text: a longer pile of contributions always
scores at least as high (measured: rank correlation 0.62 between answer length and score; a
65,000-character answer that begins with raw JSON scores 1.0). ``coverage`` keeps the same
rubric items and checks, and adds what an existence check cannot see: what the text that
earned nothing costs, and how long the answer is. No model is called; the same answer and
task always give the same number.

Definition (``value = C * Q * L``, in [0, 1]):

1. **Sections.** The answer is split into sections exactly as the rubric does (runs of
   non-blank lines; a markdown heading starts one). A section that is JSON (the whole
   section, or a JSON value that begins it, bare or in a fenced block that begins it; text
   after the value or the fence stays text) is replaced by its string leaves
   (in a dict holding ``contribution``/``answer``/``final_answer``/``content``/``text`` only
   those keys' values: the rest is metadata such as a role), each split into sections again,
   recursively. *Why:* wrapping an answer in ``{"answer": ...}``, a fence or a list of
   contributions then scores exactly like the bare answer: JSON is never rewarded, and its
   syntax, keys and numbers are never credited.
2. **Unique sections.** Each section is normalised (lines stripped, runs of whitespace made
   one space, lower case, blank lines dropped) and sections with the same normalised text
   count once. Every check and every length below is taken over the *set* of unique
   normalised sections. *Why:* a copy of the answer, or of any of its sections, adds nothing
   and costs nothing; and a set has no order, so reordering sections cannot change anything.
3. **Echo masking.** Before a section is checked, the task's own words are blanked out of it
   (`sorg.tasks.rubric.mask_grams`): every run of ``ECHO_NGRAM`` (4) words copied from the
   prompt, and every whole copy of one of the task's short phrases (each prompt sentence,
   the title, each rubric item's description; a phrase of 1-3 words is masked as a whole,
   a longer one by its 4-word runs). *Why:* an answer made of the
   prompt, its sentences shuffled, or the prompt plus the checklist, would otherwise satisfy
   the rubric; it scores exactly 0.
4. **Items.** An element, or a section-level constraint (sum, range, count), passes when some
   unique masked section satisfies it (the rubric's own checks). An answer-scope ``count``
   passes when the items on *distinct* lines of the unique sections that satisfy at least
   one other rubric item reach its ``min``. *Why the gate:* "- lorem\\n- ipsum" is not an
   agenda; without it, bullets of filler could complete a count. *Why distinct lines:* a
   bullet repeated in two sections (two agents' near-identical contributions, or a copy with
   a word glued on) is one item, not two.
   ``C`` = weight of the passed items / weight of all items (task-file weights).
5. **Credited text.** ``R`` = the fewest characters of unique sections that, on their own,
   pass every item the whole answer passes (an exact minimum-weight cover, computed by
   dynamic programming over item subsets; a count is a capped running sum of each section's
   items, so a line two sections share may count twice there: the cover may come out
   shorter, never longer, which only charges the rest of the text more). ``T`` = the
   characters of all unique sections (normalised, before masking: echoed text is text the
   reader must read). ``U = T - R`` is the text that earns nothing: filler, off-task text,
   echoed prompt, and contributions that repeat an item an earlier-credited section already
   covers. *Why a minimum:* adding a section never makes the old cover invalid, so ``R``
   can only fall and ``U`` can only grow when the new text passes nothing new; and gluing
   text onto a credited section grows ``T`` at least as much as ``R``.
   ``Q = max(0, 1 - U / ANSWER_BUDGET_CHARS)``: each character that earns nothing costs the
   same share of the score, whatever the credited text around it (a ratio R/T could be
   raised by diluting the junk with longer credited text; an absolute charge cannot).
6. **Length.** ``L = min(1, ANSWER_BUDGET_CHARS / T)``. *Why:* every protocol's answer is
   bounded by the same final assembly step (about 1,300 characters); beyond the common
   budget of 1,500 characters, an answer is penalised in proportion, even when all of it is
   credited, so no protocol buys quality with length.

Consequences, proven by the hypothesis properties in tests/scoring/test_coverage_props.py:
``value`` is in [0, 1]; reordering sections does not change it; appending a copy of the
answer or of a section, appending filler, or wrapping the answer in JSON never raises it;
appending text (another task's answer) that passes no rubric item the answer did not already
pass never raises it (when it does pass a new item the score may rise: that is the rubric
working); and the task's own words score 0.

Cost: each unique section is checked once per task (cached); the cover is exact but small
(at most 2^items x (count min + 1) states). Scoring 1,000 bounded answers takes well under a
second of CPU.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sorg.scoring.base import Score, Scorer, register_scorer
from sorg.tasks.rubric import (
    ECHO_NGRAM,
    answer_count_lines,
    answer_count_passes,
    constraint_in_section,
    element_in_section,
    is_answer_scope,
    mask_grams,
    phrase_grams,
    split_sections,
)
from sorg.tasks.task import Constraint, Element, Task

__all__ = [
    "ANSWER_BUDGET_CHARS",
    "CoverageScorer",
    "answer_sections",
    "coverage_details",
    "normalise_section",
    "score_coverage",
]

#: The common answer budget, in characters: the same for every protocol (the final assembly
#: step is at most ~320 tokens, about 1,300 characters).
ANSWER_BUDGET_CHARS = 1500
#: Keys of a JSON object whose values are the payload (the rest is metadata, e.g. a role).
PAYLOAD_KEYS = ("contribution", "answer", "final_answer", "content", "text")
#: How deep JSON-in-a-JSON-string is unwrapped (each level is strictly shorter text).
MAX_JSON_DEPTH = 32

_FENCE_OPEN = re.compile(r"\A```[\w+.-]*[ \t]*\n")
_FENCE_CLOSE = re.compile(r"^[ \t]*```[ \t]*$", re.MULTILINE)
_DECODER = json.JSONDecoder()
_SENTENCE = re.compile(r"[.!?;:]+(?:\s+|$)|\n+")
_WORD = re.compile(r"[^\W_]+")


# ---------------------------------------------------------------------------------------------
# sections: JSON unwrapping, normalisation


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


# ---------------------------------------------------------------------------------------------
# per-task plan: items, echo phrases, a cache of section verdicts


def _phrase_n(text: str) -> int:
    """The run length that masks a copy of this phrase: up to 3 words as a whole ("names a
    venue", "communicates"), longer ones by ECHO_NGRAM-word runs; 0 for no words."""
    return min(ECHO_NGRAM, len(_WORD.findall(text)))


@dataclass(frozen=True)
class _Verdict:
    """One unique section's contribution: which section-level items it passes (bit mask),
    the distinct lines holding items of each answer-scope count (none unless gated in) and
    how many items they hold, its length."""

    mask: int
    lines: tuple[Mapping[str, int], ...]
    counts: tuple[int, ...]
    chars: int
    echo_only: bool


class _Plan:
    """What scoring a task needs, computed once per Task object: the echo phrases, the items
    in bit order, and the verdicts of sections already seen."""

    CACHE_SIZE = 8192

    def __init__(self, task: Task) -> None:
        self.task = task
        sources: list[tuple[str, int]] = [(task.prompt, ECHO_NGRAM)]
        phrases = [p for p in _SENTENCE.split(task.prompt) if p.strip()]
        phrases.append(task.title)
        phrases += [e.description for e in task.rubric.elements]
        phrases += [c.description for c in task.rubric.constraints]
        sources += [(p, _phrase_n(p)) for p in phrases if _phrase_n(p)]
        self.grams = phrase_grams(sources)
        self.section_items: list[Element | Constraint] = list(task.rubric.elements) + [
            c for c in task.rubric.constraints if not is_answer_scope(c)
        ]
        self.count_items: list[Constraint] = [c for c in task.rubric.constraints if is_answer_scope(c)]
        self._cache: dict[str, _Verdict] = {}

    def verdict(self, norm: str) -> _Verdict:
        hit = self._cache.get(norm)
        if hit is not None:
            return hit
        # A line left with no letter or digit once the echo is blanked ("- " of a copied
        # checklist line) carries nothing: it is no list item and no quantity.
        masked = "\n".join(line for line in mask_grams(norm, self.grams).split("\n") if _WORD.search(line))
        mask = 0
        lines: tuple[Mapping[str, int], ...] = tuple({} for _ in self.count_items)
        echo_only = not masked.strip()
        if not echo_only:
            for bit, item in enumerate(self.section_items):
                if isinstance(item, Element):
                    ok = element_in_section(item, masked)
                else:
                    ok = constraint_in_section(item, masked)[0]
                if ok:
                    mask |= 1 << bit
            if mask:  # the gate: only a section that earns something else counts items
                lines = tuple(answer_count_lines(c, masked) for c in self.count_items)
        v = _Verdict(mask, lines, tuple(sum(d.values()) for d in lines), len(norm), echo_only)
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.clear()
        self._cache[norm] = v
        return v


_PLANS: dict[int, _Plan] = {}


def _plan(task: Task) -> _Plan:
    # Keyed by identity (a Task holds dicts, so it is not hashable); the plan keeps its task
    # alive, so the id cannot be reused while the entry exists.
    p = _PLANS.get(id(task))
    if p is None or p.task is not task:
        if len(_PLANS) >= 256:
            _PLANS.clear()
        p = _PLANS[id(task)] = _Plan(task)
    return p


# ---------------------------------------------------------------------------------------------
# the minimum credited text


def _min_cover(cands: list[tuple[int, int, tuple[int, ...]]], target: tuple[int, tuple[int, ...]]
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


def _candidates(verdicts: list[_Verdict], caps: tuple[int, ...]) -> list[int]:
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


# ---------------------------------------------------------------------------------------------
# public API


def coverage_details(task: Task, answer: str, *, budget: int = ANSWER_BUDGET_CHARS) -> dict[str, Any]:
    """The coverage score of `answer` for `task` and everything it rests on (JSON-ready).

    ``value`` = ``coverage * relevance * length_factor`` (see the module docstring). A
    non-str answer (None from a failed trial) scores 0, like the rubric.
    """
    if budget <= 0:
        raise ValueError(f"budget must be positive, not {budget}")
    text = answer if isinstance(answer, str) else ""
    plan = _plan(task)
    raw_sections, unwrapped = answer_sections(text)
    normed = [norm for s in raw_sections if (norm := normalise_section(s))]
    unique = sorted(set(normed))
    verdicts = [plan.verdict(s) for s in unique]

    union = 0
    for v in verdicts:
        union |= v.mask
    # An answer-scope count counts distinct lines: the same bullet in two sections is one item.
    totals = []
    for j in range(len(plan.count_items)):
        seen: dict[str, int] = {}
        for v in verdicts:
            seen.update(v.lines[j])
        totals.append(sum(seen.values()))
    count_ok = [answer_count_passes(c, n) for c, n in zip(plan.count_items, totals)]

    items: list[dict[str, Any]] = []
    weights: list[float] = []
    passed_weights: list[float] = []
    for bit, item in enumerate(plan.section_items):
        ok = bool(union >> bit & 1)
        items.append({"id": item.id, "type": "element" if isinstance(item, Element) else "constraint",
                      "passed": ok, "weight": float(item.weight)})
    for c, ok, n in zip(plan.count_items, count_ok, totals):
        items.append({"id": c.id, "type": "constraint", "passed": ok, "weight": float(c.weight),
                      "counted": n})
    # The task file's order (elements, then constraints), as score_details reports them.
    order = {("element", e.id): k for k, e in enumerate(task.rubric.elements)}
    order.update({("constraint", c.id): len(order) + k for k, c in enumerate(task.rubric.constraints)})
    items.sort(key=lambda it: order.get((it["type"], it["id"]), len(order)))
    for it in items:
        weights.append(it["weight"])
        if it["passed"]:
            passed_weights.append(it["weight"])
    total_w = math.fsum(weights)
    cov = min(1.0, max(0.0, math.fsum(passed_weights) / total_w)) if total_w > 0 else 0.0

    caps = tuple(int(math.ceil(float(c.params.get("min", 0)))) if ok else 0
                 for c, ok in zip(plan.count_items, count_ok))
    keep = _candidates(verdicts, caps)
    credited, chosen = _min_cover(
        [(verdicts[i].chars, verdicts[i].mask, tuple(min(cap, n) for cap, n in zip(caps, verdicts[i].counts)))
         for i in keep],
        (union, caps),
    )
    chosen_sections = [keep[k] for k in chosen]
    # Which credited section carries each passed section-level item (the first in the
    # canonical order of the cover), for reports.
    by_id = {(it["type"], it["id"]): it for it in items}
    for bit, item in enumerate(plan.section_items):
        kind = "element" if isinstance(item, Element) else "constraint"
        holder = next((i for i in chosen_sections if verdicts[i].mask >> bit & 1), None)
        by_id[(kind, item.id)]["section"] = holder

    scored = sum(v.chars for v in verdicts)
    uncredited = scored - credited
    relevance = max(0.0, 1.0 - min(uncredited, budget) / budget)
    length = 1.0 if scored <= budget else budget / scored
    value = min(1.0, max(0.0, cov * relevance * length))
    return {
        "value": value,
        "coverage": cov,
        "relevance": relevance,
        "length_factor": length,
        "answer_chars": len(text),
        "scored_chars": scored,
        "credited_chars": credited,
        "uncredited_chars": uncredited,
        "budget_chars": budget,
        "sections": len(normed),
        "unique_sections": len(unique),
        "duplicates_dropped": len(normed) - len(unique),
        "echo_sections": sum(1 for v in verdicts if v.echo_only),
        "credited_sections": len(chosen_sections),
        # What earned the credit (the first 120 characters of each credited section, in
        # the canonical order the items' "section" numbers refer to).
        "credited": [{"section": i, "chars": verdicts[i].chars, "text": unique[i][:120]} for i in chosen_sections],
        "json_unwrapped": unwrapped,
        "passed": [it["id"] for it in items if it["passed"]],
        "failed": [it["id"] for it in items if not it["passed"]],
        "items": items,
    }


def score_coverage(task: Task, answer: str) -> float:
    """The coverage quality of `answer` for `task`, in [0, 1] (see the module docstring)."""
    return float(coverage_details(task, answer)["value"])


@register_scorer
class CoverageScorer(Scorer):
    """`quality.coverage`: rubric items passed, charged for text that earns nothing and for
    length beyond the common answer budget. Deterministic; no model."""

    name = "coverage"
    needs_model = False

    def compute(self, task: Task, answer: str) -> Score:
        details = coverage_details(task, answer)
        return Score(details.pop("value"), details)

