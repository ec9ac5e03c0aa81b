"""Each protocol's effect on a quality score against a reference protocol, raw and adjusted
for the answer's length.

Why: a scorer that gives more credit to more text ranks protocols by volume, and a protocol
that hands in more text then looks better for it. So next to each raw effect the report shows
the same effect holding answer length fixed: if it survives, volume does not explain it; if it
shrinks to about zero, the protocols differ in score about as much as length alone predicts.
This is descriptive, not a causal claim: length can also be how real work shows (more ground
covered), so an effect that shrinks is "moves with volume", not "is nothing but volume".

The comparison unit is a *block*: one model, task, seed and team size. Both estimates compare
protocols within blocks, so task difficulty never enters them:

- **raw**: the mean over blocks of (protocol - reference), each arm's trials of a block
  averaged first; the blocks where both ran.
- **adjusted**: ordinary least squares with block fixed effects (within-block demeaning),
  a dummy per protocol and one covariate, log(1 + answer characters), over every block in
  which the reference ran. The log because the n-th extra character is worth less than the
  first (and 1 + keeps an empty answer defined); one slope for all protocols because how much
  volume buys is a property of the scorer, not of a protocol, and a slope shared across
  protocols is estimable even where one protocol's length differs from the reference's by the
  same amount in every block. On a balanced design with a zero slope it equals the raw effect.

Intervals are 95% t intervals (G - 1 degrees of freedom) with cluster-robust (CR1) standard
errors, clusters = tasks, since blocks of one task (seeds, sizes, models) share the task's
quirks. A figure that cannot be estimated is None with a reason (a protocol that never ran
beside the reference, a length that does not vary within blocks, one task), never a crash.
numpy and scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sorg.stats.bootstrap import cluster_codes

__all__ = ["Effect", "LengthEffects", "Obs", "ProtocolEffect", "length_effects"]

#: Relative size below which a demeaned column counts as zero (no within-block variation).
_TINY = 1e-10


@dataclass(frozen=True)
class Obs:
    """One trial as the analysis reads it: its block (model, task, seed, team size), its
    protocol, the metric's value and the length in characters of the team's full answer."""

    protocol: str
    task_id: str
    seed: int
    n_agents: int
    value: float
    chars: int
    model: str = ""


@dataclass(frozen=True)
class Effect:
    """An estimate with its 95% interval; `estimate` None means not estimable (`reason` says
    why); `ci` None with an estimate means no interval (`reason` says why)."""

    estimate: float | None
    ci: tuple[float, float] | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "ci": list(self.ci) if self.ci else None, "reason": self.reason}


@dataclass(frozen=True)
class ProtocolEffect:
    """One protocol against the reference: its trials and mean answer length, the blocks and
    tasks it was compared on, and the raw and length-adjusted effects."""

    protocol: str
    trials: int
    mean_chars: float | None
    pairs: int
    tasks: int
    raw: Effect
    adjusted: Effect

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "trials": self.trials, "mean_chars": self.mean_chars,
                "pairs": self.pairs, "tasks": self.tasks, "raw": self.raw.to_dict(),
                "adjusted": self.adjusted.to_dict()}


@dataclass(frozen=True)
class LengthEffects:
    """Every protocol's effect against `reference` (None with `reason` when there is none),
    the reference's own trials and mean length, and the shared length slope (score per unit
    of log(1 + chars); times ln 2 it is the score per doubling of the answer)."""

    reference: str | None
    reference_trials: int = 0
    reference_chars: float | None = None
    effects: tuple[ProtocolEffect, ...] = ()
    slope: Effect = field(default_factory=lambda: Effect(None, reason="not estimated"))
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "reference_trials": self.reference_trials,
                "reference_chars": self.reference_chars, "effects": [e.to_dict() for e in self.effects],
                "slope": self.slope.to_dict(), "reason": self.reason}


def _t975(df: int) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.975))


def _pick_reference(present: Sequence[str], order: Sequence[str], reference: str | None) -> str | None:
    if reference is not None:
        return reference
    for p in order:
        if p in present:
            return p
    return min(present) if present else None


def _group_mean(code: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(code, weights=v, minlength=n) / np.bincount(code, minlength=n)


def _mean_ci(est: float, resid: np.ndarray, g: np.ndarray, n_g: int) -> Effect:
    """`est` (a mean) with its CR1 interval: the residuals summed per cluster, G/(G-1)."""
    s = np.bincount(g, weights=resid, minlength=n_g)
    se = math.sqrt(n_g / (n_g - 1) * float(s @ s)) / len(resid)
    h = _t975(n_g - 1) * se
    return Effect(est, (est - h, est + h))


def length_effects(obs: Iterable[Obs], order: Sequence[str] = (), reference: str | None = None) -> LengthEffects:
    """Each protocol's effect on `Obs.value` against the reference protocol, raw and adjusted
    for log(1 + answer chars) (see the module docstring for the model and why).

    The reference is `reference`, else the first protocol of `order` that has trials, else the
    alphabetically first. Protocols come out in `order`, then alphabetically. Observations with
    a non-finite value are left out; a negative length is an error (ValueError)."""
    rows = [o for o in obs if isinstance(o.value, (int, float)) and math.isfinite(o.value)]
    for o in rows:
        if o.chars < 0:
            raise ValueError(f"trial of protocol {o.protocol!r}, task {o.task_id!r}: answer length {o.chars} < 0")
    present = sorted({o.protocol for o in rows})
    ref = _pick_reference(present, order, reference)
    if ref is None:
        return LengthEffects(None, reason="no trials with a value for this metric")
    rank = {p: i for i, p in enumerate(order)}
    others = sorted((p for p in present if p != ref), key=lambda p: (rank.get(p, len(rank)), p))
    trials = {p: [o for o in rows if o.protocol == p] for p in present}
    chars = {p: math.fsum(o.chars for o in trials[p]) / len(trials[p]) for p in present}
    if ref not in trials:
        empty = Effect(None, reason=f"the reference protocol {ref!r} has no trials with a value")
        return LengthEffects(ref, reason=empty.reason, slope=empty, effects=tuple(
            ProtocolEffect(p, len(trials[p]), chars[p], 0, 0, empty, empty) for p in others))
    # Cells: one (block, protocol) each, its trials averaged (value and log length).
    cells: dict[tuple[tuple, str], list[Obs]] = {}
    for o in rows:
        cells.setdefault(((o.model, o.task_id, o.seed, o.n_agents), o.protocol), []).append(o)
    by_block: dict[tuple, dict[str, tuple[float, float, str]]] = {}
    for (blk, p), os_ in sorted(cells.items()):
        y = math.fsum(o.value for o in os_) / len(os_)
        x = math.fsum(math.log1p(o.chars) for o in os_) / len(os_)
        by_block.setdefault(blk, {})[p] = (y, x, blk[1])
    raw = {p: _raw(p, ref, by_block) for p in others}
    adj, slope = _adjusted(others, ref, by_block)
    effects = tuple(ProtocolEffect(p, len(trials[p]), chars[p], raw[p][1], raw[p][2], raw[p][0], adj[p])
                    for p in others)
    return LengthEffects(ref, len(trials[ref]), chars[ref], effects, slope,
                         "" if others else f"only the reference protocol {ref!r} has trials")


def _raw(p: str, ref: str, by_block: Mapping[tuple, Mapping[str, tuple[float, float, str]]]) -> tuple[Effect, int, int]:
    """(mean paired difference p - ref with its CR1 interval, pairs, tasks)."""
    d, tasks = [], []
    for arms in by_block.values():
        if p in arms and ref in arms:
            d.append(arms[p][0] - arms[ref][0])
            tasks.append(arms[p][2])
    if not d:
        return Effect(None, reason=f"never ran beside {ref!r} (no model, task, seed and team size in common)"), 0, 0
    g, n_g = cluster_codes(tasks)
    dv = np.asarray(d, dtype=float)
    est = math.fsum(d) / len(d)
    if n_g < 2:
        return Effect(est, reason="no CI (1 task)"), len(d), 1
    return _mean_ci(est, dv - est, g, n_g), len(d), n_g


def _adjusted(others: Sequence[str], ref: str, by_block: Mapping[tuple, Mapping[str, tuple[float, float, str]]]
              ) -> tuple[dict[str, Effect], Effect]:
    """Block fixed-effects OLS of the value on protocol dummies and log(1 + chars), over the
    blocks where the reference and at least one other protocol ran: each protocol's
    coefficient (its adjusted effect) and the length slope, with CR1 intervals by task."""
    blk, prot, ys, xs, tasks = [], [], [], [], []
    for b, arms in enumerate(by_block.values()):
        if ref not in arms or len(arms) < 2:
            continue
        for p, (yv, xv, t) in arms.items():
            blk.append(b)
            prot.append(p)
            ys.append(yv)
            xs.append(xv)
            tasks.append(t)

    def none(why: str) -> tuple[dict[str, Effect], Effect]:
        return {p: Effect(None, reason=why) for p in others}, Effect(None, reason=why)

    if not blk:
        return none(f"no block (model, task, seed, team size) where {ref!r} ran beside another protocol")
    bcode = np.unique(np.asarray(blk), return_inverse=True)[1].astype(np.int64).ravel()
    nb = int(bcode.max()) + 1
    cols = [p for p in others if p in prot]
    design = np.column_stack([np.array([q == p for q in prot], dtype=float) for p in cols] +
                             [np.asarray(xs, dtype=float)])
    y = np.asarray(ys, dtype=float)
    design = _demean(design, bcode, nb)
    y = y - _group_mean(bcode, y, nb)[bcode]
    xcol = design[:, -1]
    dums = design[:, :-1]
    # Length that the blocks and protocols already explain leaves no slope to estimate.
    resid_x = xcol - dums @ np.linalg.lstsq(dums, xcol, rcond=None)[0] if dums.size else xcol
    xs_arr = np.asarray(xs, dtype=float)
    scale = max(float(np.abs(xs_arr).max()), 1.0)
    if float(np.abs(resid_x).max(initial=0.0)) <= _TINY * scale:
        why = ("answer length does not vary within blocks beyond what the protocol explains: "
               "no length slope to adjust by")
        return none(why)
    n, k = design.shape
    if n - nb - k < 1:
        return none(f"too few trials: {n} protocol means in {nb} blocks leave no residual degree of freedom "
                    f"for {k} coefficients (a dummy per protocol and the length slope)")
    xtx = design.T @ design
    if np.linalg.matrix_rank(xtx) < k:
        return none("the protocol dummies and length are collinear within blocks")
    bread = np.linalg.inv(xtx)
    beta = bread @ (design.T @ y)
    u = y - design @ beta
    g, n_g = cluster_codes(tasks)
    out: dict[str, Effect] = {}
    if n_g < 2:
        out = {p: Effect(float(beta[j]), reason="no CI (1 task)") for j, p in enumerate(cols)}
        slope = Effect(float(beta[-1]), reason="no CI (1 task)")
    else:
        s = np.zeros((n_g, k))
        np.add.at(s, g, design * u[:, None])
        c = n_g / (n_g - 1) * (n - 1) / (n - k)
        se = np.sqrt(np.maximum(np.diag(bread @ (s.T @ s) @ bread) * c, 0.0))
        h = _t975(n_g - 1) * se
        out = {p: Effect(float(beta[j]), (float(beta[j] - h[j]), float(beta[j] + h[j]))) for j, p in enumerate(cols)}
        slope = Effect(float(beta[-1]), (float(beta[-1] - h[-1]), float(beta[-1] + h[-1])))
    for p in others:
        out.setdefault(p, Effect(None, reason=f"never ran beside {ref!r}"))
    return out, slope


def _demean(m: np.ndarray, code: np.ndarray, n: int) -> np.ndarray:
    """Each column of `m` minus its block mean."""
    counts = np.bincount(code, minlength=n).astype(float)
    sums = np.zeros((n, m.shape[1]))
    np.add.at(sums, code, m)
    return m - (sums / counts[:, None])[code]
