"""The bounded view every scorer sees: padding, duplication and concatenation order cannot buy
an answer a better score (properties over random answers, with a content scorer and the real
coverage scorer), and the trial runner scores the view, never the raw answer."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

import sorg
from sorg.protocols import PROTOCOLS
from sorg.scoring import SCORERS
from sorg.scoring.ladder import load_references
from sorg.scoring.view import SEPARATOR, VIEW_CHARS, level_for, scored_view, sections
from sorg.tasks import load_bank
from sorg.trial import run_trial
from tests.protocols.fakes import agent_of, kind_of

ITEMS = [f"item{i:02d}" for i in range(40)]
FILLER = ["and", "so", "the", "team", "will", "also", "note", "that", "we", "agree"]
_ITEM = re.compile(r"item\d\d")


def items_found(text: str) -> int:
    """A monotone content scorer: how many distinct whole item tokens the text shows."""
    return len(set(_ITEM.findall(text.casefold())))


section = st.lists(st.sampled_from(ITEMS + FILLER), min_size=1, max_size=30).map(" ".join)
answers = st.lists(section, min_size=0, max_size=40)
small_budget = st.integers(20, 600)


def join(parts: list[str]) -> str:
    return "\n\n".join(parts)


@given(answers, small_budget, st.randoms(use_true_random=False))
def test_concatenation_order_changes_nothing_the_scorer_sees(parts, budget, rnd):
    shuffled = list(parts)
    rnd.shuffle(shuffled)
    a, b = scored_view(join(parts), budget), scored_view(join(shuffled), budget)
    assert sorted(a.text.split(SEPARATOR)) == sorted(b.text.split(SEPARATOR))
    assert items_found(a.text) == items_found(b.text)


@given(answers, small_budget, st.data())
def test_duplicating_sections_changes_nothing(parts, budget, data):
    if not parts:
        return
    dup = list(parts)
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(dup) - 1))
        # a duplicate may differ in case and whitespace only
        copy = data.draw(st.sampled_from([dup[i], dup[i].upper(), "  " + dup[i].replace(" ", "   ")]))
        dup.insert(data.draw(st.integers(0, len(dup))), copy)
    # the first copy is the one kept: the same sections up to case and place (the scorers here
    # ignore case; coverage and items_found ignore the order of sections)
    def shown(text: str) -> list[str]:
        return sorted(scored_view(text, budget).text.casefold().split(SEPARATOR))

    assert shown(join(dup)) == shown(join(parts))


@given(answers, small_budget, st.data())
def test_padding_never_brings_in_what_was_cut(parts, budget, data):
    """Filler added as new sections, or inside a section, never raises what the scorer finds."""
    padded = list(parts)
    for _ in range(data.draw(st.integers(1, 4))):
        filler = " ".join(data.draw(st.lists(st.sampled_from(FILLER), min_size=1, max_size=40)))
        if padded and data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(padded) - 1))
            words = padded[i].split(" ")
            at = data.draw(st.integers(0, len(words)))
            padded[i] = " ".join(words[:at] + [filler] + words[at:])
        else:
            padded.insert(data.draw(st.integers(0, len(padded))), filler)
    assert items_found(scored_view(join(padded), budget).text) <= items_found(scored_view(join(parts), budget).text)


@given(answers, st.integers(1, 5000))
def test_the_view_fits_its_budget_and_keeps_what_fits_whole(parts, budget):
    v = scored_view(join(parts), budget)
    shown = v.text.split(SEPARATOR) if v.text else []
    assert sum(len(s) for s in shown) <= budget
    if sum(len(s) for s in sections(join(parts))) <= budget:
        assert shown == sections(join(parts)) and not v.cut


@given(st.lists(st.integers(0, 500), max_size=30), st.integers(1, 3000))
def test_the_water_level_is_the_largest_that_fits(lengths, budget):
    level = level_for(lengths, budget)
    assert sum(min(n, level) for n in lengths) <= budget or sum(lengths) <= budget
    if sum(lengths) > budget:
        assert sum(min(n, level + 1) for n in lengths) > budget


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_the_real_coverage_scorer_cannot_be_bought_by_order_duplication_or_padding(data):
    """On packaged tasks' reference answers cut into contributions. Order and duplication change
    nothing at any budget; padding never raises the score while the view holds the answer whole."""
    refs = load_references()
    task = data.draw(st.sampled_from([t for t in load_bank().select() if t.id in refs]))
    parts = [line for sec in refs[task.id] for line in sec.split("\n") if line.strip()]
    budget = data.draw(st.sampled_from([VIEW_CHARS, data.draw(st.integers(80, 1200))]))
    cov = SCORERS["coverage"]

    def score(ps: list[str]) -> float:
        return float(cov.compute(task, scored_view(join(ps), budget).text).value or 0.0)

    base = score(parts)
    shuffled = data.draw(st.permutations(parts))
    assert score(list(shuffled)) == base
    assert score(parts + [parts[0].upper()] + parts[:2]) == base
    filler = "We will also make sure the team agrees on this."
    for padded in (parts + [filler] * 3, [filler] + parts, [p + " " + filler for p in parts]):
        if not scored_view(join(padded), budget).cut:
            assert score(padded) <= base
        # Once the budget binds, the text coverage can credit only shrinks
        # (test_padding_never_brings_in_what_was_cut); its echo masking and upper bounds can still
        # pass on a cut prefix (sorg/scoring/view.py says so), so the items are not asserted here.


def test_trials_score_the_view_and_empty_answers_get_the_floor_without_a_call(fake_model, client):
    task = load_bank().select(per_level=1)[0]
    long = "x" * 3000
    fake_model.reply = lambda req: (json.dumps({"rationale": "r", "accuracy": 4, "completeness": 4, "coherence": 4,
                                                "actionability": 4, "mission_relevance": 4})
                                    if req.sample.startswith("judge") else
                                    json.dumps({"role": "r", "contribution": f"{long} agent {agent_of(req)}",
                                                "abstain": False}))
    rec = run_trial(task, "shared", "fake/m", 4, 0, client=client, scorers=("coverage", "judge_q"))
    (judge,) = [r for r in fake_model.requests if r.sample.startswith("judge")]
    shown = judge.messages[1]["content"]
    assert rec.answer_chars > VIEW_CHARS and rec.scored_cut and rec.scored_chars <= VIEW_CHARS + 3 * len(SEPARATOR)
    assert shown.count("x" * 900) == 4 and "x" * 1100 not in shown  # each of 4 sections cut to ~1,000

    fake_model.requests.clear()
    fake_model.reply = lambda req: json.dumps({"role": "r", "contribution": "", "abstain": True})
    rec = run_trial(task, "shared", "fake/m", 4, 0, client=client, scorers=("coverage", "judge_q"))
    assert not [r for r in fake_model.requests if kind_of(r) == "judge" or r.sample.startswith("judge")]
    assert rec.quality == {"coverage": 0.0, "judge_q": 0.25} and rec.scores["judge_q"] == {"empty_answer": True}


def test_a_users_protocol_gets_what_packaged_ones_get_through_the_public_api(fake_model, client):
    """Registered with @sorg.protocol and collating with sorg.collate: the same call counting,
    the same bounded view, the same empty-answer floor as a packaged protocol."""

    @sorg.protocol("user_pairs", study=False)
    async def user_pairs(team: sorg.Team) -> str:
        replies = await team.together([lambda a=a: team.ask(a, 0, "agent", f"agent {a}: write your part")
                                       for a in range(team.n_agents)])
        return sorg.collate(sorg.contributions(replies))

    try:
        task = load_bank().select(per_level=1)[0]
        fake_model.reply = lambda req: json.dumps({"role": "r", "contribution": "y" * 3000 + str(agent_of(req)),
                                                   "abstain": False})
        mine = run_trial(task, "user_pairs", "fake/m", 4, 0, client=client, scorers=("coverage",))
        ours = run_trial(task, "shared", "fake/m", 4, 0, client=client, scorers=("coverage",))
        assert mine.calls == ours.calls == 4
        assert (mine.answer_chars, mine.scored_chars, mine.scored_cut) == (ours.answer_chars, ours.scored_chars, True)
    finally:
        del PROTOCOLS["user_pairs"]
