"""report.html: self-contained, data only as text, fields of newer records shown generically."""

from __future__ import annotations

import json
import re

from sorg import report
from sorg.report.html import cell_rows, effect_svg, render_html, trial_view
from sorg.store import iter_records

from .synth import JUDGE_DIMS, run_dir, with_new_fields


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="sorg-data">(.*?)</script>', page, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


def test_page_is_self_contained_and_lists_every_claim(tmp_path):
    run = run_dir(tmp_path)
    page = (run / "report.html").read_text()
    assert "{{" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from a network
    assert page.count('<tr class="claim-row">') == 2
    assert "1.251, no CI (1 task)" in page and "1.251..1.251" not in page
    data = _data(page)
    assert len(data["trials"]) == 12 and data["quality_keys"] == ["coverage", "judge_q", "rubric"]
    assert {c["protocol"] for c in data["cells"]} == {"sequential", "coordinator"}


def test_new_record_fields_are_carried_and_script_text_cannot_escape(tmp_path):
    run = run_dir(tmp_path)
    raw = [with_new_fields(r, k) for k, r in enumerate(iter_records(run / "trials.jsonl"))]
    page = render_html(report.summary(run), raw)
    assert "</script><b>" not in page.split('id="sorg-data">', 1)[1].split("</script>\n<script>", 1)[0]
    data = _data(page)
    assert data["quality_keys"] == ["coverage", "judge_q", "rubric"]
    t = data["trials"][0]
    assert set(t["judge"]["scores"]) == set(JUDGE_DIMS) and t["scores"]["coverage"]["hits"] == 3
    assert t["stream"] in ("st0", "st1") and t["answer_chars"] >= 120
    assert {c["stream"] for c in data["cells"]} == {"st0", "st1"}


def test_trial_view_orders_turns_and_tolerates_missing_fields():
    rec = {"trial_id": "x", "task_id": "t", "level": 1, "protocol": "p", "model": "m", "n_agents": 2,
           "quality": {}, "replies": [{"agent": 1, "round": 1, "contribution": "late"},
                                      {"agent": 0, "round": 0, "contribution": "b", "position": 1},
                                      {"agent": 1, "round": 0, "contribution": "a", "position": 0}]}
    v = trial_view(rec)
    assert [r["contribution"] for r in v["replies"]] == ["a", "b", "late"]
    assert v["stream"] == "-" and v["judge"] == {} and v["scores"] == {} and v["tokens"] == 0
    assert trial_view(rec, detailed=False)["replies"] is None
    rows = cell_rows([{**v, "status": "ok", "cost_usd": 0.1}], ["rubric"])
    assert rows[0]["trials"] == 1 and rows[0]["quality"]["rubric"] is None


def test_effect_plot_marks_an_interval_it_cannot_draw():
    real = effect_svg({"estimate": 0.3, "ci": [0.2, 0.4], "details": {"clusters": 4}})
    assert 'class="ci"' in real and "hollow" not in real
    one = effect_svg({"estimate": 1.25, "ci": [1.25, 1.25], "details": {"clusters": 1}})
    assert "hollow" in one and "no CI (1 task)" in one and 'class="ci"' not in one
    assert "no estimate" in effect_svg({"estimate": None})


def test_only_the_first_trials_by_id_carry_their_turns(monkeypatch):
    import sorg.report.html as h

    monkeypatch.setattr(h, "MAX_DETAILED_TRIALS", 2)
    recs = [{"trial_id": t, "quality": {}, "replies": [{"agent": 0, "round": 0}]} for t in ("c", "a", "d", "b")]
    calls = []

    def records():
        calls.append(1)
        return iter(recs)

    views = h.trial_views(records)
    assert [v["trial_id"] for v in views] == ["a", "b", "c", "d"] and len(calls) == 2
    assert [v["replies"] is not None for v in views] == [True, True, False, False]
