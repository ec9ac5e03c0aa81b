"""Judging claims once, after every trial, and reporting them as ordinary test reports.

Why on the controller and why like this: a claim reads the whole sweep, so it runs once, in
the process that stored every record (under xdist: the controller). Every claim the eval
files declare is judged, also those `-k` left out, because the Holm family is the declared
set of claims, not the selected one; only selected claims are reported. A claim is judged
only when its sweep is complete (`sweep.Coverage`); otherwise it is skipped with the reason.
Skip and xfail marks behave as on any test: `--runxfail` ignores xfail, `xfail(raises=...)`
xfails only for those exceptions (a failed verdict counts as an AssertionError, like a
failed `assert`), and an error of the plugin itself (a claim it cannot import) is never
turned into an XFAIL.

pytest's API: public throughout (`pytest.TestReport`, `pytest.Module` through `loader`),
except `_pytest.skipping.evaluate_skip_marks` / `evaluate_xfail_marks`. pytest has no public
function that evaluates a skipif/xfail condition (a string evaluated with the module's
globals, `config` and `pytest_markeval_namespace`, or a bool, plus the `xfail_strict` ini)
outside running the test; running the claim item's setup phase instead (where pytest's own
hook raises skip/xfail) would set up its fixtures at collection, before any trial, and
still leave a non-raising `xfail(run=True)` in a private stash key. Copying pytest's
evaluation would drift from it; the private import is the smaller risk (the floor test,
tests/pytest_plugin/test_pytest_floor.py, runs the plugin on the oldest pytest allowed).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))


def claim_entry(item: pytest.Item, selected: bool) -> dict:
    """What the controller needs to call and report a claim: plain data (crosses processes)."""
    # Private: no public pytest API evaluates skipif/xfail conditions outside running the
    # test (the module docstring says why running the claim's setup phase is no substitute).
    from _pytest.skipping import evaluate_skip_marks, evaluate_xfail_marks

    entry: dict[str, Any] = {
        "nodeid": item.nodeid, "path": str(item.path), "qualname": _qualname(item),
        "location": [item.location[0], item.location[1], item.location[2]],
        "keywords": sorted(str(k) for k in item.keywords), "params": {},
        "skip": None, "xfail": None, "error": None, "selected": selected,
    }
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        entry["params"] = dict(callspec.params)
    try:
        skipped = evaluate_skip_marks(item)
        if skipped is not None:
            entry["skip"] = skipped.reason
        xf = None if item.config.option.runxfail else evaluate_xfail_marks(item)
        if xf is not None:
            raises = None
            if xf.raises is not None:
                types = xf.raises if isinstance(xf.raises, tuple) else (xf.raises,)
                for t in types:
                    if not isinstance(t, type):  # pytest's RaisesExc matchers: no name to compare
                        raise TypeError(f"xfail(raises={t!r}) on a claim: give exception classes")
                raises = [f"{t.__module__}.{t.__qualname__}" for t in types if isinstance(t, type)]
            entry["xfail"] = {"reason": xf.reason, "strict": bool(xf.strict), "run": bool(xf.run), "raises": raises}
    except Exception as exc:  # a bad skipif/xfail condition: report it on the claim
        entry["error"] = f"evaluating the claim's skip/xfail marks failed: {exc}"
    return entry


def _qualname(item: pytest.Item) -> str:
    parts = [item.originalname if hasattr(item, "originalname") else item.name]
    parent = item.parent
    while parent is not None and isinstance(parent, pytest.Class):
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


def load_claim(session: pytest.Session, entry: dict, items: dict[str, Any]) -> Callable[..., Any]:
    """The claim function: from its collected item, or (xdist controller, which collected
    nothing) imported by pytest from its path through the one claim loader (`loader`)."""
    item = items.get(entry["nodeid"])
    if item is not None:
        return item.obj
    from sorg.pytest_plugin.loader import load_claim as _load

    return _load(session, entry["path"], entry["qualname"])


@dataclass
class Outcome:
    kind: str  # "verdict" | "skip" | "raised" (the claim raised) | "error" (the plugin could not run it)
    verdict: Any = None
    reason: str = ""
    longrepr: str = ""
    duration: float = 0.0
    exc_names: tuple[str, ...] = ()


def judge(session: pytest.Session, entries: list[dict], skip_all: str, trials: Callable[[], Any],
          items: dict[str, Any], instruments: Callable[[Any], Any] | None = None) -> dict[str, Outcome]:
    """Judge every declared claim (skip_all: the partial-sweep reason, or ""), Holm-adjust the
    judged ones together and return the outcome of each, by node id.

    `instruments(trials)` (the instrument gate's results by instrument, `sorg.instrument`)
    turns a claim over an instrument that did not pass into "not measured" *after* the Holm
    adjustment: the family stays the declared claims, so no other claim's figures move."""
    from sorg import claims as _claims

    outcomes: dict[str, Outcome] = {}
    judged: list[str] = []
    data = None
    for e in entries:
        nid = e["nodeid"]
        xf = e["xfail"]
        if e["error"]:
            outcomes[nid] = Outcome("error", longrepr=e["error"])
        elif e["skip"] is not None:
            outcomes[nid] = Outcome("skip", reason=e["skip"])
        elif xf and not xf["run"]:
            outcomes[nid] = Outcome("skip", reason="[NOTRUN] " + xf["reason"])
        elif skip_all:
            outcomes[nid] = Outcome("skip", reason=skip_all)
        else:
            if data is None:
                data = trials()
            outcomes[nid] = _call(session, e, data, items)
            if outcomes[nid].kind == "verdict":
                judged.append(nid)
    final = _claims.finalize([outcomes[n].verdict for n in judged])
    if judged:
        from sorg.scoring.outcome import gate_verdict, judge_losses

        records = data.records if data is not None else []
        final = [judge_losses(v, records) for v in final]
        gated = instruments(data) if instruments is not None else None
        if gated is not None:
            final = [gate_verdict(v, gated) for v in final]
    for nid, v in zip(judged, final):
        outcomes[nid].verdict = v
    return outcomes


def _call(session: pytest.Session, e: dict, data: Any, items: dict[str, Any]) -> Outcome:
    from sorg import claims as _claims

    nid = e["nodeid"]
    t0 = time.perf_counter()
    try:
        fn = load_claim(session, e, items)
    except Exception:
        return Outcome("error", longrepr=f"sorg could not load the claim {nid}:\n{_short_tb()}")
    try:
        v = fn(data, **e["params"])
    except pytest.skip.Exception as exc:
        return Outcome("skip", reason=str(exc.msg), duration=time.perf_counter() - t0)
    except (Exception, pytest.fail.Exception) as exc:
        names = tuple(f"{t.__module__}.{t.__qualname__}" for t in type(exc).__mro__)
        return Outcome("raised", longrepr=_short_tb(), duration=time.perf_counter() - t0, exc_names=names)
    dt = time.perf_counter() - t0
    if not isinstance(v, _claims.Verdict):
        return Outcome("raised", duration=dt, exc_names=("builtins.TypeError",),
                       longrepr=f"claim {nid} returned {type(v).__name__}, not a Verdict: a claim must "
                                f"`return claims.beats(...)` (or spread/equivalent/growth/ratio/count/skip)")
    return Outcome("verdict", verdict=v.named(nid), duration=dt)


def _short_tb() -> str:
    etype, value, tb = sys.exc_info()
    frames = traceback.extract_tb(tb)
    # Drop the plugin's own frames so the trace starts in the claim.
    shown = [f for f in frames if not os.path.abspath(f.filename).startswith(_HERE)] or frames
    return "".join(traceback.format_list(shown)) + "".join(traceback.format_exception_only(etype, value))


def _xfail_catches(xf: dict, out: Outcome) -> bool:
    if xf.get("raises") is None:
        return True
    names = out.exc_names if out.kind == "raised" else ("builtins.AssertionError",)
    return any(n in names for n in xf["raises"])


def report(config: pytest.Config, e: dict, out: Outcome) -> dict:
    """Send the claim through pytest's report hooks as setup/call/teardown of a test; return
    its row for claims.json and the terminal table."""
    nid = e["nodeid"]
    loc = (e["location"][0], e["location"][1], e["location"][2])
    xf = e["xfail"]
    extra: dict[str, Any] = {}
    v = out.verdict
    outcome: Literal["passed", "failed", "skipped"]
    longrepr: tuple[str, int, str] | str | None
    if out.kind == "skip":
        outcome, longrepr = "skipped", (str(e["path"]), (loc[1] or 0) + 1, f"Skipped: {out.reason}")
        if xf and out.reason.startswith("[NOTRUN]"):
            extra["wasxfail"], longrepr = out.reason, None
    elif out.kind in ("error", "raised"):
        outcome, longrepr = "failed", out.longrepr
    elif v.outcome == "error":
        outcome, longrepr = "failed", f"{v.statement or v.name}: {v.skip_reason or v.message}"
    elif v.passed is None:
        reason = f"{v.statement or v.name}: {v.skip_reason}" if v.skip_reason else v.message
        outcome, longrepr = "skipped", (str(e["path"]), (loc[1] or 0) + 1, f"Skipped: {reason}")
    elif v.passed:
        outcome, longrepr = "passed", None
    else:
        outcome, longrepr = "failed", v.message
    if xf and out.kind in ("verdict", "raised") and outcome != "skipped" and not (v is not None and v.outcome):
        if outcome == "failed":
            if _xfail_catches(xf, out):
                outcome, longrepr = "skipped", None
                extra["wasxfail"] = xf["reason"]
        elif xf["strict"]:
            outcome = "failed"
            longrepr = f"[XPASS(strict)] {xf['reason']}" + (f"\n{v.message}" if v is not None else "")
        else:
            extra["wasxfail"] = xf["reason"]
    word = ("xfailed" if outcome == "skipped" else "xpassed") if "wasxfail" in extra else outcome
    if v is not None and v.outcome and v.outcome != "error":
        # "not_measured", "undecidable": outcomes of their own, never a skip. An error stays
        # "failed" (the run fails on it); the verdict's own outcome names it in every renderer.
        word = v.outcome
    message = v.message if v is not None else (out.reason or out.longrepr)
    if v is not None and v.outcome and v.skip_reason:
        message = f"{v.statement or v.name}: {v.skip_reason}"
    if v is not None and not v.outcome:
        from sorg.scoring.outcome import losses_note

        note = losses_note(v)
        message += f" [{note}]" if note else ""
    row: dict[str, Any] = {"nodeid": nid, "outcome": word}
    if word in ("xfailed", "xpassed") or (xf and xf["strict"] and outcome == "failed" and v is not None):
        message = f"[xfail{'(strict)' if xf['strict'] else ''}: {xf['reason']}] {message}"
        row["xfail_reason"] = xf["reason"]  # as data, so nothing parses it back out of the message
    row["message"] = message
    if v is not None:
        row["verdict"] = v.to_dict()
        row["power_plan"] = power_plan(v)
    hook = config.hook
    now = time.time()
    kw: dict[str, Literal[1]] = {k: 1 for k in e["keywords"]}
    hook.pytest_runtest_logstart(nodeid=nid, location=loc)
    props = [("sorg_claim", message[:2000])]
    call_props = [(OUTCOME_PROP, v.outcome)] if v is not None and v.outcome else []
    phases: tuple[tuple[Literal["setup", "call", "teardown"], Literal["passed", "failed", "skipped"],
                        tuple[str, int, str] | str | None, float, dict[str, Any]], ...] = (
        ("setup", "passed", None, 0.0, {}),
        ("call", outcome, longrepr, out.duration, extra),
        ("teardown", "passed", None, 0.0, {}))
    for when, oc, lr, dur, ex in phases:
        rep = pytest.TestReport(nodeid=nid, location=loc, keywords=kw, outcome=oc, longrepr=lr, when=when,
                                sections=(), duration=dur, start=now, stop=now + dur,
                                user_properties=props if when == "teardown" else
                                call_props if when == "call" else [], **ex)
        hook.pytest_runtest_logreport(report=rep)
    hook.pytest_runtest_logfinish(nodeid=nid, location=loc)
    return row


#: Where the run's instrument-gate results (or the note that the gate was off) are kept for
#: the terminal summary.
GATE_KEY = pytest.StashKey[dict]()


def instrument_gate(config: pytest.Config, opts: Any, run_dir: Any) -> Callable[[Any], Any]:
    """The callback `judge` calls with the run's trials: every instrument through the gate
    (`sorg.instrument`), written to the run's instrument.json; None with `--sorg-gate=off`
    (claims then show their figures, and the terminal says loudly that nothing was validated)."""

    def run(trials: Any) -> Any:
        from pathlib import Path

        from sorg import instrument
        from sorg.tasks.bank import load_bank

        Path(run_dir).mkdir(parents=True, exist_ok=True)
        results: dict[str, Any] = {}
        try:
            tasks = {t.id: t for t in load_bank(opts.bank)}
            results.update(instrument.emergence_gate(trials.records, tasks))
            if opts.gate:
                results.update(instrument.scorer_gate(opts))
        finally:
            instrument.write_gate(run_dir, results, opts.gate)
            config.stash[GATE_KEY] = {"on": bool(opts.gate), "results": results}
        return results if opts.gate else None

    return run


def gate_lines(config: pytest.Config, rows: list[dict]) -> list[tuple[str, dict[str, bool]]]:
    """The terminal's lines about the gate: loudly when it was off, else each instrument that
    did not pass, and trials judge failures dropped."""
    out: list[tuple[str, dict[str, bool]]] = []
    got = config.stash.get(GATE_KEY, None)
    if got is not None and not got["on"]:
        out.append(("INSTRUMENT GATE OFF (--sorg-gate=off): claims over unvalidated instruments show figures that "
                    "may measure nothing; exploration only, not a finding", {"red": True, "bold": True}))
    elif got is not None:
        for _name, r in sorted(got["results"].items()):
            if not r.passed:
                out.append((f"instrument {r.sentence()}", {"yellow": True}))
    lost = [(row["nodeid"], (row.get("verdict") or {}).get("details", {}).get("judge_failures"))
             for row in rows]
    lost = [(nid, info) for nid, info in lost if info and any(a["lost"] for a in info["arms"].values())]
    if lost:
        flagged = [nid.rsplit("::", 1)[-1] for nid, info in lost if info.get("flagged")]
        total: dict[str, int] = {}
        for _, info in lost:  # the largest count any claim saw per arm (claims share trials)
            for lab, a in info["arms"].items():
                total[lab] = max(total.get(lab, 0), a["lost"])
        out.append((f"judge failures dropped trials from {len(lost)} claim(s) "
                    f"({', '.join(f'{k}: {n}' for k, n in sorted(total.items()))})"
                    + (f"; arms lose them at different rates (Fisher p < 0.05) in: {', '.join(flagged)}"
                       if flagged else ""), {"yellow": True}))
    # Each claim with a non-empty outcome is said by `sorg.report.unjudged_lines`, by its word,
    # with the other claims that were not judged (one renderer, wrapped at the terminal's width).
    return out


#: The call report's user property that carries a claim's non-empty `Verdict.outcome`.
OUTCOME_PROP = "sorg_outcome"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """The terminal's word for a claim with a non-empty outcome: "NOT MEASURED" (letter N),
    "UNDECIDABLE" (U), counted under that name in the final line; an error stays FAILED."""
    if report.when != "call":
        return None
    got = dict(report.user_properties).get(OUTCOME_PROP)
    if not got or got == "error":
        return None
    from sorg.report.fmt import outcome_word

    word = outcome_word({"outcome": str(got)})
    return word.lower(), word[0], word


def power_plan(v: Any, target: float = 0.8) -> dict[str, Any]:
    """What the claim needs for `target` power at its Holm-adjusted alpha (`claims.plan`), so
    the report can say, claim by claim, where the sweep is still too small."""
    from sorg import claims as _claims

    if v.passed is None and v.skip_reason:
        return {"target": target, "n_now": 0, "n_needed": None, "unit": "", "short": None,
                "note": "not judged"}
    pl = _claims.plan(v, power=target)
    short = None if pl.n_needed is None else pl.n_now < pl.n_needed
    return {"target": target, "n_now": pl.n_now, "n_needed": pl.n_needed, "unit": pl.unit, "short": short,
            "basis": pl.basis, "note": pl.note}


def order(entries: list[dict]) -> list[dict]:
    """Claims in file and line order (the order pytest would have run them)."""
    return sorted(entries, key=lambda e: (e["location"][0], e["location"][1] or 0, e["nodeid"]))
