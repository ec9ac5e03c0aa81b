"""What a report states about its run (settings, versions, cassette hashes) and the
canonical JSON every report file is written with.

Why canonical: two replays of the same cassettes must give byte-identical `summary.json`
and `claims.json` (a CI check diffs them), so keys are sorted, non-finite floats become
null and files are replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sorg.store import CLAIMS_FILE


def cassette_hashes(cassette_dir: str | os.PathLike[str] | None) -> dict[str, str]:
    """sha256 (first 16 hex) of every cassette file, keyed by its path under the dir: the
    report names exactly which recordings produced it."""
    out: dict[str, str] = {}
    if not cassette_dir or not Path(cassette_dir).is_dir():
        return out
    root = Path(cassette_dir)
    for p in sorted(root.rglob("*.jsonl")):
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[p.relative_to(root).as_posix()] = h.hexdigest()[:16]
    return out


def run_meta(opts: Any, config: Any = None) -> dict[str, Any]:
    """What the header of a report states about the run (settings, versions, cassettes)."""
    import sorg

    meta: dict[str, Any] = {
        "sorg_version": sorg.__version__,
        "record": opts.record,
        "models": list(opts.models),
        "protocols": list(opts.protocols),
        "agents": list(opts.agents),
        "levels": list(opts.levels),
        "domains": opts.domains,
        "tasks_per_level": opts.tasks_per_level,
        "seeds": opts.seeds,
        "judge_model": opts.judge_model,
        "budget_usd": opts.budget_usd,
        "cassettes": cassette_hashes(opts.cassette_dir),
    }
    if config is not None:
        meta["pytest_args"] = [str(a) for a in getattr(config, "args", [])]
    return meta


def finite(obj: Any) -> Any:
    """JSON has no NaN: non-finite floats (an empty bootstrap, a degenerate CI) become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """The canonical text of a report JSON file (sorted keys, no NaN, trailing newline)."""
    return json.dumps(finite(obj), indent=1, sort_keys=True, allow_nan=False, default=str) + "\n"


def write_text(path: Path, text: str) -> Path:
    """Replace `path` atomically with `text` (a reader never sees half a report)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_claims(run_dir: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> Path:
    """Write `claims.json`: the verdict rows as reported and the run's metadata."""
    return write_text(Path(run_dir) / CLAIMS_FILE, dumps({"run": dict(meta), "claims": list(rows)}))
