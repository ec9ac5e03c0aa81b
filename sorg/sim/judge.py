"""Simulated judges: the paper's judge reply, from a declared function of the answer.

Three kinds, so the instrument gate can be checked against known answers:
- ``coverage``: each dimension is 1 + 3 x (the share of the task's rubric elements the answer
  passes, by the scorer's own checks) plus declared noise, rounded and clipped to 1-4 (an empty
  answer gets 1 everywhere, with no noise). It follows the answer, and so must pass the gate.
- ``constant``: the same five scores whatever the answer; it must fail the gate (it cannot
  order the ladder).
- ``counting``: 1, 2, 3, 4, 1 down the reply schema's key order, the failure seen in the 135M
  self-judge: it follows the slot, not the dimension, and must fail the gate's key-order check.
The judge reads the real judge prompt (mission, answer) and finds the task by its mission text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

from sorg.scoring.judge_q import DIMENSIONS
from sorg.sim.world import World
from sorg.tasks.task import Task

__all__ = ["is_judge", "judge_reply", "element_coverage", "split_judge_prompt", "asked_dimension"]


def is_judge(response_format: Mapping[str, Any] | None) -> bool:
    """Whether a request asks for a judge's reply: the five dimensions (in any key order), or
    one dimension's score (the one-call-per-dimension variant)."""
    props = _props(response_format)
    return bool(props) and (all(d in props for d in DIMENSIONS) or props == ["rationale", "score"])


def _props(response_format: Mapping[str, Any] | None) -> list[str]:
    if not response_format:
        return []
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    return list((schema.get("properties") or {}).keys())


def split_judge_prompt(user: str) -> tuple[str, str]:
    """(mission, answer) from the judge's user message ("(empty answer)" reads as "")."""
    mission = user.split("MISSION:\n", 1)[-1].split("\n\nANSWER:\n", 1)[0].strip()
    answer = user.split("\n\nANSWER:\n", 1)[-1]
    answer = answer.split("\n\nDimensions (", 1)[0].split("\n\nQuality to score: ", 1)[0].strip()
    return mission, "" if answer == "(empty answer)" else answer


def asked_dimension(user: str) -> str | None:
    """The dimension a one-dimension judge prompt asks for ("Quality to score: <dim> - ...")."""
    tail = user.rsplit("\n\nQuality to score: ", 1)
    if len(tail) != 2:
        return None
    dim = tail[1].split(" - ", 1)[0].strip()
    return dim if dim in DIMENSIONS else None


def element_coverage(task: Task, answer: str) -> float:
    """The weighted share of the task's rubric elements `answer` passes (the scorer's checks)."""
    from sorg.scoring.coverage import coverage_details

    got = [i for i in coverage_details(task, answer)["items"] if i["type"] == "element"]
    total = sum(i["weight"] for i in got)
    return sum(i["weight"] for i in got if i["passed"]) / total if total else 0.0


def judge_reply(world: World, task: Task | None, answer: str, response_format: Mapping[str, Any] | None,
                rng: random.Random, dimension: str | None = None) -> str:
    """The judge's JSON reply, its keys in the order the schema asks for them (`dimension`: the
    one dimension a one-call-per-dimension prompt asks for, answered as "score")."""
    keys: Sequence[str] = [k for k in _props(response_format) if k in DIMENSIONS] or list(DIMENSIONS)
    if world.judge == "constant":
        scores = dict(zip(DIMENSIONS, world.judge_scores))
        why = "The answer is adequate."
    elif world.judge == "counting":
        scores = {k: 1 + i % 4 for i, k in enumerate(keys)}
        why = "Scored."
    else:
        cov = element_coverage(task, answer) if task is not None and answer.strip() else 0.0
        noise = world.judge_noise if answer.strip() else 0.0  # nothing to judge: the floor, exactly
        scores = {d: min(4, max(1, round(1 + 3 * cov + rng.gauss(0.0, noise)))) for d in DIMENSIONS}
        why = f"It covers {round(100 * cov)}% of what the mission asks for."
    out: dict[str, Any] = {"rationale": why}
    if dimension is not None:
        out["score"] = scores[dimension] if world.judge != "counting" else 1
        return json.dumps(out)
    out.update({k: scores[k] for k in keys})
    return json.dumps(out)
