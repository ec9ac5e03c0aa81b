"""The LLM judge with a fake model door: the request it sends, and tolerant parsing."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorg.errors import CassetteMiss
from sorg.judge import JUDGE_SCHEMA, build_judge_messages, judge_answer, parse_judgement
from sorg.model.types import Completion, Request
from sorg.tasks import load_bank


class FakeClient:
    """Implements only what the judge needs from the model door: `async acomplete(req)`."""

    def __init__(self, *replies: str, error: Exception | None = None):
        self.replies = list(replies)
        self.requests: list[Request] = []
        self.error = error

    async def acomplete(self, req: Request) -> Completion:
        self.requests.append(req)
        if self.error is not None:
            raise self.error
        text = self.replies.pop(0)
        return Completion(text=text, prompt_tokens=100, completion_tokens=20, cost_usd=0.0,
                          latency_s=0.01, model=req.model, source="live", key="k")


@pytest.fixture(scope="module")
def task():
    return load_bank().get("evt-l2-01")


def _judge(client, task, answer="We meet at the city hall with lunch.", **kw):
    return asyncio.run(judge_answer(client, task, answer, "fake/judge", label="trial-7", **kw))


def test_json_reply_gives_normalised_score_and_rationale(task) -> None:
    client = FakeClient('{"score": 7, "rationale": "Venue and catering present; agenda thin."}')
    out = _judge(client, task)
    assert out["score"] == pytest.approx(0.7)
    assert out["raw_score"] == 7
    assert out["rationale"].startswith("Venue and catering")
    assert out["raw"] == '{"score": 7, "rationale": "Venue and catering present; agenda thin."}'


def test_request_goes_through_the_model_door_as_one_defined_sample(task) -> None:
    client = FakeClient('{"score": 5, "rationale": "ok"}')
    _judge(client, task)
    (req,) = client.requests
    assert req.model == "fake/judge"
    assert req.temperature == 0.0
    assert req.sample == "judge|trial-7" and req.label == "trial-7"
    assert req.max_tokens > 0
    rf = req.response_format
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"] == JUDGE_SCHEMA
    assert JUDGE_SCHEMA["properties"]["score"]["maximum"] == 10
    assert list(JUDGE_SCHEMA["properties"]) == ["rationale", "score"]  # reason before verdict
    prompt = "\n".join(m["content"] for m in req.messages)
    assert task.prompt in prompt
    for element in task.rubric.elements:
        assert element.description in prompt
    for c in task.rubric.constraints:
        assert c.description in prompt
    assert "city hall" in prompt
    assert not any(p in prompt for e in task.rubric.elements for p in e.patterns)  # words, not regexes
    json.dumps([dict(m) for m in req.messages])  # serialisable for cassettes


def test_response_format_can_be_overridden_or_dropped(task) -> None:
    client = FakeClient("score: 4", "score: 4")
    _judge(client, task, response_format=None)
    _judge(client, task, response_format={"type": "json_object"})
    assert client.requests[0].response_format is None
    assert client.requests[1].response_format == {"type": "json_object"}


def test_unparseable_reply_keeps_raw_and_gives_none(task) -> None:
    out = _judge(FakeClient("I cannot grade this, sorry."), task)
    assert out["score"] is None and out["raw_score"] is None
    assert out["raw"] == "I cannot grade this, sorry."
    assert out["rationale"] == "I cannot grade this, sorry."
    empty = _judge(FakeClient(""), task)
    assert empty["score"] is None and empty["raw"] == ""


def test_model_door_errors_propagate(task) -> None:
    with pytest.raises(CassetteMiss):
        _judge(FakeClient(error=CassetteMiss("no recording")), task)


def test_long_answer_is_truncated_in_the_prompt(task) -> None:
    messages = build_judge_messages(task, "word " * 10_000, max_answer_chars=1000)
    assert "answer truncated" in messages[-1]["content"]
    assert len(messages[-1]["content"]) < 3000
    assert "(empty answer)" in build_judge_messages(task, "")[-1]["content"]


@pytest.mark.parametrize(
    "text, score",
    [
        ('{"score": 8, "rationale": "good"}', 8.0),
        ('Here you go: {"score": 6.5, "rationale": "fine"} thanks', 6.5),
        ('{"score": "9", "rationale": "x"}', 9.0),
        ('{"score": 14, "rationale": "x"}', 10.0),
        ('{"score": -2, "rationale": "x"}', 0.0),
        ('{"rating": 3}', 3.0),
        ('{"score": "80/100"}', 8.0),
        ('{"score": "x/0"}', None),
        ('{"score": 1' + "0" * 400 + '}', 10.0),
        ("Score: 7/10. Covers most items.", 7.0),
        ("score = 4", 4.0),
        ("The score is 9", 9.0),
        ("I'd give it 3 out of 10.", 3.0),
        ("8/10", 8.0),
        ("Score: 80/100", 8.0),
        ("Score: 12", 10.0),
        ('{"score": NaN}', None),
        ('{"score": true}', None),
        ("no number here", None),
        ("", None),
        ("{{{{", None),
        ("10", 10.0),
        (" 7.5 ", 7.5),
        ("6/10.", 6.0),
        ("Section 3 of 12 items", None),
    ],
)
def test_parse_judgement_shapes(text: str, score: float | None) -> None:
    got, _ = parse_judgement(text)
    assert got == (None if score is None else pytest.approx(score))


def test_rationale_from_free_text() -> None:
    score, rationale = parse_judgement("Score: 7/10 - covers the venue but no agenda")
    assert score == 7.0 and "no agenda" in rationale


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_parse_never_raises_and_clamps(text: str) -> None:
    score, rationale = parse_judgement(text)
    assert score is None or 0.0 <= score <= 10.0
    assert isinstance(rationale, str)


def test_huge_reply_is_parsed_without_error() -> None:
    score, rationale = parse_judgement("{" * 50_000 + " score: 6 " + "}" * 50_000)
    assert score == 6.0
    assert len(rationale) <= 1000
