"""Reading agents' replies and bounding what they see."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorg import agents
from sorg.agents import Seen, normalise_role, parse_reply, visible_context


def test_json_reply_is_read_with_indices_kept_in_range():
    p = parse_reply('{"role": "Budget Lead", "abstain": false, "contribution": "Venue $500",'
                    ' "builds_on": [1, 9, 2, "x"], "defers_to": [0, 0]}', n_agents=4, me=2)
    assert (p.role_raw, p.role, p.abstain, p.contribution) == ("Budget Lead", "budget lead", False, "Venue $500")
    assert p.builds_on == (1,) and p.defers_to == (0,) and not p.parse_failed


def test_grammar_json_with_raw_newlines_and_string_booleans():
    p = parse_reply('{"role": "a", "contribution": "line 1\nline 2", "abstain": "true"}')
    assert p.contribution == "line 1\nline 2" and p.abstain and not p.parse_failed


def test_free_text_role_and_abstain_lines():
    p = parse_reply("ROLE: The Critics\nThe venue is too small.")
    assert p.role == "critic" and p.contribution == "The venue is too small." and not p.parse_failed
    assert parse_reply("ABSTAIN - nothing to add").abstain


def test_unreadable_reply_is_a_parse_failure_keeping_its_text():
    p = parse_reply("Sure! Here you go.")
    assert p.parse_failed and p.contribution == "Sure! Here you go."
    assert not parse_reply("plain answer", structured=False).parse_failed


def test_role_normalisation_collapses_trivial_variants():
    assert normalise_role("The Budget Analysts!") == normalise_role("budget analyst") == "budget analyst"
    assert normalise_role("A Strategies-Lead") == "strategy lead"
    assert normalise_role("") == "" and normalise_role("class") == "class"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_parsing_never_raises(text):
    p = parse_reply(text, n_agents=8, me=3)
    assert isinstance(p.contribution, str) and all(0 <= i < 8 and i != 3 for i in p.builds_on + p.defers_to)


def test_visible_context_stays_within_budget_whatever_the_team():
    seen = [Seen(i, f"role {i}", "word " * 200) for i in range(256)]
    for budget in (64, 300, 1500):
        text = visible_context(seen, budget)
        assert agents.estimate_tokens(text) <= budget + 40  # the "not shown" line
        assert "not shown" in text
    small = visible_context(seen[:2], 5000)
    assert small.count("word") == 400 and "not shown" not in small


# --- role hygiene: what is not a role is not counted as an invented role -------------------

from sorg.agents import REPLY_SCHEMA, clean_role  # noqa: E402

MISSION = "Plan a one-day workshop for 20 people: name a venue, a catering option, and list three agenda items."


@pytest.mark.parametrize("raw", [
    "", " ", "x", "-", "42", "me", "You", "my role", "none", "N/A", "Alice", "bob", "Alice and Bob",
    "the role you choose for yourself", "Role you choose for yourself: planner", "your assigned role",
    "name a venue, a catering option", MISSION, MISSION.upper(),
])
def test_clean_role_drops_what_is_not_a_role(raw):
    assert clean_role(raw, MISSION) == ""


@pytest.mark.parametrize("raw,role", [
    ("Budget Analysts", "budget analyst"), ("the Venue scout!", "venue scout"),
    ("Catering lead", "catering lead"), ("QA", "qa"),
])
def test_clean_role_keeps_real_roles(raw, role):
    assert clean_role(raw, MISSION) == role


def test_links_are_optional_in_the_grammar():
    """A grammar that requires builds_on / defers_to makes a small model fill them with noise."""
    assert {"builds_on", "defers_to"} <= set(REPLY_SCHEMA["properties"])
    assert not {"builds_on", "defers_to"} & set(REPLY_SCHEMA["required"])
