"""`sorg diff RUN_A RUN_B`: what changed between two runs, for a pull-request comment and a
CI gate.

Why these items: a reviewer of a change to a prompt, a protocol or a scorer wants to know
whether a conclusion changed (a verdict flipped), whether a number moved more than its own
uncertainty (an estimate outside the other run's 95% CI), whether the design changed (cells
added or missing), and why (prompt version, model version, cassette files). Only a flipped
verdict fails the gate (exit 1), and so does a claim or a cell that B lacks (a run that judged
less, e.g. an `--lf` rerun, is not a run that agrees; `allow_missing` / `--allow-missing`
relaxes it for a deliberate slice): the rest is information. Everything is read from the two run
directories (`claims.json`, `summary.json`, or `trials.jsonl` when the summary is missing).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sorg.report.fmt import ci_usable, est_ci, fmt, outcome_word, verdict_clusters
from sorg.store import resolve_run_dir

#: Estimates closer than this are the same number (a replay reproduces them exactly).
TOLERANCE = 1e-9


@dataclass
class RunDiff:
    """The differences between run `a` and run `b` (each list empty when nothing changed)."""

    a: str
    b: str
    flipped: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)
    claims_added: list[str] = field(default_factory=list)
    claims_missing: list[str] = field(default_factory=list)
    cells_added: list[dict[str, Any]] = field(default_factory=list)
    cells_missing: list[dict[str, Any]] = field(default_factory=list)
    cells_resized: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    cassettes: dict[str, list[Any]] = field(default_factory=dict)
    allow_missing: bool = False  # claims or cells missing from B do not fail the gate

    @property
    def changed(self) -> bool:
        return any((self.flipped, self.moved, self.claims_added, self.claims_missing, self.cells_added,
                    self.cells_missing, self.cells_resized, self.versions, any(self.cassettes.values())))

    @property
    def exit_code(self) -> int:
        """1 when a verdict flipped or B lacks a claim or cell of A (unless `allow_missing`), else 0."""
        return 1 if self.flipped or (self.missing and not self.allow_missing) else 0

    @property
    def missing(self) -> bool:
        return bool(self.claims_missing or self.cells_missing)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "changed": self.changed, "exit_code": self.exit_code},
                          indent=1, sort_keys=True, default=str) + "\n"


def _load(run: str | os.PathLike[str]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    from sorg.report.data import load_claims, summary

    d = resolve_run_dir(run)
    if not d.is_dir():
        raise FileNotFoundError(f"{run}: not a run directory")
    meta, claims = load_claims(d)
    sj = d / "summary.json"
    s = json.loads(sj.read_text(encoding="utf-8")) if sj.exists() else summary(d)
    s["run"] = meta or s.get("run") or {}
    return str(d), s, claims


def _moved(name: str, va: Mapping[str, Any], vb: Mapping[str, Any]) -> dict[str, Any] | None:
    ea, eb = va.get("estimate"), vb.get("estimate")
    if not isinstance(ea, (int, float)) or not isinstance(eb, (int, float)):
        return None
    if math.isclose(ea, eb, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
        return None
    ka, kb = verdict_clusters(va), verdict_clusters(vb)
    outside = []
    if ci_usable(va.get("ci"), ka) and not (va["ci"][0] <= eb <= va["ci"][1]):
        outside.append("a")
    if ci_usable(vb.get("ci"), kb) and not (vb["ci"][0] <= ea <= vb["ci"][1]):
        outside.append("b")
    judgeable = ci_usable(va.get("ci"), ka) or ci_usable(vb.get("ci"), kb)
    if judgeable and not outside:
        return None  # moved within its uncertainty
    return {"claim": name, "a": est_ci(ea, va.get("ci"), ka), "b": est_ci(eb, vb.get("ci"), kb),
            "change": eb - ea, "beyond": "CI of " + " and ".join(outside) if outside else "no CI to judge by"}


def _cell_key(c: Mapping[str, Any]) -> tuple[str, str, int]:
    return (c["model"], c["protocol"], int(c["n_agents"]))


def diff_runs(run_a: str | os.PathLike[str], run_b: str | os.PathLike[str], *,
              allow_missing: bool = False) -> RunDiff:
    """Compare two run directories (see the module doc for what counts)."""
    _, sa, ca = _load(run_a)
    _, sb, cb = _load(run_b)
    out = RunDiff(a=str(run_a), b=str(run_b), allow_missing=allow_missing)
    by_a = {r["nodeid"]: r for r in ca}
    by_b = {r["nodeid"]: r for r in cb}
    out.claims_added = sorted(set(by_b) - set(by_a))
    out.claims_missing = sorted(set(by_a) - set(by_b))
    for name in sorted(set(by_a) & set(by_b)):
        ra, rb = by_a[name], by_b[name]
        if outcome_word(ra) != outcome_word(rb):
            out.flipped.append({"claim": name, "a": outcome_word(ra), "b": outcome_word(rb),
                                "message_b": rb.get("message", "")})
        m = _moved(name, ra.get("verdict") or {}, rb.get("verdict") or {})
        if m:
            out.moved.append(m)
    cells_a = {_cell_key(c): c for c in sa.get("cells", [])}
    cells_b = {_cell_key(c): c for c in sb.get("cells", [])}
    out.cells_added = [{"model": k[0], "protocol": k[1], "n_agents": k[2], "trials": cells_b[k]["trials"]}
                       for k in sorted(set(cells_b) - set(cells_a))]
    out.cells_missing = [{"model": k[0], "protocol": k[1], "n_agents": k[2], "trials": cells_a[k]["trials"]}
                         for k in sorted(set(cells_a) - set(cells_b))]
    out.cells_resized = [{"model": k[0], "protocol": k[1], "n_agents": k[2], "a": cells_a[k]["trials"],
                          "b": cells_b[k]["trials"]}
                         for k in sorted(set(cells_a) & set(cells_b)) if cells_a[k]["trials"] != cells_b[k]["trials"]]
    for key in ("prompt_versions", "model_versions"):
        va, vb = sorted(sa.get(key) or []), sorted(sb.get(key) or [])
        if va != vb:
            out.versions[key] = {"a": va, "b": vb}
    has_a = dict((sa.get("run") or {}).get("cassettes") or {})
    has_b = dict((sb.get("run") or {}).get("cassettes") or {})
    out.cassettes = {"added": sorted(set(has_b) - set(has_a)), "removed": sorted(set(has_a) - set(has_b)),
                     "changed": [{"file": f, "a": has_a[f], "b": has_b[f]} for f in sorted(set(has_a) & set(has_b))
                                 if has_a[f] != has_b[f]]}
    return out


def render_md(d: RunDiff) -> str:
    """The diff as markdown for a pull-request comment."""
    name_a, name_b = Path(d.a).name, Path(d.b).name
    if name_a == name_b:
        name_a, name_b = d.a, d.b
    lines = [f"## sorg diff: `{name_a}` → `{name_b}`", ""]
    if not d.changed:
        return "\n".join(lines + ["No change: same verdicts, estimates, cells, versions and cassettes.", ""])
    short = lambda n: n.rsplit("::", 1)[-1]  # noqa: E731
    if d.flipped:
        lines += [f"### Verdicts flipped ({len(d.flipped)})", "", "| claim | before | after |", "|---|---|---|"]
        lines += [f"| `{short(f['claim'])}` | {f['a']} | **{f['b']}** |"
                  for f in d.flipped]
        lines.append("")
    if d.moved:
        lines += [f"### Estimates moved beyond their CI ({len(d.moved)})", "",
                  "| claim | before | after | change | beyond |", "|---|---|---|---|---|"]
        lines += [f"| `{short(m['claim'])}` | {m['a']} | {m['b']} | {fmt(m['change'])} | {m['beyond']} |"
                  for m in d.moved]
        lines.append("")
    for title, names in (("Claims added", d.claims_added), ("Claims missing", d.claims_missing)):
        if names:
            lines += [f"### {title} ({len(names)})", ""] + [f"- `{n}`" for n in names] + [""]
    for title, cells in (("Cells added", d.cells_added), ("Cells missing", d.cells_missing)):
        if cells:
            lines += [f"### {title} ({len(cells)})", ""]
            lines += [f"- {c['model']} / {c['protocol']} / {c['n_agents']} agents ({c['trials']} trials)"
                      for c in cells]
            lines.append("")
    if d.cells_resized:
        lines += [f"### Cells with a different number of trials ({len(d.cells_resized)})", ""]
        lines += [f"- {c['model']} / {c['protocol']} / {c['n_agents']} agents: {c['a']} → {c['b']}"
                  for c in d.cells_resized]
        lines.append("")
    for key, v in sorted(d.versions.items()):
        lines += [f"### {key.replace('_', ' ').capitalize()} changed", "",
                  f"- before: {', '.join(v['a']) or '-'}", f"- after: {', '.join(v['b']) or '-'}", ""]
    cas = d.cassettes
    if any(cas.values()):
        lines += ["### Cassettes", ""]
        lines += [f"- added `{f}`" for f in cas.get("added", [])] + [f"- removed `{f}`" for f in cas.get("removed", [])]
        lines += [f"- changed `{c['file']}` ({c['a']} → {c['b']})" for c in cas.get("changed", [])]
        lines.append("")
    why = [w for w, c in (("a verdict flipped", d.flipped),
                          ("run B lacks claims or cells of run A" + (" (allowed)" if d.allow_missing else ""),
                           d.missing)) if c]
    lines.append(f"Exit status {d.exit_code}: " + ("; ".join(why) if why else "no verdict flipped") + ".")
    return "\n".join(lines) + "\n"
