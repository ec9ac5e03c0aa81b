"""The report's "Protocol effects and answer length" section: figures only for a metric whose
instrument passed the gate, "not measured" (and no number anywhere) for one that did not, the
lengths read from the team's whole answer, and the section in summary.md, summary.json and
report.html alike."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path
from types import SimpleNamespace

from sorg import report
from sorg.instrument import INSTRUMENT_FILE
from sorg.report import lengths
from sorg.report.fmt import est_ci
from sorg.store import TrialStore
from tests.pytest_plugin.fake_trials import fake_run_trial
from tests.report.synth import records

GATE = {"gate": "on", "instruments": {
    "coverage": {"status": "passed", "sentence": "coverage passed validation (tau 0.93)"},
    "judge_q": {"status": "failed", "sentence": "judge_q failed validation (tau 0.02; follows key order)"}}}


def volume_records(tasks: int = 8) -> list:
    """sequential writes ~3x the coordinator's text and scores higher only through its length;
    coverage and judge_q carry the same planted scores. `answer_chars` stays 0 throughout, so
    only an analysis that reads the answer itself sees the lengths; `scored_chars` (the bounded
    view's length) is 400 at most, as a view would cut them."""
    rng = random.Random(11)
    out = []
    for t in range(tasks):
        hard = rng.gauss(0, 0.05)
        for p, base in (("sequential", 900), ("coordinator", 300)):
            for s in range(2):
                n = int(base * math.exp(rng.gauss(0, 0.4)))
                q = 0.2 + hard + 0.05 * math.log1p(n) + rng.gauss(0, 0.005)
                r = fake_run_trial(SimpleNamespace(id=f"t{t}", level=1, domain="d"), p, "fake/m", 4, s)
                out.append(dataclasses.replace(r, answer="x" * n, quality={"coverage": q, "judge_q": q},
                                               answer_chars=0, scored_chars=min(n, 400)))
    return out


def build(tmp: Path, recs: list, gate: dict | None) -> Path:
    st = TrialStore(tmp, "r")
    for r in recs:
        st.append(r)
    st.close()
    if gate is not None:
        (tmp / "r" / INSTRUMENT_FILE).write_text(json.dumps(gate), encoding="utf-8")
    report.build(tmp / "r", plots=False)
    return tmp / "r"


def test_a_measured_metric_shows_raw_and_length_adjusted_effects_from_the_answers_own_length(tmp_path):
    run = build(tmp_path, volume_records(), GATE)
    s = json.loads((run / "summary.json").read_text())
    (blk,) = s["length_effects"]
    by_metric = {m["metric"]: m for m in blk["metrics"]}
    cov = by_metric["coverage"]
    assert cov["status"] == "measured" and cov["effects"]["reference"] == "coordinator"
    (seq,) = cov["effects"]["effects"]
    assert seq["raw"]["ci"][0] > 0.03  # raw: sequential clearly ahead
    assert abs(seq["adjusted"]["estimate"]) < 0.01 and seq["adjusted"]["ci"][0] < 0 < seq["adjusted"]["ci"][1]
    lens = {r["protocol"]: r for r in blk["lengths"]}
    assert lens["sequential"]["mean_chars"] > 2 * lens["coordinator"]["mean_chars"]
    assert lens["sequential"]["mean_scored_chars"] <= 400 < lens["sequential"]["mean_chars"]  # shown apart
    md = (run / "summary.md").read_text()
    sec = md[md.index("## Protocol effects and answer length"):md.index("## The instrument, per protocol")]
    assert "**coverage** (coverage passed validation (tau 0.93)):" in sec
    assert "| sequential  |" in sec and "Length slope:" in sec


def test_a_metric_that_failed_the_gate_reads_not_measured_with_no_figure_anywhere(tmp_path):
    run = build(tmp_path, volume_records(), GATE)
    s = json.loads((run / "summary.json").read_text())
    jq = {m["metric"]: m for m in s["length_effects"][0]["metrics"]}["judge_q"]
    assert jq == {"metric": "judge_q", "status": "not_measured",
                  "gate": "judge_q failed validation (tau 0.02; follows key order)"}
    md = (run / "summary.md").read_text()
    sec = md[md.index("## Protocol effects and answer length"):md.index("## The instrument, per protocol")]
    line = next(ln for ln in sec.splitlines() if ln.startswith("**judge_q**"))
    assert line == ("**judge_q**: not measured (judge_q failed validation (tau 0.02; follows key order)); "
                    "no effect is shown.")
    assert sec.count("raw effect [95% CI]") == 1  # coverage's table only
    page = (run / "report.html").read_text()
    html_sec = page[page.index('<section id="sec-lengths">'):page.index('<section id="sec-filters">')]
    assert "judge_q</strong>: not measured" in html_sec and html_sec.count("raw effect [95% CI]") == 1


def test_with_no_instrument_file_nothing_is_measured_and_with_the_gate_off_figures_read_as_exploration(tmp_path):
    none = build(tmp_path / "a", volume_records(), None)
    s = json.loads((none / "summary.json").read_text())
    assert all(m["status"] == "not_measured" and "effects" not in m for m in s["length_effects"][0]["metrics"])
    off = build(tmp_path / "b", volume_records(), {**GATE, "gate": "off"})
    md = (off / "summary.md").read_text()
    assert "**judge_q**: UNVALIDATED, the gate was off (judge_q failed validation" in md
    assert "exploration only, not findings" in md
    assert md.count("raw effect [95% CI]") == 2


def test_what_cannot_be_estimated_reads_na_with_its_reason(tmp_path):
    # Every answer the same length: raw effects, no adjusted ones, the reason said once as a note.
    recs = [dataclasses.replace(r, answer="y" * 50) for r in records(tasks=4, seeds=2)]
    run = build(tmp_path, recs, {"gate": "on", "instruments": {"coverage": GATE["instruments"]["coverage"]}})
    md = (run / "summary.md").read_text()
    sec = md[md.index("## Protocol effects and answer length"):md.index("## The instrument, per protocol")]
    (seq,) = json.loads((run / "summary.json").read_text())["length_effects"][0]["metrics"][0]["effects"]["effects"]
    assert seq["adjusted"]["estimate"] is None
    row = [ln for ln in sec.splitlines() if ln.startswith("| sequential")][-1]  # the effects table
    assert [c.strip() for c in row.split("|")[1:-1]] == [
        "sequential", "8", "8 (4)", est_ci(seq["raw"]["estimate"], seq["raw"]["ci"], 4), "n/a (note 1)"]
    assert "- note 1: answer length does not vary within blocks beyond what the protocol explains" in sec
    assert "Length slope" not in sec


def test_the_section_is_rendered_from_summary_data_alone():
    data = [{"model": "m", "lengths": [{"protocol": "coordinator", "trials": 1, "mean_chars": 10.0}],
             "metrics": [{"metric": "coverage", "status": "measured", "gate": "ok",
                          "effects": {"reference": "coordinator", "reason": "only the reference protocol "
                                      "'coordinator' has trials", "effects": []}}]}]
    md = "\n".join(lengths.md_lines(data))
    assert "No effect to estimate: only the reference protocol 'coordinator' has trials." in md
    assert "No effect to estimate" in lengths.to_html(data)
    assert "No ok trials." in "\n".join(lengths.md_lines([]))
