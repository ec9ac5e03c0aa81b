"""`sorg merge OUT RUN...`: combine run directories (shards, resumed attempts) into one run.

Why a merge and not a shared store: shards of a sweep run on different machines (a CI
matrix), each writing its own run directory and its own cassette file, so they never
contend; one final job merges them and judges the claims over the merged run
(`pytest evals/ --sorg-run-id=OUT --sorg-claims-only`). A merge must not mix runs that could
not have come from one sweep: runs whose prompt version, model versions or cassette hashes
disagree are refused, naming the runs and the values. Records are combined by trial id,
preferring an ok record over one that is not (budget, error), as a resumed run does.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sorg.manifest import NODES_FILE, read_nodes, read_sweep, write_sweep
from sorg.store import CLAIMS_FILE, TRIALS_FILE, encode, iter_records, resolve_run_dir

#: Written first and removed last by `merge_runs`: a run directory holding it is half-merged
#: (the merge was killed), and `--sorg-claims-only` refuses to judge it.
MERGING_FILE = ".merging"


class MergeRefused(ValueError):
    """The runs disagree on something that must be the same across one sweep."""


@dataclass
class MergeResult:
    out: Path
    records: int = 0
    replaced: int = 0  # records not ok in one run, ok in another
    nodes: int = 0
    declared: int = 0
    runs: list[str] = field(default_factory=list)


def _run_dir(report_dir: Path, run: str) -> Path:
    p = Path(run)
    if not p.is_absolute() and not p.exists():
        p = report_dir / run
    p = resolve_run_dir(p)
    if not (p / TRIALS_FILE).exists():
        raise MergeRefused(f"{run}: no {TRIALS_FILE} in {p}")
    return p


def _fingerprint(run_dir: Path) -> dict[str, Any]:
    """What must agree across merged runs: prompt versions, model versions per model, and
    the cassette hashes the run replayed or recorded with."""
    prompts: set[str] = set()
    models: dict[str, set[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in iter_records(run_dir / TRIALS_FILE):
            if obj.get("prompt_version"):
                prompts.add(str(obj["prompt_version"]))
            if obj.get("model_version"):
                models.setdefault(str(obj.get("model")), set()).add(str(obj["model_version"]))
    cassettes = None
    claims = run_dir / CLAIMS_FILE
    if claims.exists():
        cassettes = (json.loads(claims.read_text(encoding="utf-8")).get("run") or {}).get("cassettes")
    return {"prompt version": sorted(prompts), "model versions": {m: sorted(v) for m, v in models.items()},
            "cassette hashes": cassettes}


def _check_agree(dirs: list[Path]) -> None:
    prints = {d.name: _fingerprint(d) for d in dirs}
    problems = []
    first = dirs[0].name
    seen = {n: f["prompt version"] for n, f in prints.items() if f["prompt version"]}
    if len({json.dumps(v, sort_keys=True) for v in seen.values()}) > 1:
        problems.append("prompt version differ: " + "; ".join(f"{n}: {_short(v)}" for n, v in seen.items()))
    # Cassettes are compared file by file: recording shards each write their own file
    # (`shard-i-of-N.jsonl`), so their lists differ by those files and agree on the rest.
    by_file: dict[str, dict[str, str]] = {}
    for n, f in prints.items():
        for name, digest in (f["cassette hashes"] or {}).items():
            by_file.setdefault(name, {})[n] = digest
    for name, digests in sorted(by_file.items()):
        if len(set(digests.values())) > 1:
            problems.append(f"cassette {name} differs: " + "; ".join(f"{n}: {d}" for n, d in digests.items()))
    models = sorted({m for f in prints.values() for m in f["model versions"]})
    for m in models:
        seen = {n: f["model versions"][m] for n, f in prints.items() if m in f["model versions"]}
        if len({tuple(v) for v in seen.values()}) > 1:
            problems.append(f"model versions of {m} differ: " + "; ".join(f"{n}: {v}" for n, v in seen.items()))
    sweeps = {d.name: read_sweep(d) for d in dirs}
    declared = {n: tuple(s.get("declared", ())) for n, s in sweeps.items() if s}
    if len(set(declared.values())) > 1:
        sizes = "; ".join(f"{n}: {len(v)} tests" for n, v in declared.items())
        problems.append(f"the runs declare different sweeps ({sizes}); merge shards of one sweep")
    if problems:
        raise MergeRefused(f"refusing to merge {', '.join(prints)} (first: {first}):\n  " + "\n  ".join(problems))


def _short(v: Any) -> str:
    text = json.dumps(v, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def merge_runs(report_dir: str | os.PathLike[str], out: str, runs: Iterable[str]) -> MergeResult:
    """Merge `runs` (names under `report_dir`, or paths) into `report_dir/out`.

    Raises MergeRefused when the runs disagree (see module doc) or `out` already holds trials.
    """
    rd = Path(report_dir)
    dirs = [_run_dir(rd, r) for r in runs]
    if not dirs:
        raise MergeRefused("nothing to merge: name at least one run")
    out_dir = rd / out
    marker = out_dir / MERGING_FILE
    if (out_dir / TRIALS_FILE).exists() and not marker.exists():  # a half-merged run may be merged again
        raise MergeRefused(f"{out_dir} already holds trials; merge into a new run id")
    _check_agree(dirs)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("sorg merge in progress: " + " ".join(d.name for d in dirs) + "\n", encoding="utf-8")
    chosen: dict[str, dict[str, Any]] = {}
    replaced = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in dirs:
            for obj in iter_records(d / TRIALS_FILE):
                prev = chosen.get(obj["trial_id"])
                if prev is None or (prev.get("status") != "ok" and obj.get("status") == "ok"):
                    replaced += prev is not None
                    chosen[obj["trial_id"]] = obj
    tmp = out_dir / f".{TRIALS_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for tid in sorted(chosen):  # deterministic whatever the order of the runs
            fh.write(encode(chosen[tid]) + "\n")
    os.replace(tmp, out_dir / TRIALS_FILE)
    nodes: dict[str, list[str]] = {}
    for d in dirs:
        nodes.update(read_nodes(d))
    with open(out_dir / NODES_FILE, "w", encoding="utf-8") as fh:
        for nid in sorted(nodes):
            fh.write(json.dumps({"nodeid": nid, "trial_ids": nodes[nid]}, ensure_ascii=False) + "\n")
    sweep = next((s for s in (read_sweep(d) for d in dirs) if s), None)
    if sweep:
        write_sweep(out_dir, sweep.get("declared", ()), sweep.get("claims", ()), merged_from=[d.name for d in dirs])
    marker.unlink()
    return MergeResult(out_dir, len(chosen), replaced, len(nodes), len((sweep or {}).get("declared", ())),
                       [d.name for d in dirs])
