"""Faults of the whole run, reported once: a corrupt cassette file, a model with no
recording at all, a provider that refuses connections, an embedded model that is missing.

Why: such a fault fails every trial the same way, and reporting it per trial buried the one
message under hundreds of identical copies and their tracebacks.
The first trial that meets it fails with the full message and stops the run after itself
(`session.shouldstop`, which an xdist worker honours too); a trial that meets a fault already
reported in its process is skipped with one line. Trials not run count as blocked: the
controller prints the fault once with that count, and the claims see a partial sweep.
"""

from __future__ import annotations

from typing import Any

import pytest

FAULT_PROP = "sorg_run_fault"
_REPORTED: dict[str, str] = {}  # this process: fault -> node id of the trial that reported it


def classify(exc: BaseException) -> str:
    """A one-line name of the run-wide fault `exc` is, or "" when it belongs to one trial."""
    from sorg.errors import CassetteCorrupt, CassetteMiss, LocalModelUnavailable

    if isinstance(exc, CassetteCorrupt):
        return f"corrupt cassette: {str(exc).splitlines()[0]}"
    if isinstance(exc, CassetteMiss) and getattr(exc, "run_wide", False) and getattr(exc, "cause", ""):
        return f"changed request: {exc.cause}"
    if isinstance(exc, CassetteMiss) and getattr(exc, "run_wide", False):
        import re

        m = re.search(r"No recording of .*? at all\.", str(exc))  # the same for every trial of the model
        return f"model never recorded: {m.group(0) if m else str(exc).splitlines()[0]}"
    if isinstance(exc, LocalModelUnavailable):
        return f"the embedded model is unavailable: {str(exc).splitlines()[0]}"
    return ""


def classify_record(record: Any) -> str:
    """A record whose error is a refused connection (the provider is down for every trial) or a
    full disk (every write fails alike)."""
    err = str(getattr(record, "error", "") or "")
    if getattr(record, "status", "") == "error" and "the paid reply could not be saved" in err:
        return (f"a write failed for model {record.model!r} (a full disk?): each paid reply is kept where the "
                f"first failure says; free space and rerun with the same --sorg-run-id")
    if getattr(record, "status", "") == "error" and "connection refused" in err:
        import re

        m = re.search(r"connection refused (\([^)]*\))", err)
        where = f" {m.group(1)}" if m else ""
        return f"provider unreachable: connection refused{where} for model {record.model!r}"
    return ""


def meet(request: pytest.FixtureRequest, fault: str) -> bool:
    """Note `fault` on this test: True when this process reports it first (the caller then
    lets the trial fail with the full message), False when it was reported already (the
    caller skips the trial as blocked). Either way the run stops after this test."""
    request.session.shouldstop = f"sorg: a fault of the whole run: {fault}"
    first = fault not in _REPORTED
    if first:
        _REPORTED[fault] = request.node.nodeid
        request.node.user_properties.append((FAULT_PROP, fault))
    return first


def blocked(fault: str) -> None:
    """Skip a trial blocked by a fault reported before in this process."""
    pytest.skip(f"blocked by a fault of the whole run (reported at {_REPORTED.get(fault, '?')}): {fault}")


def summary(tr: Any, faults: dict[str, str], blocked_n: int, total: int) -> None:
    """The terminal section: each run-wide fault once, and how many sweep tests it blocked."""
    if not faults:
        return
    tr.write_sep("=", "sorg: faults of the whole run (each reported once)")
    for fault, nodeid in faults.items():
        tr.write_line(f"{fault}", red=True)
        tr.write_line(f"  first met by {nodeid}")
    tr.write_line(f"{blocked_n} of {total} sweep tests blocked (failed, skipped or not run); fix the fault and rerun "
                  f"with the same --sorg-run-id to complete the run", red=True)
