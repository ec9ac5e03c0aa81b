"""The rubric scorer on hand-written answers, and the quantity extraction it relies on."""

from __future__ import annotations

import time

import pytest

from sorg.tasks import RubricResult, load_bank, score_details, score_rubric
from sorg.tasks.rubric import extract_amounts, extract_percents, line_hours, mask_echo, split_sections
from sorg.tasks.task import Constraint, Element, Rubric, Task

GOOD_ANSWERS = {
    "evt-l4-01": """## Budget
- Venue rental: $10,000
- Catering (in-house, $80 per head a day): $72,000
- Speaker fees: $12,000
- AV equipment: $6,000
- Marketing: $8,000
- Contingency: $12,000
Total: $120,000

## Day 1 schedule
- 9:00-10:00 Registration and coffee
- 10:00-11:00 Opening keynote
- 11:00-12:30 Panel
- 12:30-13:30 Lunch
- 13:30-15:30 Workshops
- 15:30-17:00 Closing keynote

## Keynote speakers
1. Dr. Ada Lee
2. Prof. Omar Diaz
3. Speaker Mia Chen
4. Keynote: Sam Ortiz

Risk: a speaker cancels. Mitigation: keep a backup speaker on call.

Trade-off: Lena Brooks agrees to $80 a head, Dana keeps her 10% contingency, and Raj gets $20,000 rather than half.
The city is not stated, so we assume Chicago.""",
    "cur-l2-02": """Opening activity (10 min): a warm-up where pupils fold paper into halves and quarters.
Main activity (35 min): pizza fractions game in groups, naming numerator and denominator.
Check understanding (15 min): exit ticket quiz with three fraction questions.""",
    "inc-l3-01": """Timeline:
- 14:02 alerts fire, checkout errors at 60%
- 14:10 on-call engineer starts investigating
- 15:30 bad config rolled back
- 16:02 service fully restored

The outage lasted 2 hours. Root cause: a config change caused the payment client to time out.
Impact: about 3,000 customers could not place orders.

Follow-up actions:
1. Add config validation in CI (owner: platform team)
2. Add a canary deploy step (owner: SRE lead)
3. Alert on checkout error rate (owner: payments engineer)""",
    "pl-l4-01": """Cities: Berlin, Paris and Madrid.

Marketing budget by channel:
- Social media ads: $90,000
- Influencers: $50,000
- Outdoor billboards: $40,000
- Launch events: $45,000
- Press and PR: $25,000
Total: $250,000

Budget by city:
- Berlin: 40%
- Paris: 35%
- Madrid: 25%

Timeline:
- Teaser phase: 3 weeks
- Launch phase: 2 weeks
- Growth phase: 5 weeks

Sales targets: 2,000 units in Berlin, 1,500 in Paris, 1,000 in Madrid.
Risk: permits are delayed. Mitigation: start the permit process early and keep a backup city.
Risk: supply shortage. Mitigation: a second supplier as fallback.

Compromise: Berlin gets 40%, not 60%, and the teaser phase shrinks to 3 weeks for Kenji.
The three cities are not named in the brief; we assume Berlin, Paris and Madrid.""",
    "inc-l4-01": """Shifts:
- Weekday day shift 08:00-20:00, Mon-Fri (60 h)
- Weekday night shift 20:00-08:00, Mon-Fri (60 h)
- Weekend day shift 08:00-20:00, Sat-Sun (24 h)
- Weekend night shift 20:00-08:00, Sat-Sun (24 h)
Total: 168 hours

Severity scale:
- SEV1: site down
- SEV2: major feature broken
- SEV3: minor bug
- SEV4: cosmetic issue

Escalation:
1. Level 1: the primary on-call responds within 15 minutes
2. Level 2: the secondary engineer joins after 30 minutes
3. Level 3: the engineering manager joins after 60 minutes

Handover: a 15-minute handoff brief at every shift change.

Tooling:
- PagerDuty: $1,200
- Status page: $300

Trade-off: 5-minute response for SEV1 only; nobody is on call twice in a row.
Time zones are not given; we assume one office and local rest rules.""",
    "sw-l1-02": "Use POST /users with a JSON body holding email and password. It returns 201 Created, or 400 Bad Request.",
    "res-l1-02": "Hand out a short survey card after each visit asking: How satisfied were you with your coffee, from 1 to 5? Would you recommend us?",
}


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.mark.parametrize("task_id", sorted(GOOD_ANSWERS))
def test_good_answer_scores_one_and_empty_scores_zero(bank, task_id: str) -> None:
    task = bank.get(task_id)
    details = score_details(task, GOOD_ANSWERS[task_id])
    assert details.score == 1.0, details.failed
    assert score_rubric(task, "") == 0.0
    assert score_rubric(task, "   \n\n \t") == 0.0
    assert score_rubric(task, None) == 0.0  # type: ignore[arg-type]


def test_partial_answer_gets_partial_credit_with_stated_weights(bank) -> None:
    task = bank.get("evt-l4-01")
    # Elements only, no numbers, no trade-off and no flagged gap: 7 of 9 elements of weight 1;
    # constraints weigh 2 + 1 + 1 + 1.
    text = ("We book a venue and catering, invite speakers, rent AV gear, run marketing and keep "
            "a contingency fund. The main risk is rain.")
    details = score_details(task, text)
    assert set(details.passed) == {e.id for e in task.rubric.elements} - {"conflict", "city_gap"}
    assert details.score == pytest.approx(7 / 14)
    assert {i.id for i in details.constraints} == {c.id for c in task.rubric.constraints}
    assert isinstance(details, RubricResult)
    d = details.to_dict()
    assert d["task_id"] == "evt-l4-01" and len(d["items"]) == 13


def test_details_explain_constraints(bank) -> None:
    task = bank.get("evt-l4-01")
    broken = GOOD_ANSWERS["evt-l4-01"].replace("Contingency: $12,000", "Contingency: $13,000")
    details = score_details(task, broken)
    assert "budget_total" in details.failed
    assert details.score == pytest.approx(12 / 14)


def test_budget_split_across_sections_does_not_add_up(bank) -> None:
    """A sum is checked within one section (documented): a budget scattered over paragraphs
    is not one budget list."""
    task = bank.get("evt-l4-01")
    scattered = GOOD_ANSWERS["evt-l4-01"].replace("- AV equipment", "\n- AV equipment")
    assert "budget_total" in score_details(task, scattered).failed


_ONE_ELEMENT = (Element("x", "x", ("xyz",)),)


def _task(*constraints: Constraint, elements=_ONE_ELEMENT) -> Task:
    return Task("t", "d", 4, "t", "prompt", Rubric(tuple(elements), tuple(constraints)))


def test_sum_le_with_floor_and_min_items() -> None:
    c = Constraint("cap", "sum", "", {"unit": "currency", "target": 1000, "op": "le", "floor": 500, "min_items": 2})
    t = _task(c, elements=())
    assert score_rubric(t, "- a $400\n- b $500") == 1.0
    assert score_rubric(t, "- a $400\n- b $700") == 0.0  # over the cap
    assert score_rubric(t, "- a $100\n- b $100") == 0.0  # under the floor
    assert score_rubric(t, "- a $900") == 0.0  # one item only
    assert score_rubric(t, "- a $400\n- b $500\nTotal: $900") == 1.0  # the total line is not an item


@pytest.mark.parametrize(
    "total_line",
    ["Total: $900", "**Total** $900", "The total budget is $900.", "Overall cost: $900", "Grand total = $900",
     "Sum $900", "in all $900"],
)
def test_lines_stating_the_total_are_not_items(total_line: str) -> None:
    c = Constraint("cap", "sum", "", {"unit": "currency", "target": 900, "op": "eq", "min_items": 2})
    t = _task(c, elements=())
    assert score_rubric(t, f"- a $400\n- b $500\n{total_line}") == 1.0
    assert score_rubric(t, f"{total_line}\n- a $400\n- b $500") == 1.0


def test_item_mentioning_the_total_still_counts() -> None:
    c = Constraint("cap", "sum", "", {"unit": "currency", "target": 900, "op": "eq", "min_items": 2})
    t = _task(c, elements=())
    assert score_rubric(t, "- venue $400 (almost half of the total)\n- food $500") == 1.0


def test_sum_percent_and_weeks() -> None:
    pct = _task(Constraint("p", "sum", "", {"unit": "percent", "target": 100, "min_items": 3}), elements=())
    assert score_rubric(pct, "Exam 50%\nProject 30 percent\nQuiz 20%") == 1.0
    assert score_rubric(pct, "Exam 50%\nProject 30%\nQuiz 30%") == 0.0
    weeks = _task(Constraint("w", "sum", "", {"unit": "weeks", "target": 12, "tolerance": 0, "min_items": 3}), elements=())
    assert score_rubric(weeks, "Design: 2 weeks\nBuild: 8 weeks\nTest: 2-week beta") == 1.0
    assert score_rubric(weeks, "Week 1 design\nWeek 2 build\nWeek 12 launch") == 0.0


def test_count_kinds() -> None:
    t = _task(Constraint("n", "count", "", {"min": 2, "max": 3}), elements=())
    assert score_rubric(t, "- a\n- b") == 1.0
    assert score_rubric(t, "- a\n- b\n- c\n- d") == 0.0
    assert score_rubric(t, "- a\n- b\n- c\n- d\n\n1. x\n2. y") == 1.0  # some section qualifies
    answer = _task(Constraint("n", "count", "", {"min": 3, "scope": "answer"}), elements=())
    assert score_rubric(answer, "- a\n\n- b\n\n- c") == 1.0
    slots = _task(Constraint("s", "count", "", {"item": "slot", "min": 2}), elements=())
    assert score_rubric(slots, "9:00-10:00 talk\n10:00-11:30 lab") == 1.0
    amounts = _task(Constraint("a", "count", "", {"item": "amount", "min": 3}), elements=())
    assert score_rubric(amounts, "Basic $5, Pro $15 and Enterprise $40 per month") == 1.0
    pattern = _task(Constraint("k", "count", "", {"min": 2, "pattern": "week"}), elements=())
    assert score_rubric(pattern, "Week 1: intro\nWeek 2: loops\n- other") == 1.0
    assert score_rubric(pattern, "- intro\n- loops") == 0.0


def test_range_kind() -> None:
    t = _task(Constraint("r", "range", "", {"keyword": "latency", "min": 1, "max": 300}), elements=())
    assert score_rubric(t, "Target latency: 250 ms") == 1.0
    assert score_rubric(t, "Target latency: 900 ms") == 0.0
    assert score_rubric(t, "250 ms is nice") == 0.0  # the keyword must be on the line
    h = _task(Constraint("r", "range", "", {"keyword": "respon", "unit": "hours", "max": 1, "min": 0.01}), elements=())
    assert score_rubric(h, "Response within 15 minutes") == 1.0
    assert score_rubric(h, "Response within 3 hours") == 0.0


def test_element_matching_is_case_insensitive_and_within_a_section() -> None:
    t = _task(elements=(Element("e", "e", ("budget plan",)),))
    assert score_rubric(t, "The BUDGET PLAN is ready") == 1.0
    assert score_rubric(t, "budget\n\nplan") == 0.0  # never across sections
    multi = _task(elements=(Element("e", "e", ("^- venue",)),))
    assert score_rubric(multi, "Plan:\n- venue hall") == 1.0  # ^ is per line


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$4,000", [4000.0]),
        ("$4k and $1.5M", [4000.0, 1_500_000.0]),
        ("€1.2 million", [1_200_000.0]),
        ("300 USD", [300.0]),
        ("$300 USD", [300.0]),
        ("5,000 dollars", [5000.0]),
        ("£20 and 30 euros", [20.0, 30.0]),
        ("no money here 4000", []),
    ],
)
def test_extract_amounts(text: str, expected: list[float]) -> None:
    assert extract_amounts(text) == expected


@pytest.mark.parametrize(
    "line, hours",
    [
        ("9:00-10:30 keynote", 1.5),
        ("09:00 – 10:00 welcome", 1.0),
        ("2pm-4pm workshop", 2.0),
        ("2-4pm workshop", 2.0),
        ("10:00 AM - 11:30 AM", 1.5),
        ("11:00-1:00 lunch talk", 2.0),
        ("9:00-5:00 day shift", 8.0),
        ("22:00-06:00 night shift", 8.0),
        ("20:00-08:00 night", 12.0),
        ("10pm-6am on call", 8.0),
        ("Mon-Fri 09:00-17:00 (40 h)", 40.0),
        ("Lunch (90 min)", 1.5),
        ("Opening, 2 hours", 2.0),
        ("a 3-hour lab", 3.0),
        ("9:00-10:00 talk (45 min)", 0.75),
        ("14:00 to 15:00 and 15:00 to 16:30", 2.5),
        ("pick 3-5 ideas", None),
        ("nothing", None),
    ],
)
def test_line_hours(line: str, hours: float | None) -> None:
    got = line_hours(line)
    assert got == (None if hours is None else pytest.approx(hours))


def test_extract_percents() -> None:
    assert extract_percents("Exam 40%, project 35 percent, 25 % quizzes") == [40.0, 35.0, 25.0]


def test_split_sections() -> None:
    text = "intro line\nsecond\n\n\n## Budget\n- a $1\n# Next\nbody\r\n\r\nlast"
    assert split_sections(text) == ["intro line\nsecond", "## Budget\n- a $1", "# Next\nbody", "last"]
    assert split_sections("") == []
    assert split_sections("\n \n\t\n") == []


def test_huge_and_garbage_answers_are_scored_quickly(bank) -> None:
    task = bank.get("evt-l4-01")
    huge = (GOOD_ANSWERS["evt-l4-01"] + "\n\n") * 2000 + "x" * 500_000
    start = time.process_time()  # CPU time: other load on a shared machine does not count
    assert score_rubric(task, huge) == 1.0
    garbage = "".join(chr((i * 7919) % 0x2FFF + 1) for i in range(200_000))
    score = score_rubric(task, garbage)
    assert 0.0 <= score <= 1.0
    many_sections = "\n\n".join(f"- item {i} ${i}" for i in range(20_000))
    assert 0.0 <= score_rubric(task, many_sections) <= 1.0
    assert time.process_time() - start < 10


def test_scoring_is_deterministic(bank) -> None:
    for task in bank:
        text = GOOD_ANSWERS.get(task.id, task.prompt)
        assert score_details(task, text) == score_details(task, text)


def test_echoing_the_prompt_scores_nothing(bank) -> None:
    """A team that only restates the task must not get credit for the task's own words."""
    for task in bank:
        assert score_rubric(task, task.prompt) == 0.0, (task.id, score_details(task, task.prompt).passed)
        assert score_rubric(task, f"You asked: {task.prompt}\n\nSure, I can help.") == 0.0, task.id
    unmasked = [score_details(t, t.prompt, mask_prompt_echo=False).score for t in bank]
    assert sum(unmasked) / len(unmasked) > 0.3  # what masking protects against


def test_mask_echo_blanks_only_copied_runs() -> None:
    prompt = "Suggest a venue for a one-day offsite of a 30-person team and say why it suits the group."
    masked = mask_echo("Suggest a venue for a team: the city hall, because it is quiet.", prompt)
    assert "venue" not in masked and "city hall, because it is quiet." in masked
    assert len(masked) == len("Suggest a venue for a team: the city hall, because it is quiet.")
    assert mask_echo("The venue is the city hall.", prompt) == "The venue is the city hall."
    assert mask_echo("a 30-person TEAM and say why", prompt).strip(" -") == ""
    assert mask_echo("anything", "") == "anything"


def test_paraphrase_of_a_task_still_counts(bank) -> None:
    task = bank.get("evt-l1-01")
    assert score_rubric(task, "Book the lakeside lodge: it is quiet and big enough for thirty people, "
                              "and a shuttle bus takes everyone there.") == 1.0


def test_adversarial_long_lines_score_in_linear_time(bank) -> None:
    """Long single lines of rubric-ish tokens must not trigger regex backtracking blow-ups."""
    lines = ["and " * 5_000, "$1 " * 7_000, "9:00-" * 4_000, "- week 1 " * 2_500, "a" * 20_000]
    start = time.process_time()  # CPU time: other load on the machine does not count
    for task in bank:
        for text in lines:
            assert 0.0 <= score_rubric(task, text) <= 1.0
    assert time.process_time() - start < 10  # about 2 s: linear; a quadratic regex would take minutes


@pytest.mark.parametrize(
    "filler",
    [
        "Sure! Here is a plan. Let me know if you need anything else.",
        "I'm sorry, but I cannot help with that request.",
        "As an AI language model, I think this is a great idea and it will be very successful.",
        "ROLE: coordinator\nI will coordinate the team and make sure everyone does their part.",
        "ABSTAIN",
    ],
)
def test_non_answers_score_near_zero(bank, filler: str) -> None:
    """Chatter, refusals and role announcements are what weak agents often return; they must
    not be mistaken for content."""
    scores = [score_rubric(t, filler) for t in bank]
    assert sum(scores) / len(scores) < 0.05
    assert max(scores) <= 0.5
