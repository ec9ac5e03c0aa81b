"""Opt-in variants of the paper's judge that a weak model cannot fill by counting.

Why: on the committed replay the 135M self-judge wrote 1, 2, 3, 4, 1 down the schema's keys
whatever the answer (Q = 0.625 on most trials): the slot, not the dimension, set the score.
Each variant here takes that shortcut away in one way, and the instrument gate
(`sorg.scoring.gate`) measures which of them, if any, follows the answer:

- `judge_q_shuffled`: the same single call, with the dimensions' key order (rubric lines and
  schema keys) drawn per call from a hash of the question, and recorded in the details
  (`key_order`), so the same answer always gets the same question (temperature 0 stays
  repeatable, the call stays cacheable) while a judge that counts slots scores noise.
- `judge_q_dims`: one call per dimension, its rationale asked first (the score is written
  after the reasons), so there are no slots to count.

A variant is selected like any scorer (`--sorg-scorers=coverage,judge_q_dims`) and writes its
own `quality.<name>`; `judge_q`'s request is untouched, so the committed cassettes replay.
(A log-probability-weighted score, G-Eval style, needs the door to return token
log-probabilities, which `Completion` does not carry yet: left for the re-recording work.)
"""

from __future__ import annotations

import hashlib
from typing import Any

from sorg.agents import json_object
from sorg.model.types import Request
from sorg.scoring.base import Score, ScoreContext, Scorer, register_scorer
from sorg.scoring.judge_q import (
    DIMENSIONS,
    JUDGE_MAX_TOKENS,
    QUESTIONS,
    RETRIES,
    JudgeQ,
    add_usage,
    gate_settings,
    q_of,
    shown_answer,
)

__all__ = ["JudgeQDims", "JudgeQShuffled", "drawn_order"]


def drawn_order(mission: str, shown: str) -> tuple[str, ...]:
    """A permutation of DIMENSIONS drawn from a hash of the question (mission and answer):
    the same question always gets the same order, different questions different ones."""
    digest = hashlib.sha256(f"{mission}\x00{shown}".encode()).digest()
    keyed = sorted(DIMENSIONS, key=lambda d: hashlib.sha256(digest + d.encode()).digest())
    return tuple(keyed)


@register_scorer
class JudgeQShuffled(JudgeQ):
    """`judge_q` with the dimensions' key order drawn per call (recorded as `key_order`)."""

    name = "judge_q_shuffled"

    def key_order(self, ctx: ScoreContext, shown: str) -> tuple[tuple[str, ...] | None, str]:
        order, tag = gate_settings(ctx)
        order = order or drawn_order(ctx.task.prompt, shown)
        return order, tag + "|order=" + ",".join(d[:3] for d in order)


_DIM_SYSTEM = ("You are a strict, fair judge of a team's answer to a mission. You score ONE quality of "
               "the answer, from 1 (poor) to 4 (excellent). Reply only with JSON.")
_DIM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"rationale": {"type": "string", "maxLength": 240},
                   "score": {"type": "integer", "enum": [1, 2, 3, 4]}},
    "required": ["rationale", "score"],
}
_DIM_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "judge_dimension",
                                                                      "schema": _DIM_SCHEMA}}


def dim_messages(mission: str, shown: str, dim: str, problem: str = "") -> tuple[dict[str, str], ...]:
    """One dimension's prompt: mission, answer, the question; reasons first, then the score."""
    user = (f"MISSION:\n{mission.strip()}\n\nANSWER:\n{shown.strip() or '(empty answer)'}\n\n"
            f"Quality to score: {dim} - {QUESTIONS[dim]}\n"
            "1 = poor, 2 = weak, 3 = good, 4 = excellent.\n"
            'Answer in JSON: first "rationale" (one sentence on what the answer does and lacks for this '
            'quality), then "score", an integer 1-4.')
    if problem:
        user += f"\n\nYour previous reply was not valid ({problem}). Reply again with the rationale and the score."
    return ({"role": "system", "content": _DIM_SYSTEM}, {"role": "user", "content": user})


def read_dim(text: str) -> tuple[int | None, str]:
    """The score of a one-dimension reply, or None and what is wrong with it."""
    obj = json_object(text if isinstance(text, str) else "")
    if obj is None:
        return None, "not a JSON object"
    v = obj.get("score")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
        return None, "score missing or not an integer"
    if not 1 <= int(v) <= 4:
        return None, f"score={v} outside 1-4"
    return int(v), ""


@register_scorer
class JudgeQDims(Scorer):
    """Q from five separate calls, one per dimension, each with its rationale first."""

    name = "judge_q_dims"
    needs_model = True
    floor = 0.25  # as judge_q's: every dimension 1
    dimensions = DIMENSIONS

    async def score(self, ctx: ScoreContext) -> Score:
        judge = ctx.judge_model or ctx.model
        shown, excerpted = shown_answer(ctx.answer, ctx.task.prompt)
        order, tag = gate_settings(ctx)
        base: dict[str, Any] = {"judge_model": judge, "self_judged": judge == ctx.model, "excerpted": excerpted,
                                "answer_chars": len(ctx.answer or ""), "shown_chars": len(shown),
                                "key_order": list(order or DIMENSIONS)}
        scores: dict[str, int] = {}
        rationales: dict[str, str] = {}
        for dim in order or DIMENSIONS:
            problem, got = "", None
            for attempt in range(RETRIES + 1):
                req = Request(model=judge, messages=dim_messages(ctx.task.prompt, shown, dim, problem),
                              temperature=0.0, max_tokens=JUDGE_MAX_TOKENS, response_format=_DIM_FORMAT,
                              sample=f"judge-dim|{dim}|try{attempt}{tag}", label=ctx.trial_id)
                done = await ctx.client.acomplete(req)
                add_usage(base, done)
                got, problem = read_dim(done.text)
                if got is not None:
                    rationales[dim] = str((json_object(done.text) or {}).get("rationale", ""))[:240]
                    break
            if got is None:
                return Score(None, {**base, "failed": True, "problem": f"{dim}: {problem}", "scored": scores})
            scores[dim] = got
        return Score(q_of(scores), {**base, **scores, "q": q_of(scores), "failed": False,
                                    "rationales": rationales})


def variant_names() -> tuple[str, ...]:
    """The judge variants this module registers (beside the default `judge_q`)."""
    return (JudgeQShuffled.name, JudgeQDims.name)

