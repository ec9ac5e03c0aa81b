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
   (`sorg.tasks.echo.mask_grams`): every run of ``ECHO_NGRAM`` (4) words copied from the
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
6. **Length.** ``L = min(1, ANSWER_BUDGET_CHARS / T)``. *Why:* beyond the common budget
   (the bounded view's, 4,000 characters) an answer is penalised in proportion, even when all
   of it is credited, so no protocol buys quality with length. In a trial the scorer sees the
   view (`sorg.scoring.view`), which never exceeds the budget, so there ``L`` is 1 and the
   view's cut is what bounds length.

Consequences, proven by the hypothesis properties in tests/scoring/test_coverage_props.py:
``value`` is in [0, 1]; reordering sections does not change it; appending a copy of the
answer or of a section, appending filler, or wrapping the answer in JSON never raises it;
appending text (another task's answer) that passes no rubric item the answer did not already
pass never raises it (when it does pass a new item the score may rise: that is the rubric
working); and the task's own words score 0.

Cost: each unique section is checked once per task (cached); the cover is exact but small
(at most 2^items x (count min + 1) states), so scoring stays cheap enough to run on every
trial.

Layout: steps 1-2 are `sorg.scoring.unwrap`, steps 3-4 (per section) `sorg.scoring.verdicts`,
step 5's cover `sorg.scoring.cover`; this module combines them into the score.
"""

from __future__ import annotations

import math
from typing import Any

from sorg.scoring.base import Score, Scorer, register_scorer
from sorg.scoring.cover import candidates, min_cover
from sorg.scoring.unwrap import answer_sections, normalise_section
from sorg.scoring.verdicts import plan_for
from sorg.scoring.view import VIEW_CHARS
from sorg.tasks.checks import answer_count_passes
from sorg.tasks.task import Element, Task

__all__ = [
    "ANSWER_BUDGET_CHARS",
    "CoverageScorer",
    "answer_sections",
    "coverage_details",
    "normalise_section",
    "score_coverage",
]

#: The common answer budget, in characters: the same for every protocol. Scorers see every
#: answer through the bounded view (`sorg.scoring.view`), so the budget is the view's: the view
#: is what keeps answers comparable in size, and an answer that fits it whole is not charged for
#: its length (an earlier 1,500 matched the assembly step every protocol used to end with).
ANSWER_BUDGET_CHARS = VIEW_CHARS


def coverage_details(task: Task, answer: str, *, budget: int = ANSWER_BUDGET_CHARS) -> dict[str, Any]:
    """The coverage score of `answer` for `task` and everything it rests on (JSON-ready).

    ``value`` = ``coverage * relevance * length_factor`` (see the module docstring). A
    non-str answer (None from a failed trial) scores 0, like the rubric.
    """
    if budget <= 0:
        raise ValueError(f"budget must be positive, not {budget}")
    text = answer if isinstance(answer, str) else ""
    plan = plan_for(task)
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
    keep = candidates(verdicts, caps)
    credited, chosen = min_cover(
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

