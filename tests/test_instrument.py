"""The report's instrument table: per-protocol quality, judge dimensions, answer sizes and the
length-quality rank correlation, computed from records alone."""

from __future__ import annotations

import pytest
from scipy import stats as sps

from sorg import instrument
from sorg.tasks import load_bank
from tests.pytest_plugin.fake_trials import fake_run_trial


@pytest.mark.parametrize("x,y", [([1, 2, 3, 4], [1, 3, 2, 4]), ([1, 1, 2, 5, 9], [3, 3, 1, 0, 2]),
                                 ([0.1, 0.5, 0.5, 0.9], [1, 2, 2, 3])])
def test_spearman_matches_scipy(x, y):
    assert instrument.spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)


def test_spearman_is_undefined_on_constants_and_tiny_samples():
    assert instrument.spearman([1, 2, 3], [5, 5, 5]) is None and instrument.spearman([1, 2], [1, 2]) is None


def test_rows_per_protocol_and_pooled_with_length_correlation():
    import dataclasses

    tasks = load_bank().select(per_level=1)
    recs = []
    for i, t in enumerate(tasks * 2):
        r = fake_run_trial(t, "sequential" if i % 2 else "coordinator", "fake/m", 4, i)
        recs.append(dataclasses.replace(r, answer_chars=100 * (i + 1), quality={"coverage": i / 10},
                                        judge={"accuracy": 2, "completeness": 3, "coherence": 1,
                                               "actionability": 4, "mission_relevance": 2, "self_judged": True}))
    rows = {r["protocol"]: r for r in instrument.rows(recs)}
    assert set(rows) == {"coordinator", "sequential", instrument.ALL}
    assert rows[instrument.ALL]["trials"] == 8 and rows[instrument.ALL]["rho_length_coverage"] == pytest.approx(1.0)
    assert rows["sequential"]["accuracy"] == 2 and rows["sequential"]["self_judged"] == 4
    assert "rho(length, coverage)" in instrument.table(list(rows.values()))
    assert instrument.dimension_counts(recs)["actionability"] == {"1": 0, "2": 0, "3": 0, "4": 8}


# --------------------------------------------------------------------------- the gate's emergence checks

def _reply(agent, abstain=False, text="", role="", builds_on=(), defers_to=()):
    from sorg.record import AgentReply

    return AgentReply(agent=agent, round=0, role_raw=role, role=role, abstain=abstain, contribution=text,
                      builds_on=tuple(builds_on), defers_to=tuple(defers_to))


def _seq_record(task, replies, **kw):
    import dataclasses

    base = fake_run_trial(task, "sequential", "fake/m", len(replies), 0)
    return dataclasses.replace(base, replies=tuple(replies), **kw)


BANK = {t.id: t for t in load_bank()}
TASK = BANK["cur-l1-01"]


def _checks(records):
    from sorg.metrics import emergence_checks

    return {c.name: c for c in emergence_checks(records, BANK)}


def test_behaviour_passes_the_abstention_and_link_checks():
    """A team that abstains only when the work is covered, abstains with nothing written, and
    links only agents it was shown."""
    full = "Topic: variables. Exercise: write a short program that greets the user with input().\n\n" \
           "Check: an exit ticket quiz where learners predict the output."
    good = [_seq_record(TASK, [_reply(0, text=full, role="teacher"), _reply(1, abstain=True),
                               _reply(2, abstain=True), _reply(3, abstain=True, builds_on=(0,))])
            for _ in range(3)]
    bare = [_seq_record(TASK, [_reply(0, text="Let us plan this lesson together.", role="planner"),
                               _reply(1, text="We need more detail first.", role="helper", builds_on=(0,))])
            for _ in range(3)]
    c = _checks(good + bare)
    assert c["sequential_agent0_abstains"].figure == 0.0 and c["sequential_agent0_abstains"].passed
    assert c["abstention_is_empty"].figure == 1.0 and c["abstention_is_empty"].passed
    assert c["abstains_when_covered"].figure == 1.0 and c["abstains_when_covered"].passed
    assert c["impossible_links"].figure == 0.0 and c["impossible_links"].passed


def test_a_coin_fails_the_abstention_and_link_checks():
    """What the replay showed: the first speaker abstains with nothing written, an abstention
    still writes, and links name agents who had not spoken."""
    recs = [_seq_record(TASK, [_reply(0, abstain=True, text="I will write the plan.", defers_to=(1,)),
                               _reply(1, text="Some text.", role="writer", builds_on=(2,)),
                               _reply(2, abstain=True, text="More text anyway.")]) for _ in range(4)]
    c = _checks(recs)
    assert c["sequential_agent0_abstains"].figure == 1.0 and not c["sequential_agent0_abstains"].passed
    assert c["abstention_is_empty"].figure == 0.0 and not c["abstention_is_empty"].passed
    assert c["impossible_links"].figure == 1.0 and not c["impossible_links"].passed


def test_roles_must_match_their_work_and_not_be_memory_titles():
    import dataclasses

    t0, t1 = BANK["evt-l1-01"], BANK["pl-l2-01"]
    copy = [dataclasses.replace(_seq_record(t, [_reply(0, text="x", role="r"), _reply(1, text="y", role="s")]),
                                protocol="shared", stream_id="s1", position=i,
                                agent_roles=("offsite venue", "offsite venue"))
            for i, t in enumerate((t0, t1, t0))]
    c = _checks(copy)
    assert c["roles_are_not_memory_titles"].figure == 1.0 and not c["roles_are_not_memory_titles"].passed
    assert c["kept_roles_are_not_titles"].figure == 1.0 and "shared" in c["kept_roles_are_not_titles"].what
    fitting = [_seq_record(TASK, [_reply(0, text="The budget covers venue costs.", role="budget lead"),
                                  _reply(1, text="The schedule runs from nine.", role="schedule writer")])]
    assert _checks(fitting)["role_matches_contribution"].figure == 1.0
    swapped = [_seq_record(TASK, [_reply(0, text="The budget covers venue costs.", role="schedule writer"),
                                  _reply(1, text="The schedule runs from nine.", role="budget lead")])]
    assert _checks(swapped)["role_matches_contribution"].figure == -1.0


def test_emergence_gate_reads_not_run_without_data_and_names_failed_checks():
    g = instrument.emergence_gate([], BANK)
    assert {r.status for r in g.values()} == {"not_run"}
    assert "no data" in g["emergence.links"].reason
    recs = [_seq_record(TASK, [_reply(0, text="a", builds_on=(1,)), _reply(1, text="b")])]
    g = instrument.emergence_gate(recs, BANK)
    assert g["emergence.links"].status == "failed"
    assert g["emergence.links"].sentence() == "emergence.links failed validation (impossible_links 1.00, needs <= 0.05)"


def test_judge_usage_counts_every_model_scorer_and_its_failures():
    import dataclasses

    r = fake_run_trial(TASK, "sequential", "fake/m", 2, 0)
    usage = {"calls": 2, "prompt_tokens": 100, "completion_tokens": 20, "cost_usd": 0.5}
    recs = [dataclasses.replace(r, scores={"judge_q": {"usage": usage, "failed": False},
                                           "judge_q_dims": {"usage": usage, "failed": True}})]
    assert instrument.judge_usage(recs) == {"calls": 4, "tokens": 240, "cost_usd": 1.0, "failures": 1}


def test_gate_table_and_file_round_trip(tmp_path):
    import json

    from sorg.scoring.gate import Check, GateResult

    res = {"judge_q": GateResult("judge_q", "failed", (Check("monotone", 0.02, "mean Kendall tau >= 0.6", False),),
                                 tasks=6, reason="tau 0.02")}
    instrument.write_gate(tmp_path, res, True)
    doc = json.loads((tmp_path / instrument.INSTRUMENT_FILE).read_text())
    assert doc["gate"] == "on" and doc["instruments"]["judge_q"]["sentence"] == "judge_q failed validation (tau 0.02)"
    assert "| judge_q" in instrument.gate_table(doc) and "FAIL" in instrument.gate_table(doc)
