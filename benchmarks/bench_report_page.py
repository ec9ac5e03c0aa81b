"""How big report.html is and how much CPU a browser spends opening it, on a run and on the
same run scaled up to N trials (records copied under new ids).

The page must stay one offline file and open in under 2 s of CPU on a 10,000-trial run. This
builds the page, opens it in headless chromium (Debian's, over the DevTools protocol, as the
browser tests do) and prints one JSON line per page: its bytes and the renderer's CPU time
(`Performance.getMetrics` TaskDuration) until the page says it is ready (the trial index
inflated and the lists drawn), plus the CPU of opening one trial.

    python benchmarks/bench_report_page.py [RUN_DIR] [--trials 10000] [--page FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def _measure(page_path: Path) -> dict:
    from tests.report.cdp import find_chromium, with_page

    async def go(page):
        await page.send("Performance.enable")
        await page.goto(page_path.resolve().as_uri())
        ready = await page.eval("(window.sorgReport && window.sorgReport.ready) ? "
                                "window.sorgReport.ready.then(() => true) : true")
        m = {x["name"]: x["value"] for x in (await page.send("Performance.getMetrics"))["metrics"]}
        tid = await page.eval("(document.querySelector('#trials tbody tr') || {dataset: {}}).dataset.trial || null")
        if tid:
            await page.eval(f"window.sorgReport.openTrial({json.dumps(tid)})")
        m2 = {x["name"]: x["value"] for x in (await page.send("Performance.getMetrics"))["metrics"]}
        return {"ready": ready, "open_cpu_s": round(m["TaskDuration"], 3),
                "open_trial_cpu_s": round(m2["TaskDuration"] - m["TaskDuration"], 3), "errors": page.errors}

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    return await with_page(chromium, go)


def _scaled(run: Path, n: int, out: Path) -> Path:
    """A copy of `run` whose trials.jsonl holds `n` records (copies under new ids)."""
    from sorg import report

    lines = [ln for ln in (run / "trials.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]
    out.mkdir(parents=True)
    for name in ("claims.json", "summary.json"):
        if (run / name).exists():
            shutil.copy(run / name, out / name)
    with (out / "trials.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            d = json.loads(lines[i % len(lines)])
            if i >= len(lines):
                d["trial_id"] = f"{d['trial_id']}#copy{i // len(lines)}"
            fh.write(json.dumps(d) + "\n")
    report.build(out, plots=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", nargs="?", default=str(ROOT / "reports" / "latest"))
    ap.add_argument("--trials", type=int, default=10000, help="also a copy of the run scaled to this many trials")
    ap.add_argument("--page", help="measure this page file as it is (e.g. an older report.html)")
    args = ap.parse_args()
    pages = [Path(args.page)] if args.page else [Path(args.run) / "report.html"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.trials and not args.page:
            pages.append(_scaled(Path(args.run), args.trials, Path(tmp) / "scaled") / "report.html")
        for p in pages:
            got = asyncio.run(_measure(p))
            print(json.dumps({"bench": "report_page", "page": str(p), "bytes": p.stat().st_size, **got}))


if __name__ == "__main__":
    main()
