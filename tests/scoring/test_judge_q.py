"""The paper's judge as the scorer `judge_q`: Q from four of five 1-4 dimensions, what the
judge sees, excerpts announced, bad replies retried then kept as failures, self-judging flagged."""

from __future__ import annotations

import asyncio
import json

import pytest

from sorg.model.types import Completion, Request
from sorg.protocols import PROTOCOLS
from sorg.scoring import SCORERS, ScoreContext
from sorg.scoring.judge_q import DIMENSIONS, RETRIES, q_of, read_scores, shown_answer
from sorg.tasks.task import Element, Rubric, Task

TASK = Task(id="t-l1-01", domain="d", level=1, title="T", prompt="Plan a picnic for 20 people.",
            rubric=Rubric(elements=(Element(id="e", description="d", patterns=("x",)),)))
GOOD = {"rationale": "ok", "accuracy": 4, "completeness": 3, "coherence": 2, "actionability": 1,
        "mission_relevance": 4}


class Door:
    """A model door that answers from a list of replies and keeps every request."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []

    async def acomplete(self, req: Request) -> Completion:
        self.requests.append(req)
        text = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return Completion(text=text, prompt_tokens=10, completion_tokens=5, cost_usd=0.0, latency_s=0.0,
                          model=req.model, source="live", key="k")


def judge(answer: str, door: Door, *, model: str = "m/agents", judge_model: str | None = None):
    ctx = ScoreContext(task=TASK, answer=answer, trial_id="tid", model=model, client=door, judge_model=judge_model)
    return asyncio.run(SCORERS["judge_q"].score(ctx))


def test_q_is_the_papers_four_dimensions_over_16_and_all_five_are_kept():
    s = judge("an answer", Door(json.dumps(GOOD)))
    assert s.value == (4 + 3 + 2 + 1) / 16 == q_of(GOOD)
    assert all(s.details[d] == GOOD[d] for d in DIMENSIONS) and s.details["q"] == s.value
    assert not s.details["failed"] and s.details["attempts"] == 1


def test_q_spans_the_papers_range():
    assert q_of({d: 1 for d in DIMENSIONS}) == 0.25 and q_of({d: 4 for d in DIMENSIONS}) == 1.0


def test_the_judge_sees_mission_and_answer_at_temperature_zero_never_the_protocol():
    door = Door(json.dumps(GOOD))
    judge("the team's answer", door)
    (req,) = door.requests
    text = " ".join(m["content"] for m in req.messages)
    assert TASK.prompt in text and "the team's answer" in text
    assert req.temperature == 0.0 and req.sample == "judge|try0" and req.label == "tid"
    for name in PROTOCOLS:
        assert name not in text.lower().replace("coordinat", "x"), name  # no protocol's name
    assert "agents" not in text.lower()


@pytest.mark.parametrize("bad", [
    "not json at all",
    json.dumps({k: v for k, v in GOOD.items() if k != "coherence"}),
    json.dumps({**GOOD, "accuracy": 5}),
    json.dumps({**GOOD, "accuracy": 0}),
    json.dumps({**GOOD, "accuracy": 2.5}),
    json.dumps({**GOOD, "accuracy": True}),
])
def test_a_bad_reply_is_retried_with_the_reason_then_scored(bad):
    door = Door(bad, json.dumps(GOOD))
    s = judge("a", door)
    assert s.value == q_of(GOOD) and s.details["attempts"] == 2
    assert door.requests[1].sample == "judge|try1"
    assert "not valid" in door.requests[1].messages[-1]["content"]


def test_a_judge_that_never_answers_right_is_a_failure_not_a_score():
    door = Door(json.dumps({**GOOD, "completeness": 9}))
    s = judge("a", door)
    assert s.value is None and s.details["failed"] and s.details["attempts"] == RETRIES + 1
    assert "completeness=9" in s.details["problem"] and len(door.requests) == RETRIES + 1


def test_read_scores_names_what_is_wrong():
    assert read_scores(json.dumps(GOOD))[0] == {d: GOOD[d] for d in DIMENSIONS}
    assert "missing" in read_scores("{}")[1]
    assert read_scores("[]")[1] == "not a JSON object"


def test_an_answer_longer_than_the_context_is_excerpted_on_purpose_and_says_so():
    long = "HEAD " + "x" * 50_000 + " TAIL"
    door = Door(json.dumps(GOOD))
    s = judge(long, door)
    shown = door.requests[0].messages[-1]["content"]
    assert "HEAD" in shown and "TAIL" in shown and "left out" in shown
    assert s.details["excerpted"] and s.details["shown_chars"] < s.details["answer_chars"] == len(long)
    short, cut = shown_answer("short answer", TASK.prompt)
    assert short == "short answer" and not cut


def test_self_judging_is_flagged():
    assert judge("a", Door(json.dumps(GOOD))).details["self_judged"]
    assert judge("a", Door(json.dumps(GOOD)), judge_model="m/agents").details["self_judged"]
    other = judge("a", Door(json.dumps(GOOD)), judge_model="m/judge")
    assert not other.details["self_judged"] and other.details["judge_model"] == "m/judge"


def test_a_trial_with_a_failed_judgement_has_no_q_but_keeps_the_failure(fake_model, client, task):
    from sorg.trial import run_trial

    base = fake_model.reply
    fake_model.reply = lambda req: '{"accuracy": 7}' if req.sample.startswith("judge|") else base(req)
    rec = run_trial(task, "sequential", "fake/m", 3, 0, client=client)
    assert rec.status == "ok" and "judge_q" not in rec.quality and "coverage" in rec.quality
    assert rec.scores["judge_q"]["failed"] and rec.judge["failed"]
