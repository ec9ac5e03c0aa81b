"""report.html in a real headless browser (Debian's chromium over the DevTools protocol):
it loads with no console error, lists one row per claim, filters its cells and trials, and
opens a trial with its agents in speaking order and a judge's dimensions. A screenshot is
kept under tests/artifacts/ for a person to look at."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sorg import report
from sorg.report.html import render_html
from sorg.store import iter_records, read_records

from .cdp import find_chromium, with_page
from .synth import JUDGE_DIMS, run_dir, with_new_fields

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = find_chromium()
pytestmark = [pytest.mark.slow,  # the study replayed by pytest in a subprocess: left out of the quick selection
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; "
                                                          ".ci/run installs it)")]


def _drive(url: str, script: callable) -> dict:
    async def go(page):
        await page.goto(url)
        out = await script(page)
        out["errors"] = list(page.errors)
        return out

    return asyncio.run(with_page(CHROMIUM, go))


def test_replayed_report_in_a_browser(replays):
    run, _ = replays
    claims = json.loads((run / "claims.json").read_text())["claims"]
    recs = read_records(run / "trials.jsonl")
    biggest = max(r.n_agents for r in recs)
    expected = sorted(r.trial_id for r in recs if r.protocol == "shared" and r.n_agents == biggest)
    calls = {r.trial_id: r.calls for r in recs}

    async def script(page):
        out = {"claim_rows": await page.eval("document.querySelectorAll('#claims tr.claim-row').length"),
               "cells_all": await page.eval("document.querySelectorAll('#cells tbody tr').length"),
               "trials_all": await page.eval("document.querySelectorAll('#trials tbody tr').length")}
        await page.eval("(() => { const s = document.getElementById('filter-protocol'); s.value = 'shared';"
                        " s.dispatchEvent(new Event('change')); })()")
        out["cells_shared"] = await page.eval(
            "Array.from(document.querySelectorAll('#cells tbody tr')).map(r => r.cells[1].textContent)")
        out["trials_shared"] = await page.eval("document.querySelectorAll('#trials tbody tr').length")
        await page.eval("(() => { const s = document.getElementById('filter-n_agents'); s.value = '" + str(biggest) + "';"
                        " s.dispatchEvent(new Event('change')); })()")
        out["trials_big"] = await page.eval(
            "Array.from(document.querySelectorAll('#trials tbody tr')).map(r => r.dataset.trial)")
        await page.eval("document.querySelector('#trials tbody tr').click()")
        out["title"] = await page.eval("document.getElementById('trial-title').textContent")
        out["turns"] = await page.eval("document.querySelectorAll('#turns .turn').length")
        out["first_turn"] = await page.eval("document.querySelector('#turns .turn .who').textContent")
        out["shot"] = str(await page.screenshot(ARTIFACTS / "report.png"))
        return out

    out = _drive((run / "report.html").as_uri(), script)
    assert out["errors"] == []
    assert out["claim_rows"] == len(claims) > 0
    assert out["cells_all"] > len(out["cells_shared"]) > 0 and set(out["cells_shared"]) == {"shared"}
    assert out["trials_all"] == len(recs) and 0 < out["trials_shared"] < len(recs)
    assert sorted(out["trials_big"]) == expected and expected
    assert out["title"] in expected and out["turns"] == calls[out["title"]]  # every call of the trial
    assert out["first_turn"].startswith("agent 0") and "round 0" in out["first_turn"] and "role:" in out["first_turn"]
    assert Path(out["shot"]).read_bytes()[:4] == b"\x89PNG"


def test_judge_dimensions_and_scores_in_a_browser(tmp_path):
    run = run_dir(tmp_path)
    raw = [with_new_fields(r, k) for k, r in enumerate(iter_records(run / "trials.jsonl"))]
    page_path = run / "report.html"
    page_path.write_text(render_html(report.summary(run), raw), encoding="utf-8")
    tid = sorted(r["trial_id"] for r in raw)[0]

    async def script(page):
        await page.eval(f"window.sorgReport.openTrial({json.dumps(tid)})")
        out = {"dims": await page.eval(
            "Array.from(document.querySelectorAll('#judge tr.judge-dim th')).map(t => t.textContent)"),
            "judge_text": await page.eval("document.getElementById('judge').textContent"),
            "injected": await page.eval("document.querySelectorAll('#judge b').length"),
            "streams": await page.eval(
                "Array.from(document.querySelectorAll('#filter-stream option')).map(o => o.value)"),
            "quality_heads": await page.eval(
                "Array.from(document.querySelectorAll('#cells thead th')).map(t => t.textContent)")}
        await page.screenshot(ARTIFACTS / "report-judge.png")
        return out

    out = _drive(page_path.as_uri(), script)
    assert out["errors"] == []
    assert sorted(out["dims"]) == sorted(JUDGE_DIMS)
    assert "</script><b>not html</b>" in out["judge_text"] and out["injected"] == 0  # text, never markup
    assert out["streams"] == ["", "st0", "st1"]
    assert {"quality: coverage", "quality: judge_q", "quality: rubric"} <= set(out["quality_heads"])


def test_the_harness_sees_console_errors_and_exceptions(tmp_path):
    """The 'no console errors' checks above can fail: a page that logs one and throws one."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>console.error('boom'); notDefined();</script>")

    async def script(p):
        return {"title": await p.eval("document.title")}

    out = _drive(page.as_uri(), script)
    assert out["title"] == "x"
    assert any("boom" in e for e in out["errors"]) and any("notDefined" in e for e in out["errors"])


def test_an_empty_run_page_loads_without_errors(tmp_path):
    run = tmp_path / "empty"
    run.mkdir()
    report.build(run, plots=False)

    async def script(p):
        return {"cells": await p.eval("document.getElementById('cell-count').textContent"),
                "claims": await p.eval("document.getElementById('sec-claims').textContent")}

    out = _drive((run / "report.html").as_uri(), script)
    assert out["errors"] == [] and out["cells"] == "0 of 0 cells" and "No claims were judged" in out["claims"]
