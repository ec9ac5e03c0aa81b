"""What the page shows of one trial record: its row in the trial index and its detail
(answer, every turn, the judge, the scorers), as plain JSON-ready dicts.

Why a view and not the record: the page must stay one file that opens fast on a
10,000-trial run, so the index holds only the columns the lists, filters and comparisons
read, and the detail (the text, most of the bytes) is packed apart and opened per trial
(`sorg.report.pack`). Records are read as plain dicts, so fields added to records later
show up without a change here and absent ones are simply not shown.

The judge panel shows exactly the judge's five 1-4 dimensions and its rationale: a judge
record also carries bookkeeping (answer_chars, usage with prompt_tokens and cost_usd,
attempts, q), which is not a score and must never be drawn as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sorg.instrument import DIMENSIONS

#: Longest text kept per answer and per turn (a runaway reply must not bloat the page).
TEXT_CAP = 4000
TURN_CAP = 1500
REPLY_FIELDS = ("agent", "round", "position", "kind", "role", "role_raw", "abstain", "contribution", "builds_on",
                "defers_to", "parse_failed", "prompt_tokens", "completion_tokens", "cost_usd", "source")
#: The index's columns (one list per column: a 10,000-trial index stays small).
INDEX_FIELDS = ("trial_id", "task_id", "level", "domain", "protocol", "model", "n_agents", "seed", "stream",
                "position", "status", "calls", "tokens", "cost_usd", "answer_chars")


def cap(text: Any, n: int = TEXT_CAP) -> str:
    """`text` as a string of at most `n` characters (an ellipsis marks a cut)."""
    s = "" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def stream_of(rec: Mapping[str, Any]) -> str:
    """The record's stream id, '-' for a trial on its own."""
    s = rec.get("stream_id")
    return "-" if s in (None, "") else str(s)


def judge_view(judge: Any) -> dict[str, Any]:
    """The judge panel: the five dimensions that hold an integer score 1-4 (in the judge's
    order), the rationale, and who judged; {} where there is no judge.

    Reads both the record's flat shape (`judge["accuracy"]`) and a nested `judge["scores"]`;
    everything else in the judge dict (usage, answer_chars, attempts, q) is left out."""
    if not isinstance(judge, Mapping) or not judge:
        return {}
    got = judge.get("scores")
    nested: Mapping[str, Any] = got if isinstance(got, Mapping) else {}
    dims = []
    for d in DIMENSIONS:
        v = judge.get(d, nested.get(d))
        if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and 1 <= v <= 4:
            dims.append([d, int(v)])
    out: dict[str, Any] = {"dimensions": dims, "rationale": cap(judge.get("rationale") or "", 600)}
    model = judge.get("judge_model") or judge.get("model")
    if model:
        out["model"] = str(model)
    if judge.get("self_judged"):
        out["self_judged"] = True
    if judge.get("failed"):
        out["failed"] = True
    return out if dims or out["rationale"] or judge.get("failed") else {}


def index_row(rec: Mapping[str, Any]) -> dict[str, Any]:
    """One trial's row of the index: identity, status, cost, tokens, its quality scores."""
    row: dict[str, Any] = {k: rec.get(k) for k in INDEX_FIELDS if k in rec}
    row["stream"] = stream_of(rec)
    row["tokens"] = int(rec.get("prompt_tokens") or 0) + int(rec.get("completion_tokens") or 0)
    row["quality"] = {k: v for k, v in dict(rec.get("quality") or {}).items() if isinstance(v, (int, float))}
    return row


def detail(rec: Mapping[str, Any], prompts: list[Any] | None = None) -> dict[str, Any]:
    """One trial's detail: answer, turns in speaking order (each with its prompt when
    `prompts` has them, in the record's reply order), the judge panel and the scorers'
    details."""
    replies = []
    for i, r in enumerate(rec.get("replies") or ()):
        row = {k: r[k] for k in REPLY_FIELDS if k in r}
        row["contribution"] = cap(row.get("contribution"), TURN_CAP)
        if prompts is not None and i < len(prompts) and prompts[i] is not None:
            row["prompt"] = prompts[i]
        row["_i"] = i
        replies.append(row)
    # Speaking order: by round, then the recorded position, then the order of the record.
    replies.sort(key=lambda r: (r.get("round", 0), r.get("position", r["_i"]), r["_i"]))
    for r in replies:
        r.pop("_i")
    scores = rec.get("scores")
    out: dict[str, Any] = {"answer": cap(rec.get("answer")), "replies": replies,
                           "judge": judge_view(rec.get("judge")),
                           "scores": dict(scores) if isinstance(scores, Mapping) else {}}
    if rec.get("error"):
        out["error"] = cap(rec.get("error"), 2000)
    return out
