"""report.html: self-contained, data only as text or packed blobs, the judge panel holds only
the judge's dimensions, and trial detail is packed in chunks read one at a time."""

from __future__ import annotations

import json
import re

from sorg import report
from sorg.report import pack
from sorg.report.html import effect_svg, pack_trials, render_html
from sorg.report.views import detail, index_row, judge_view
from sorg.store import iter_records

from .synth import JUDGE_DIMS, run_dir, with_new_fields

#: A judge dict as records carry it (the committed replay's shape): bookkeeping beside the scores.
REAL_JUDGE = {"judge_model": "local/smollm2-135m", "self_judged": True, "excerpted": False, "answer_chars": 1527,
              "shown_chars": 1527, "usage": {"calls": 1, "prompt_tokens": 309, "completion_tokens": 56,
                                             "cost_usd": 4.21e-06},
              "accuracy": 2, "completeness": 3, "coherence": 1, "actionability": 4, "mission_relevance": 1,
              "q": 0.625, "attempts": 1, "rationale": "fine", "failed": False}


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="sorg-data">(.*?)</script>', page, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


def _blob(page: str, name: str):
    m = re.search(rf'<script type="application/octet-stream" id="{name}">(.*?)</script>', page, re.S)
    assert m, name
    return pack.unpack(m.group(1))


def test_page_is_self_contained_and_lists_every_claim(tmp_path):
    run = run_dir(tmp_path)
    page = (run / "report.html").read_text()
    assert "{{" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from a network
    assert page.count('class="claim-row"') == 2
    assert "1.251, no CI (1 task)" in page and "1.251..1.251" not in page
    data = _data(page)
    idx = _blob(page, "sorg-index")
    assert len(idx["trial_id"]) == data["n_trials"] == 12 and idx["trial_id"] == sorted(idx["trial_id"])
    assert data["quality_keys"] == ["coverage", "judge_q", "rubric"]
    assert {c["protocol"] for c in data["cells"]} == {"sequential",
                                                                                           "coordinator"}
    first = _blob(page, "sorg-chunk-0")
    assert len(first) == 12 and all("replies" in d for d in first)


def test_the_judge_panel_holds_the_five_dimensions_and_the_rationale_only():
    v = judge_view(REAL_JUDGE)
    assert v["dimensions"] == [["accuracy", 2], ["completeness", 3], ["coherence", 1], ["actionability", 4],
                               ["mission_relevance", 1]]
    assert v["rationale"] == "fine" and v["model"] == "local/smollm2-135m" and v["self_judged"]
    flat = json.dumps(v)
    for bookkeeping in ("answer_chars", "prompt_tokens", "cost_usd", "attempts", "shown_chars", "usage"):
        assert bookkeeping not in flat
    # A value outside 1-4 (or not an integer) is not a judge score.
    assert judge_view({**REAL_JUDGE, "accuracy": 7, "coherence": 2.5})["dimensions"][0] == ["completeness", 3]
    assert judge_view({}) == {} and judge_view(None) == {}
    assert judge_view({"scores": dict.fromkeys(JUDGE_DIMS, 2)})["dimensions"] == [[d, 2] for d in JUDGE_DIMS]


def test_new_record_fields_are_carried_and_script_text_cannot_escape(tmp_path):
    run = run_dir(tmp_path)
    raw = [with_new_fields(r, k) for k, r in enumerate(iter_records(run / "trials.jsonl"))]
    page = render_html(report.summary(run), raw)
    assert "</script><b>" not in page.split('id="sorg-data">', 1)[1].split("\n<script>", 1)[0]
    data = _data(page)
    assert data["quality_keys"] == ["coverage", "judge_q", "rubric"]
    idx = _blob(page, "sorg-index")
    assert set(idx["stream"]) == {"st0", "st1"} and min(idx["answer_chars"]) >= 120
    d = _blob(page, "sorg-chunk-0")[0]
    assert [x[0] for x in d["judge"]["dimensions"]] == list(JUDGE_DIMS) and d["scores"]["coverage"]["hits"] == 3


def test_detail_orders_turns_attaches_prompts_and_tolerates_missing_fields():
    rec = {"trial_id": "x", "task_id": "t", "level": 1, "protocol": "p", "model": "m", "n_agents": 2,
           "quality": {}, "replies": [{"agent": 1, "round": 1, "contribution": "late"},
                                      {"agent": 0, "round": 0, "contribution": "b", "position": 1},
                                      {"agent": 1, "round": 0, "contribution": "a", "position": 0}]}
    d = detail(rec, prompts=["p-late", "p-b", None])
    assert [r["contribution"] for r in d["replies"]] == ["a", "b", "late"]
    assert [r.get("prompt") for r in d["replies"]] == [None, "p-b", "p-late"]
    assert d["judge"] == {} and d["scores"] == {} and "error" not in d
    row = index_row(rec)
    assert row["stream"] == "-" and row["tokens"] == 0 and row["quality"] == {}


def test_trial_detail_is_packed_in_chunks_in_id_order(monkeypatch):
    monkeypatch.setattr(pack, "CHUNK", 2)
    recs = [{"trial_id": t, "quality": {"q": 0.5}, "answer": t.upper()} for t in ("c", "a", "d", "b")]
    calls = []

    def records():
        calls.append(1)
        return iter(recs)

    cols, chunks = pack_trials(records)
    assert cols["trial_id"] == ["a", "b", "c", "d"] and cols["quality"] == {"q": [0.5] * 4} and len(calls) == 2
    assert [[d["answer"] for d in pack.unpack(c)] for c in chunks] == [["A", "B"], ["C", "D"]]


def test_effect_plot_marks_an_interval_it_cannot_draw():
    real = effect_svg({"estimate": 0.3, "ci": [0.2, 0.4], "details": {"clusters": 4}})
    assert 'class="ci"' in real and "hollow" not in real
    one = effect_svg({"estimate": 1.25, "ci": [1.25, 1.25], "details": {"clusters": 1}})
    assert "hollow" in one and "no CI (1 task)" in one and 'class="ci"' not in one
    assert "no estimate" in effect_svg({"estimate": None})
