"""A researcher's own project, as the README's "Your own protocols, scorers, tasks and claims"
shows it: a task bank of their own, a protocol in conftest.py, a scorer, claims. Used by
`test_plugin_user_parts.py` (inside the repo's venv) and `test_outside_project.py` (a venv of
its own, sorg and the scorer's package installed into it)."""

import json

BANK = json.dumps({
    "domain": "garden",
    "description": "A small garden's plans.",
    "tasks": [
        {"id": "gdn-l1-01", "level": 1, "title": "Spring sowing", "prompt": "Name two vegetables to sow in spring.",
         "rubric": {"elements": [{"id": "veg", "description": "names a vegetable",
                                  "patterns": ["pea|bean|lettuce|carrot|radish|spinach"]}]}},
        {"id": "gdn-l2-01", "level": 2, "title": "Bed rotation",
         "prompt": "Plan a three-year rotation for three vegetable beds.",
         "rubric": {"elements": [{"id": "years", "description": "covers three years",
                                  "patterns": ["year (?:1|one)"]}]}},
    ],
}, indent=1)

PROTOCOL = '''
from sorg.protocols import Team, protocol


@protocol("pairs")
async def pairs(team: Team) -> str:
    """Agent 0 drafts, agent 1 improves the draft; the improved draft is the answer."""
    draft = await team.ask(0, 0, "agent", "Draft the answer to the mission.", structured=False)
    better = await team.ask(1 % team.n_agents, 1, "agent", "Improve this draft:\\n" + draft.contribution,
                            structured=False)
    return better.contribution
'''

SCORER = '''
def words(task, answer):
    """Longer answers, up to 50 words, score higher."""
    return min(1.0, len(answer.split()) / 50)
'''

EVALS = '''
def test_trial(sorg_trial, task, protocol, n_agents, model, seed):
    r = sorg_trial(task, protocol, model, n_agents, seed)
    assert r.status == "ok", r.error


def test_the_bank_is_ours(sorg_bank, task):
    assert [t.id for t in sorg_bank] == ["gdn-l1-01", "gdn-l2-01"] and task.id in sorg_bank
'''

CLAIMS = '''
from sorg import claims


@claims.claim
def test_pairs_makes_two_calls_a_task(trials):
    return claims.count(trials, "calls", agg="sum", at_least=4, protocol="pairs")


@claims.claim
def test_pairs_answers_have_words(trials):
    return claims.count(trials, "quality.words", agg="any", at_least=2, protocol="pairs")
'''
