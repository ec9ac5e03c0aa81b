"""report.html in a real headless browser (Debian's chromium over the DevTools protocol), on
the committed replay's REAL data (a fixture lacks the fields that broke the judge panel):
the judge panel shows the five 1-4 dimensions and nothing else; a claim opens its per-unit
evidence with links to its trials; two protocols compare side by side on one task; a trial
shows every call's prompt (collapsed) and reply; at 420 px nothing scrolls sideways.
Screenshots are kept under tests/artifacts/ for a person to look at."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from sorg import report
from sorg.store import read_records

from .cdp import find_chromium, with_page
from .synth import run_dir

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = find_chromium()
pytestmark = [pytest.mark.slow,  # the study replayed by pytest in a subprocess: left out of the quick selection
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; "
                                                          ".ci/run installs it)")]
JUDGE_DIMS = ["accuracy", "completeness", "coherence", "actionability", "mission_relevance"]


def _drive(url: str, script, width: int | None = None) -> dict:
    async def go(page):
        if width:
            await page.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                            mobile=True)
        await page.goto(url)
        await page.eval("window.sorgReport.ready.then(() => true)")
        out = await script(page)
        out["errors"] = list(page.errors)
        return out

    return asyncio.run(with_page(CHROMIUM, go))


@pytest.fixture(scope="module")
def real_run(replays, tmp_path_factory) -> Path:
    """A copy of the replay's run, its page rebuilt with every call's prompt."""
    from sorg.cli import main

    run = tmp_path_factory.mktemp("real") / "r"
    shutil.copytree(replays[0], run)
    assert main(["report", str(run), "--html", "--prompts"]) == 0
    return run


def test_judge_panel_on_a_real_trial_holds_the_five_dimensions_only(real_run):
    recs = read_records(real_run / "trials.jsonl")
    rec = next(r for r in sorted(recs, key=lambda r: r.trial_id) if r.judge.get("accuracy"))
    assert "answer_chars" in rec.judge and "usage" in rec.judge  # the real shape: bookkeeping beside the scores

    async def script(page):
        await page.eval(f"window.sorgReport.openTrial({json.dumps(rec.trial_id)})")
        out = {"dims": await page.eval("Array.from(document.querySelectorAll('#judge tr.judge-dim'))"
                                       ".map(t => [t.cells[0].textContent, t.cells[1].textContent])"),
               "judge": await page.eval("document.getElementById('judge').textContent"),
               "turns": await page.eval("document.querySelectorAll('#turns .turn').length"),
               "prompts": await page.eval("document.querySelectorAll('#turns .turn details.prompt').length"),
               "open": await page.eval("document.querySelectorAll('#turns details.prompt[open]').length"),
               "first_prompt": await page.eval("document.querySelector('#turns details.prompt').textContent"),
               "gate": await page.eval("(document.querySelector('#trial-detail .gate') || {}).textContent || ''")}
        await page.eval("document.querySelector('#turns details.prompt').open = true")
        await page.eval("document.getElementById('trial-detail').scrollIntoView()")
        await page.screenshot(ARTIFACTS / "report-trial.png", "#trial-detail")
        await page.eval("document.getElementById('trial-detail').style.maxHeight = 'none'")
        await page.screenshot(ARTIFACTS / "report-turns.png", "#turns")
        return out

    out = _drive((real_run / "report.html").as_uri(), script)
    assert out["errors"] == []
    assert out["dims"] == [[d, f"{rec.judge[d]} / 4"] for d in JUDGE_DIMS]
    for word in ("answer_chars", "prompt_tokens", "cost_usd", "attempts", "1527"):
        assert word not in out["judge"]
    assert rec.judge["rationale"][:40] in out["judge"]
    assert out["turns"] == out["prompts"] == len(rec.replies) and out["open"] == 0  # collapsed by default
    assert "Mission:" in out["first_prompt"]
    # The gate's outcome where an instrument failed it, as summary.json records it.
    gate = json.loads((real_run / "summary.json").read_text()).get("instrument_gate") or {}
    failed = [r["sentence"] for r in (gate.get("instruments") or {}).values() if r["status"] != "passed"]
    assert all(f in out["gate"] for f in failed) and bool(failed) == bool(out["gate"])


def test_a_claim_opens_its_evidence_and_links_to_its_trials(real_run):
    claims = json.loads((real_run / "claims.json").read_text())["claims"]
    i = None

    async def script(page):
        nonlocal i
        # A paired claim with per-unit evidence (on the committed replay the measured one is the
        # coverage contrast; the judge-Q claims are not measured and have none).
        i = await page.eval("window.sorgReport.data.claims.findIndex(c => c.kind === 'beats' && c.evidence"
                            " && c.evidence.mode === 'difference' && c.evidence.units.length)")
        await page.eval(f"document.querySelector('tr.claim-row[data-claim=\"{i}\"]').click()")
        out = {"units": await page.eval(f"document.querySelectorAll('#evidence-{i} tr.unit-row').length"),
               "points": await page.eval(f"document.querySelectorAll('#evidence-{i} svg.forest circle').length"),
               "band": await page.eval(f"document.querySelectorAll('#evidence-{i} svg.forest rect.band').length"),
               "ties": await page.eval(f"Array.from(document.querySelectorAll('#evidence-{i} tr.unit-row'))"
                                       ".filter(r => r.cells[5].textContent.startsWith('tie')).length")}
        await page.screenshot(ARTIFACTS / "report-evidence.png", f"tr.claim-msg[data-claim='{i}']")
        await page.eval(f"document.querySelector('#evidence-{i} a.unit-trials').click()")
        out["listed"] = await page.eval("Array.from(document.querySelectorAll('#trials tbody tr'))"
                                        ".map(r => r.dataset.trial)")
        out["unit"] = await page.eval(f"document.querySelector('#evidence-{i} tr.unit-row td').textContent")
        out["ev"] = await page.eval(f"window.sorgReport.data.claims[{i}].evidence")
        return out

    out = _drive((real_run / "report.html").as_uri(), script)
    v = claims[i]["verdict"]
    assert out["errors"] == [] and i >= 0
    ev = out["ev"]
    assert out["units"] >= v["n"] and out["points"] >= v["n"]
    # the verdict's interval is drawn exactly when the units reproduce the verdict's estimate; a
    # claim whose test function selected trials its verdict does not record (the study's sweep
    # filters) gets the run's units and no band, and the page says so
    assert out["band"] == (1 if ev["agrees"] else 0)
    if ev["agrees"]:
        assert out["ties"] == v["details"].get("zero_units", 0)
    arms = {str(x) for arm in (ev["a"], ev["b"]) for x in (arm if isinstance(arm, list) else [arm])}
    recs = {r.trial_id: r.to_dict() for r in read_records(real_run / "trials.jsonl")}
    assert out["listed"] and all(str(recs[t][ev["unit_field"]]) == out["unit"] and str(recs[t][ev["by"]]) in arms
                                 for t in out["listed"])


def test_two_protocols_side_by_side_on_one_task(real_run):
    recs = read_records(real_run / "trials.jsonl")
    task = sorted(r.task_id for r in recs)[0]

    async def script(page):
        await page.eval("window.sorgReport.sideBySide(" + json.dumps(task) + ")")
        await page.eval("new Promise(r => setTimeout(r, 300))")
        out = {"cards": await page.eval("Array.from(document.querySelectorAll('.side-card'))"
                                        ".map(c => c.dataset.protocol)"),
               "answers": await page.eval("document.querySelectorAll('.side-card pre.answer').length"),
               "dims": await page.eval("document.querySelectorAll('.side-card tr.judge-dim').length"),
               "rows": await page.eval("document.querySelectorAll('#compare tbody tr').length"),
               "cells_ci": await page.eval("Array.from(document.querySelectorAll('#cells tbody tr'))"
                                           ".map(r => r.cells[5].textContent)")}
        await page.eval("document.querySelectorAll('#compare thead th')[3].click()")  # sort by the difference
        out["diffs"] = await page.eval("Array.from(document.querySelectorAll('#compare tbody tr'))"
                                       ".map(r => r.cells[3].textContent)")
        await page.eval("document.getElementById('sec-compare').scrollIntoView()")
        await page.screenshot(ARTIFACTS / "report-compare.png", "#sec-compare")
        return out

    out = _drive((real_run / "report.html").as_uri(), script)
    assert out["errors"] == []
    assert len(out["cards"]) == 2 and out["answers"] == 2 and out["dims"] == 10
    assert out["rows"] == len({r.task_id for r in recs if r.protocol in out["cards"]})
    assert out["cells_ci"] and any("[" in c for c in out["cells_ci"])  # intervals in the cell table
    diffs = [float(d) for d in out["diffs"] if d != "-"]
    assert diffs and diffs == sorted(diffs)


def test_at_420_px_nothing_scrolls_sideways(real_run):
    recs = read_records(real_run / "trials.jsonl")
    tid = sorted(r.trial_id for r in recs)[0]

    async def script(page):
        await page.eval(f"window.sorgReport.openTrial({json.dumps(tid)})")
        await page.eval("window.sorgReport.openClaim(0, true)")
        out = {"inner": await page.eval("window.innerWidth"),
               "scroll": await page.eval("document.documentElement.scrollWidth")}
        await page.eval("document.getElementById('trial-detail').scrollIntoView()")
        await page.screenshot(ARTIFACTS / "report-420.png", "#sec-trials")
        return out

    out = _drive((real_run / "report.html").as_uri(), script, width=420)
    assert out["errors"] == []
    assert out["inner"] == 420 and out["scroll"] <= 420


def test_filters_are_multi_select(tmp_path):
    run = run_dir(tmp_path)

    async def script(page):
        out = {"all": await page.eval("document.querySelectorAll('#trials tbody tr').length")}
        for v in ("sequential", "coordinator"):
            await page.eval(f"(() => {{ const c = document.querySelector('#filter-protocol input[value=\"{v}\"]');"
                            " c.checked = true; c.dispatchEvent(new Event('change')); })()")
            out[v] = await page.eval("document.querySelectorAll('#trials tbody tr').length")
        return out

    out = _drive((run / "report.html").as_uri(), script)
    assert out["errors"] == [] and out["all"] == 12 and out["sequential"] == 6 and out["coordinator"] == 12


def test_the_harness_sees_console_errors_and_exceptions(tmp_path):
    """The 'no console errors' checks above can fail: a page that logs one and throws one."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>window.sorgReport = {ready: Promise.resolve()};"
                    "console.error('boom'); notDefined();</script>")

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
