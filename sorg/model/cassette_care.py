"""Cassette care: what the cassettes hold (`sorg cassettes stats`) and which entries no trial
of a run used (`sorg cassettes prune`).

Why: cassettes only grew (`record="all"` appends, a changed prompt leaves its old replies
behind) and nothing said which entries still matter. A run knows exactly which keys it
replayed or recorded (`ModelClient` logs them; the plugin gathers them into the run
directory as `cassettes_used.txt`), so pruning against a run that replayed every test you
keep is exact. Pruning only lists by default; `--apply` rewrites the files (atomically,
under the writers' lock; a file left empty is removed).
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sorg.model.cassette import read_entries, rewrite_file

USED_FILE = "cassettes_used.txt"


@dataclass
class FileStats:
    """One cassette file: its lines, distinct keys, and calls per model."""

    path: str
    lines: int = 0
    keys: int = 0
    bytes: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    by_model: dict[str, int] = field(default_factory=dict)


def stats(root: Path) -> list[FileStats]:
    """Per cassette file under `root` (sorted): lines, distinct keys, calls per model."""
    out = []
    for p in sorted(root.rglob("*.jsonl")):
        fs = FileStats(p.relative_to(root).as_posix(), bytes=p.stat().st_size)
        keys: set[str] = set()
        by_model: dict[str, int] = defaultdict(int)
        costs = []
        for _, e in read_entries(p):
            fs.lines += 1
            keys.add(e["key"])
            by_model[e["model"]] += 1
            costs.append(float(e.get("cost_usd", 0.0)))
            fs.tokens += int(e["reply"]["prompt_tokens"]) + int(e["reply"]["completion_tokens"])
        fs.keys, fs.by_model, fs.cost_usd = len(keys), dict(sorted(by_model.items())), math.fsum(costs)
        out.append(fs)
    return out


def render_stats(rows: list[FileStats]) -> str:
    """A table of `stats`, with a total line."""
    from tabulate import tabulate

    body = [[r.path, ", ".join(f"{m}: {n}" for m, n in r.by_model.items()), r.lines, r.keys, r.lines - r.keys,
             r.tokens, f"{r.cost_usd:.6f}", f"{r.bytes / 1024:.0f}"] for r in rows]
    body.append(["total", "", sum(r.lines for r in rows), sum(r.keys for r in rows),
                 sum(r.lines - r.keys for r in rows), sum(r.tokens for r in rows),
                 f"{math.fsum(r.cost_usd for r in rows):.6f}", f"{sum(r.bytes for r in rows) / 1024:.0f}"])
    return tabulate(body, headers=["file", "calls per model", "entries", "keys", "superseded", "tokens",
                                   "USD recorded", "KiB"], disable_numparse=True)


def read_used(run_dir: Path) -> set[tuple[str, str]]:
    """(model, key) of every call the run replayed or recorded."""
    p = run_dir / USED_FILE
    if not p.exists():
        raise FileNotFoundError(f"{p} is missing: prune needs a run made by a sorg that logs the cassette "
                                f"entries it uses (rerun the replay: pytest evals/)")
    used = set()
    for line in p.read_text(encoding="utf-8").splitlines():
        model, _, key = line.partition("\t")
        if key:
            used.add((model, key))
    return used


@dataclass
class PrunePlan:
    """Entries of each file that the run did not use."""

    used: set[tuple[str, str]]
    unused: dict[str, list[dict[str, Any]]]  # file path -> entries (the last per key)
    kept: dict[str, int]

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.unused.values())


def unused(root: Path, run_dir: Path) -> PrunePlan:
    """What `prune` would remove: per file, the entries whose (model, key) the run never used
    (and, counted as unused too, lines superseded by a later line of the same key)."""
    used = read_used(run_dir)
    plan = PrunePlan(used, {}, {})
    for p in sorted(root.rglob("*.jsonl")):
        last: dict[str, dict[str, Any]] = {}
        for _, e in read_entries(p):
            last[e["key"]] = e
        gone = [e for e in last.values() if (e["model"], e["key"]) not in used]
        plan.kept[str(p)] = len(last) - len(gone)
        if gone:
            plan.unused[str(p)] = gone
    return plan


def render_prune(plan: PrunePlan, applied: bool) -> str:
    """What prune found (and did, with `applied`)."""
    lines = [f"{'removed' if applied else 'unused (not removed; add --apply)'}: {plan.total} entries "
             f"in {len(plan.unused)} files; the run used {len(plan.used)} calls"]
    for path, gone in sorted(plan.unused.items()):
        lines.append(f"  {path}: {len(gone)} unused, {plan.kept[path]} kept")
        for e in gone[:5]:
            lines.append(f"    {e.get('label', '')!s:.60} sample={e.get('sample', '')!s:.40} key={e['key'][:12]}")
        if len(gone) > 5:
            lines.append(f"    ... and {len(gone) - 5} more")
    return "\n".join(lines)


def prune(plan: PrunePlan) -> int:
    """Remove the plan's unused entries (and superseded lines); returns entries removed."""
    removed = 0
    for path in sorted(plan.unused):
        before, after = rewrite_file(Path(path), keep=plan.used)
        removed += before - after
    return removed


def collect_use(folder: str | os.PathLike[str], run_dir: Path) -> Path | None:
    """Merge the clients' key logs (`<folder>/*.keys`) into `run_dir/cassettes_used.txt`
    (sorted, deduplicated, joined with what a resumed run logged before); remove the logs."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    lines: set[str] = set()
    logs = sorted(folder.glob("*.keys"))
    for p in logs:
        lines.update(ln for ln in p.read_text(encoding="utf-8").splitlines() if "\t" in ln)
    if not lines or not run_dir.is_dir():
        for p in logs:
            p.unlink()
        return None
    out = run_dir / USED_FILE
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if out.exists():
            lines.update(ln for ln in out.read_text(encoding="utf-8").splitlines() if "\t" in ln)
        tmp.write_text("".join(f"{ln}\n" for ln in sorted(lines)), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:  # a full disk at the end of a run: a warning, not a traceback after every trial
        import warnings

        tmp.unlink(missing_ok=True)
        warnings.warn(f"sorg: {out} could not be written ({exc}); the run's key logs stay in {folder}, "
                      "so `sorg cassettes prune` cannot use this run until it is rerun", RuntimeWarning, stacklevel=2)
        return None
    for p in logs:  # only once their keys are written: a failed write loses none of them
        p.unlink()
    return out
