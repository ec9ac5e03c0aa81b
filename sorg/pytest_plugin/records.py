"""A trial record on its way from a test to the store: the payload a report carries.

Why its own module: the encoding runs once per trial in the process that ran it (an xdist
worker), so it is kept small and fast, and apart from the hooks that route it.
"""

from __future__ import annotations

from typing import Any


def trial_payload(record: Any) -> dict[str, str]:
    """What a trial's report carries to the controller: its id and its store line, encoded
    here (in the worker) so that execnet moves one string instead of a nested record; its
    status rides along so the store can tell a resumable record from a finished one unparsed."""
    from sorg.store import encode

    return {"trial_id": record.trial_id, "status": str(record.status), "line": encode(record_dict(record))}


def record_dict(record: Any) -> dict[str, Any]:
    """`record.to_dict()` without `dataclasses.asdict`'s generic deep copy, for a TrialRecord of the known shape.

    `dataclasses.asdict` deep-copies every value through generic recursion; at 25,000 trials
    of hundreds of replies that was the plugin's largest per-trial cost. Records are frozen
    and their leaves are str/int/float/bool, so a shallow copy per nested record is exact.
    Anything of another shape (a subclass, an unexpected nested type) takes `to_dict()`.
    """
    from sorg.record import AgentReply, TrialRecord, UsageRow

    if type(record) is not TrialRecord:
        return record.to_dict()
    d = dict(record.__dict__)
    try:
        d["per_agent"] = [_flat(u, UsageRow) for u in record.per_agent]
        d["per_round"] = [_flat(u, UsageRow) for u in record.per_round]
        d["replies"] = [_flat(r, AgentReply) for r in record.replies]
    except TypeError:
        return record.to_dict()
    d["roles"] = list(record.roles)
    d["agent_roles"] = list(record.agent_roles)
    d["quality"] = dict(record.quality)
    d["sources"] = dict(record.sources)
    # Scorers' details are plain JSON built by the scorers (numbers, strings, and the judge's
    # usage dict and reply list); anything else takes the generic path.
    if not all(_plain(v) for v in record.scores.values()) or not _plain(record.judge):
        return record.to_dict()
    d["scores"] = {k: dict(v) for k, v in record.scores.items()}
    d["judge"] = dict(record.judge)
    return d


_LEAF = (str, int, float, bool, type(None))


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON data made of dicts with string keys, lists and leaves (no tuples, no objects)."""
    if isinstance(value, _LEAF):
        return True
    if depth > 3:
        return False
    if type(value) is dict:
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    if type(value) is list:
        return all(_plain(v, depth + 1) for v in value)
    return False


def _flat(obj: Any, cls: type) -> dict[str, Any]:
    if type(obj) is not cls:
        raise TypeError(type(obj).__name__)
    d = dict(obj.__dict__)
    for k, v in d.items():
        if isinstance(v, tuple):
            d[k] = list(v)
        elif not isinstance(v, (str, int, float, bool, type(None))):
            raise TypeError(k)
    return d
