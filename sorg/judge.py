"""The LLM judge: a second scorer that reads the answer the way a person would.

Why a judge at all: the programmatic rubric is deterministic but literal (a pattern either
matches or not). A claim may prefer a judged quality; which scorer a claim uses is its own
choice. The judge goes through the model door like every other call, so a judged score
replays from the cassette byte for byte (its sample is ``judge|<trial id>``).

Why tolerant parsing: small judge models do not always honour the JSON schema. A reply that
carries a score in any common shape ("{"score": 7}", "Score: 7/10", "7 out of 10") is
accepted; a reply with no score gives ``score=None`` and keeps the raw text. Bad text never
raises; errors of the model door itself (CassetteMiss, BudgetExceeded, ModelError) do
propagate, because the trial decides what they mean.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping, Protocol

from sorg.model.types import Completion, Request
from sorg.tasks.task import Task

__all__ = [
    "JUDGE_SCHEMA",
    "JUDGE_RESPONSE_FORMAT",
    "build_judge_messages",
    "parse_judgement",
    "judge_answer",
]

SCALE = 10.0
MAX_ANSWER_CHARS = 6000
MAX_RATIONALE_CHARS = 1000

# The rationale comes first: grammar-constrained decoders (llama.cpp) emit properties in schema
# order, and a judge that must commit to a number before reasoning grades worse (measured with
# SmolLM2-135M: score-first gave 0/10 to every answer).
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rationale": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 10},
    },
    "required": ["rationale", "score"],
    "additionalProperties": False,
}

# OpenAI / litellm's structured-output shape; the model door adapts it for backends that want
# another shape (llama.cpp's server takes {"type": "json_object", "schema": ...}).
JUDGE_RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "judgement", "schema": JUDGE_SCHEMA, "strict": True},
}

_SYSTEM = (
    "You are a strict, fair grader. You score how well an answer fulfils a task, using the "
    "checklist given. Reply only with JSON: {\"rationale\": \"<which checklist items the "
    "answer meets and misses, one or two sentences>\", \"score\": <number 0-10>}."
)


class _Client(Protocol):
    async def acomplete(self, req: Request) -> Completion: ...


def build_judge_messages(task: Task, answer: str, max_answer_chars: int = MAX_ANSWER_CHARS) -> tuple[dict[str, str], ...]:
    """The judge's prompt: the task, its rubric in words, and the (possibly truncated) answer.

    The rubric is given as a checklist of descriptions, never as regexes, so the judge grades
    meaning rather than keywords. Long answers are cut so the prompt fits a small context.
    """
    text = answer if isinstance(answer, str) else ""
    if len(text) > max_answer_chars:
        text = text[:max_answer_chars] + f"\n[... answer truncated, {len(answer) - max_answer_chars} more characters]"
    checklist = [f"- {e.description}" for e in task.rubric.elements]
    checklist += [f"- {c.description}" for c in task.rubric.constraints]
    user = (
        f"TASK (complexity level {task.level} of 4):\n{task.prompt}\n\n"
        "CHECKLIST (what a complete answer contains):\n" + "\n".join(checklist) + "\n\n"
        f"ANSWER:\n{text if text.strip() else '(empty answer)'}\n\n"
        "First say which checklist items the answer meets and which it misses, then score it: "
        "10 if it meets every item (numbers included), about 5 if it meets half, 0 if it is "
        "empty or off-topic. Reply with JSON only."
    )
    return ({"role": "system", "content": _SYSTEM}, {"role": "user", "content": user})


_BARE_NUMBER = re.compile(r"^\s*(?P<n>-?\d+(?:\.\d+)?)\s*(?:/\s*(?P<d>10|100|5))?\s*\.?\s*$")
_SCORE_PATTERNS = (
    _BARE_NUMBER,
    re.compile(r"\bscore\b(?:\s*(?:of|is|was|would be|=|:))?\W{0,4}(?P<n>-?\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(?P<d>\d+(?:\.\d+)?))?", re.IGNORECASE),
    re.compile(r"(?P<n>-?\d+(?:\.\d+)?)\s*(?:/|out of)\s*(?P<d>10|100|5)\b", re.IGNORECASE),
    re.compile(r"\brating\b\W{0,4}(?P<n>-?\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(?P<d>\d+(?:\.\d+)?))?", re.IGNORECASE),
)


def _clamp(value: float) -> float:
    return min(SCALE, max(0.0, value))


def _from_json(text: str) -> tuple[float | None, str] | None:
    """Score and rationale from the first JSON object in `text` that has a numeric score."""
    candidates = [text.strip()]
    candidates += [m.group(0) for m in re.finditer(r"\{[^{}]*\}", text)]
    for chunk in candidates:
        try:
            data = json.loads(chunk)
        except (ValueError, RecursionError):
            continue
        if not isinstance(data, Mapping):
            continue
        score = _as_score(data.get("score", data.get("rating")))
        if score is None:
            continue
        rationale = data.get("rationale", data.get("reason", data.get("explanation", "")))
        return _clamp(score), str(rationale) if rationale is not None else ""
    return None


def _as_score(value: Any) -> float | None:
    """A JSON score value (7, 7.5, "7", "7/10", "80/100") on the 0-10 scale, or None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, str):
            num, _, den = value.strip().partition("/")
            score = float(num) * (SCALE / float(den) if den.strip() else 1.0)
        elif isinstance(value, int):
            score = float(max(-1, min(value, 1000)))  # a huge int would overflow float()
        elif isinstance(value, float):
            score = value
        else:
            return None
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
    return score if math.isfinite(score) else None


def parse_judgement(text: str) -> tuple[float | None, str]:
    """(score on 0-10 clamped, or None; rationale) from a judge reply of any shape. Never raises."""
    if not isinstance(text, str) or not text.strip():
        return None, ""
    parsed = _from_json(text)
    if parsed is not None:
        score, rationale = parsed
        return score, rationale[:MAX_RATIONALE_CHARS]
    for rx in _SCORE_PATTERNS:
        m = rx.search(text)
        if not m:
            continue
        try:
            value = float(m.group("n"))
            denom = float(m.group("d")) if m.group("d") else SCALE
        except ValueError:
            continue
        if not math.isfinite(value) or denom <= 0 or not math.isfinite(denom):
            continue
        score = _clamp(value * SCALE / denom)
        rationale = (text[: m.start()] + text[m.end():]).strip(" \n\t:-.,")
        return score, rationale[:MAX_RATIONALE_CHARS]
    return None, text.strip()[:MAX_RATIONALE_CHARS]


async def judge_answer(
    client: _Client,
    task: Task,
    answer: str,
    judge_model: str,
    label: str = "",
    *,
    max_tokens: int = 300,
    response_format: Mapping[str, Any] | None = JUDGE_RESPONSE_FORMAT,
) -> dict[str, Any]:
    """Judge `answer` for `task` with `judge_model` through the model door.

    Returns ``{"score": float in [0, 1] or None, "raw": the reply text, "rationale": str,
    "raw_score": the 0-10 score or None}``. Temperature 0 and ``sample="judge|<label>"`` make
    the call one well-defined sample, so it caches and replays.
    """
    req = Request(
        model=judge_model,
        messages=build_judge_messages(task, answer),
        temperature=0.0,
        max_tokens=max_tokens,
        response_format=response_format,
        sample=f"judge|{label}",
        label=label,
    )
    completion = await client.acomplete(req)
    raw = completion.text if isinstance(completion.text, str) else ""
    raw_score, rationale = parse_judgement(raw)
    return {
        "score": None if raw_score is None else raw_score / SCALE,
        "raw": raw,
        "rationale": rationale,
        "raw_score": raw_score,
    }
