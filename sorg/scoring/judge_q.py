"""The paper's judge: Q from five 4-point dimensions, as the scorer `judge_q`.

A separate judge model at temperature 0 scores the team's answer on five dimensions, each 1-4:
accuracy, completeness, coherence, actionability and mission relevance; the paper's
Q = (accuracy + completeness + coherence + actionability) / 16, so Q is in [0.25, 1] (mission
relevance is recorded but, as in the paper, not part of Q).

Why each rule:
- The judge sees the mission and the answer, never the protocol's name or the team's size, so
  it cannot favour a protocol by name.
- Its calls go through the model door with `sample="judge|try<k>"`, so they are cached and
  recorded in cassettes like any agent's, and replay byte for byte. The sample does not name
  the trial: at temperature 0 the same mission and answer are the same question, so two trials
  that produced the same answer share one judgement (the label still names the trial).
- An answer longer than the judge's context is shown on purpose as its head and tail with an
  explicit marker of what was left out, and the record says so (`excerpted`, `shown_chars`):
  never a silent cut.
- A reply the judge gets wrong (not JSON, a dimension missing, a value outside 1-4) is asked
  again with the reason, up to `RETRIES` times; then it is kept as a judge failure
  (`quality.judge_q` absent, `failed` and the replies in the details), never as a score.
- When the judge model is the agents' own model the details say `self_judged: true` and the
  report flags it: a model grading its own team is a weaker instrument.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sorg.agents import estimate_tokens, json_object
from sorg.model.types import Request
from sorg.scoring.base import Score, ScoreContext, Scorer, register_scorer

DIMENSIONS = ("accuracy", "completeness", "coherence", "actionability", "mission_relevance")
#: The four dimensions that make Q (the paper's definition).
Q_DIMENSIONS = DIMENSIONS[:4]
RETRIES = 2
JUDGE_MAX_TOKENS = 120
JUDGE_CONTEXT_TOKENS = 2048

_DIM = {"type": "integer", "enum": [1, 2, 3, 4]}
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"rationale": {"type": "string", "maxLength": 240}, **{d: _DIM for d in DIMENSIONS}},
    "required": ["rationale", *DIMENSIONS],
}
JUDGE_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "judge_q", "schema": JUDGE_SCHEMA}}

SYSTEM = ("You are a strict, fair judge of a team's answer to a mission. Score the answer on five "
          "dimensions, each from 1 (poor) to 4 (excellent). Reply only with JSON.")
RUBRIC = (
    "Dimensions (1 = poor, 2 = weak, 3 = good, 4 = excellent):\n"
    "- accuracy: are its facts, numbers and reasoning correct?\n"
    "- completeness: does it cover everything the mission asks for?\n"
    "- coherence: is it one consistent, well-organised answer?\n"
    "- actionability: could someone act on it as written (concrete steps, owners, numbers)?\n"
    "- mission_relevance: does it stay on the mission, without filler or off-topic text?\n"
    'Answer in JSON: "rationale" (one sentence), then an integer 1-4 for each of "accuracy", '
    '"completeness", "coherence", "actionability", "mission_relevance".'
)
#: What each dimension asks (the lines of RUBRIC), for the variants that reorder or split them.
QUESTIONS = {
    "accuracy": "are its facts, numbers and reasoning correct?",
    "completeness": "does it cover everything the mission asks for?",
    "coherence": "is it one consistent, well-organised answer?",
    "actionability": "could someone act on it as written (concrete steps, owners, numbers)?",
    "mission_relevance": "does it stay on the mission, without filler or off-topic text?",
}


def rubric(order: tuple[str, ...] = DIMENSIONS) -> str:
    """RUBRIC with its dimensions (lines and JSON keys) in `order`; `rubric()` is RUBRIC exactly."""
    lines = "".join(f"- {d}: {QUESTIONS[d]}\n" for d in order)
    keys = ", ".join(f'"{d}"' for d in order)
    return (f"Dimensions (1 = poor, 2 = weak, 3 = good, 4 = excellent):\n{lines}"
            f'Answer in JSON: "rationale" (one sentence), then an integer 1-4 for each of {keys}.')


def judge_format(order: tuple[str, ...] = DIMENSIONS) -> dict[str, Any]:
    """JUDGE_FORMAT with the schema's dimension keys in `order` (rationale first, as always)."""
    schema = {"type": "object",
              "properties": {"rationale": {"type": "string", "maxLength": 240}, **{d: _DIM for d in order}},
              "required": ["rationale", *order]}
    return {"type": "json_schema", "json_schema": {"name": "judge_q", "schema": schema}}


def check_order(order: Any) -> tuple[str, ...]:
    """`order` as a tuple, or a ValueError unless it is a permutation of DIMENSIONS."""
    got = tuple(order)
    if sorted(got) != sorted(DIMENSIONS):
        raise ValueError(f"judge key order {list(got)} is not a permutation of {list(DIMENSIONS)}")
    return got


def shown_answer(answer: str, mission: str, context_tokens: int = JUDGE_CONTEXT_TOKENS,
                 max_tokens: int = JUDGE_MAX_TOKENS) -> tuple[str, bool]:
    """The answer as the judge sees it, and whether it had to be excerpted to fit.

    Fits whole when it can; otherwise its head and tail (two thirds / one third of the room)
    with a line saying how many characters were left out in between.
    """
    text = answer if isinstance(answer, str) else ""
    room = context_tokens - max_tokens - estimate_tokens(SYSTEM + RUBRIC + mission) - 64
    room_chars = max(200, room * 4)
    if len(text) <= room_chars:
        return text, False
    head, tail = room_chars * 2 // 3, room_chars // 3
    cut = len(text) - head - tail
    return (f"{text[:head]}\n[... {cut} characters of the answer left out here: it is longer than "
            f"the judge's context ...]\n{text[-tail:]}"), True


def messages(mission: str, shown: str, problem: str = "",
             order: tuple[str, ...] | None = None) -> tuple[dict[str, str], ...]:
    """The judge's prompt: the mission, the answer, the rubric (and, on a retry, what was wrong).
    `order` (opt-in) lists the dimensions in another order; None is today's prompt exactly."""
    text = RUBRIC if order is None else rubric(order)
    user = (f"MISSION:\n{mission.strip()}\n\nANSWER:\n{shown.strip() or '(empty answer)'}\n\n{text}")
    if problem:
        user += f"\n\nYour previous reply was not valid ({problem}). Reply again with all five integers."
    return ({"role": "system", "content": SYSTEM}, {"role": "user", "content": user})


def read_scores(text: str) -> tuple[dict[str, int] | None, str]:
    """The five dimension scores from a judge reply, or None and what is wrong with it."""
    obj = json_object(text if isinstance(text, str) else "")
    if obj is None:
        return None, "not a JSON object"
    out: dict[str, int] = {}
    for d in DIMENSIONS:
        v = obj.get(d)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
            return None, f"{d} missing or not an integer"
        if not 1 <= int(v) <= 4:
            return None, f"{d}={v} outside 1-4"
        out[d] = int(v)
    return out, ""


def q_of(scores: Mapping[str, int]) -> float:
    """The paper's Q: (accuracy + completeness + coherence + actionability) / 16."""
    return sum(scores[d] for d in Q_DIMENSIONS) / 16.0


def add_usage(details: dict[str, Any], done: Any) -> None:
    """Add one judge call's tokens and dollars to `details["usage"]` (the run's totals read it)."""
    usage = details.setdefault("usage", {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0})
    usage["calls"] += 1
    usage["prompt_tokens"] += done.prompt_tokens
    usage["completion_tokens"] += done.completion_tokens
    usage["cost_usd"] = round(usage["cost_usd"] + done.cost_usd, 12)


def gate_settings(ctx: ScoreContext) -> tuple[tuple[str, ...] | None, str]:
    """What the instrument gate may ask of a judge through `ctx.settings` (both opt-in, absent
    in a trial): `judge_order`, the dimensions' order, and `judge_sample`, a tag appended to the
    request's sample so that asking the same question again is a new call, not a cache hit."""
    order = ctx.settings.get("judge_order")
    tag = str(ctx.settings.get("judge_sample") or "")
    return (None if order is None else check_order(order)), (f"|{tag}" if tag else "")


@register_scorer
class JudgeQ(Scorer):
    name = "judge_q"
    needs_model = True
    #: Q of an empty answer, with no call: every dimension 1, so 4/16 (the lowest Q there is).
    floor = 0.25
    #: The dimensions it scores in one call (the gate checks that their order does not matter).
    dimensions = DIMENSIONS

    def key_order(self, ctx: ScoreContext, shown: str) -> tuple[tuple[str, ...] | None, str]:
        """The dimension order of this call (None: today's request) and its sample tag."""
        order, tag = gate_settings(ctx)
        if order is None:
            return None, tag
        return order, tag + ("" if order == DIMENSIONS else "|order=" + ",".join(d[:3] for d in order))

    async def score(self, ctx: ScoreContext) -> Score:
        judge = ctx.judge_model or ctx.model
        shown, excerpted = shown_answer(ctx.answer, ctx.task.prompt)
        order, tag = self.key_order(ctx, shown)
        fmt = JUDGE_FORMAT if order is None else judge_format(order)
        base: dict[str, Any] = {
            "judge_model": judge, "self_judged": judge == ctx.model, "excerpted": excerpted,
            "answer_chars": len(ctx.answer or ""), "shown_chars": len(shown),
        }
        if order is not None:
            base["key_order"] = list(order)
        problem, replies = "", []
        for attempt in range(RETRIES + 1):
            req = Request(model=judge, messages=messages(ctx.task.prompt, shown, problem, order),
                          temperature=0.0, max_tokens=JUDGE_MAX_TOKENS, response_format=fmt,
                          sample=f"judge|try{attempt}{tag}", label=ctx.trial_id)
            done = await ctx.client.acomplete(req)
            replies.append(done.text)
            add_usage(base, done)
            scores, problem = read_scores(done.text)
            if scores is not None:
                obj = json_object(done.text) or {}
                rationale = obj.get("rationale", "")
                return Score(q_of(scores), {**base, **scores, "q": q_of(scores), "attempts": attempt + 1,
                                            "rationale": str(rationale)[:240], "failed": False})
        return Score(None, {**base, "failed": True, "attempts": RETRIES + 1, "problem": problem,
                            "replies": [r[:500] for r in replies]})
