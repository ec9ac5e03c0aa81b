"""`Trials`: an in-memory, queryable collection of TrialRecords for claims and reports.

Why columns: claims slice 25,000 trials dozens of times (by protocol, model, team size)
and pair arms by task and seed. Looping over dataclasses for each slice is slow, so a
`Trials` shares one lazily built column table (numpy arrays, strings factorised into
integer codes) with all its subsets; a subset is only an index array into that table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sorg.record import TrialRecord

#: Numeric fields of TrialRecord usable directly as metrics or filters.
NUMERIC_FIELDS = (
    "level", "n_agents", "seed", "cost_usd", "prompt_tokens", "completion_tokens", "calls",
    "latency_s", "max_prompt_tokens", "unique_roles", "role_entropy", "abstention_rate",
    "hierarchy_depth", "parse_failure_rate", "answer_chars", "work_chars", "position", "rsi",
)
#: String fields usable as filters / grouping keys.
TEXT_FIELDS = ("trial_id", "task_id", "domain", "protocol", "model", "status", "prompt_version", "model_version",
               "stream_id")

#: Metrics computed from several fields.
DERIVED = {
    "total_tokens": lambda r: r.prompt_tokens + r.completion_tokens,
    "tokens": lambda r: r.prompt_tokens + r.completion_tokens,
    "n_roles": lambda r: len(r.roles),
    # Tokens (prompt + completion) per member of the team: the unit the study's "+11.8% from 8
    # to 64 agents" can be in (a per-task total could not stay near 3,500 with 64 readers).
    "tokens_per_agent": lambda r: (r.prompt_tokens + r.completion_tokens) / r.n_agents if r.n_agents else math.nan,
}


def _lookup(rec: TrialRecord, name: str) -> Any:
    """Value of `name` for one record: a field, a derived metric, or a dotted path
    into a mapping field ("quality.rubric", "sources.cassette"). Missing keys give NaN."""
    if name in DERIVED:
        return DERIVED[name](rec)
    head, _, rest = name.partition(".")
    val: Any = getattr(rec, head)
    while rest:
        key, _, rest = rest.partition(".")
        if isinstance(val, Mapping):
            val = val.get(key, math.nan)
        else:
            val = getattr(val, key, math.nan)
    return math.nan if val is None else val  # an undefined figure (rsi on a first task) is NaN


def _known(name: str) -> bool:
    head = name.partition(".")[0]
    return name in DERIVED or head in TrialRecord.__dataclass_fields__


class _Table:
    """Columns over all records of a collection, built on first use and then shared."""

    def __init__(self, records: Sequence[TrialRecord]):
        self.records = records
        self._num: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, list]] = {}

    def numeric(self, name: str) -> np.ndarray:
        col = self._num.get(name)
        if col is None:
            if not _known(name):
                raise KeyError(
                    f"unknown metric {name!r}: use a TrialRecord field ({', '.join(NUMERIC_FIELDS)}), "
                    f"'quality.<scorer>' (e.g. quality.coverage, quality.judge_q), or one of {sorted(DERIVED)}"
                )
            vals = []
            for r in self.records:
                v = _lookup(r, name)
                try:
                    vals.append(float(v))
                except (TypeError, ValueError):
                    raise TypeError(f"metric {name!r} of trial {r.trial_id!r} is not a number: {v!r}") from None
            col = np.asarray(vals, dtype=float)
            self._num[name] = col
        return col

    def codes(self, name: str) -> tuple[np.ndarray, list]:
        """Integer codes and the list of distinct values (first-appearance order)."""
        got = self._codes.get(name)
        if got is None:
            if not _known(name):
                raise KeyError(f"unknown trial field {name!r}; fields: {', '.join(TEXT_FIELDS + NUMERIC_FIELDS)}")
            mapping: dict = {}
            vals = [_lookup(r, name) for r in self.records]
            codes = np.fromiter((mapping.setdefault(v, len(mapping)) for v in vals), dtype=np.int64, count=len(vals))
            got = (codes, list(mapping))
            self._codes[name] = got
        return got


@dataclass(frozen=True)
class Paired:
    """Arms A and B matched on a key (e.g. task and seed); one row per matched key.

    `a` / `b` are the arms' metric values (the mean when an arm has several trials with the
    same key); `cluster` is the task of each pair, for clustered intervals.
    """

    keys: list[tuple]
    a: np.ndarray
    b: np.ndarray
    cluster: np.ndarray
    #: Integer code of each pair's cluster (unit), for fast per-unit aggregation.
    cluster_code: np.ndarray | None = None
    #: Trials with a finite metric in each arm, and how many of them found no partner.
    trials_a: int = 0
    trials_b: int = 0
    unmatched_a: int = 0
    unmatched_b: int = 0

    @property
    def unmatched(self) -> int:
        """Trials of either arm left out because the other arm has no trial with their key."""
        return self.unmatched_a + self.unmatched_b

    @property
    def diff(self) -> np.ndarray:
        return self.a - self.b

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class CellMeans:
    """Per-cell means of a metric: `keys` (sorted int64 cell keys), `means`, `counts`
    (trials per cell) and `unit` (integer code of the unit, e.g. the task, of each cell)."""

    keys: np.ndarray
    means: np.ndarray
    counts: np.ndarray
    unit: np.ndarray


class Trials:
    """A queryable, immutable collection of TrialRecords (all statuses; see `only_ok`).

    Iteration order is by trial id, whatever order the records were given in, so that a
    verdict over the same trials is the same number with or without xdist.
    """

    __slots__ = ("_table", "_idx")

    def __init__(self, records: Iterable[TrialRecord] = (), *, _table: _Table | None = None,
                 _idx: np.ndarray | None = None):
        if _table is None:
            recs = list(records)
            for i, r in enumerate(recs):
                if not isinstance(r, TrialRecord):
                    raise TypeError(f"Trials item {i} is a {type(r).__name__}, not a TrialRecord")
            # Canonical order (by trial id, stable): trials arrive in any order under xdist,
            # and every float sum and bootstrap draw must not depend on it.
            recs.sort(key=lambda r: r.trial_id)
            _table = _Table(recs)
            _idx = np.arange(len(recs), dtype=np.int64)
        self._table = _table
        self._idx = _idx if _idx is not None else np.arange(len(_table.records), dtype=np.int64)

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_jsonl(cls, path: str | Path) -> Trials:
        """Read a trial store (`trials.jsonl`, one TrialRecord dict per line).

        Through `sorg.store.read_records`, the one parser of trial stores, so a claim reads
        the same trials the plugin stored: a bad line (bad UTF-8 or JSON, a record of another
        version, a field that does not fit) raises StoreCorrupt naming the file and line;
        blank lines are ignored; a trial id seen twice is kept once (the first ok record, else
        the last one: a resumed run's retry), so a duplicated line never counts a trial twice
        in a claim; a last line cut short by a kill is dropped with a warning.
        """
        from sorg.store import read_records

        return cls(read_records(path))

    def _sub(self, idx: np.ndarray) -> Trials:
        return Trials(_table=self._table, _idx=idx)

    # ---------------------------------------------------------------- queries
    def _mask(self, name: str, value: Any) -> np.ndarray:
        codes, uniq = self._table.codes(name)
        if callable(value):
            want_codes = [i for i, u in enumerate(uniq) if value(u)]
        else:
            wanted = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
            want_codes = [i for i, u in enumerate(uniq) if any(_eq(u, w) for w in wanted)]
        sub = codes[self._idx]
        if not want_codes:
            return np.zeros(sub.size, dtype=bool)
        if len(want_codes) == 1:
            return sub == want_codes[0]
        return np.isin(sub, want_codes)

    def where(self, **filters: Any) -> Trials:
        """Trials whose fields equal the given value (or any of a list of values, or satisfy
        a predicate: `where(n_agents=lambda n: n >= 8)`).

        Nested names use dots through `**{"quality.rubric": 1.0}` or double underscores
        (`quality__rubric=1.0`).
        """
        idx = self._idx
        if not filters:
            return self
        mask = np.ones(idx.size, dtype=bool)
        for name, value in filters.items():
            mask &= self._mask(name.replace("__", "."), value)
        return self._sub(idx[mask])

    def only_ok(self) -> Trials:
        """Trials that finished (status "ok"); the only ones claims judge."""
        return self.where(status="ok")

    def incomplete(self) -> Trials:
        """Trials cut short (status "error" / "budget"): reported, never judged."""
        codes, uniq = self._table.codes("status")
        bad = [i for i, u in enumerate(uniq) if u != "ok"]
        return self._sub(self._idx[np.isin(codes[self._idx], bad)])

    def values(self, metric: str) -> np.ndarray:
        """Metric values (float array, NaN where a record lacks it, e.g. no judge score)."""
        return self._table.numeric(metric.replace("__", "."))[self._idx]

    def column(self, name: str) -> list:
        """Raw values of any field (strings included), in order."""
        codes, uniq = self._table.codes(name)
        return [uniq[c] for c in codes[self._idx]]

    def distinct(self, name: str) -> list:
        """Distinct values of a field present in this collection, sorted."""
        codes, uniq = self._table.codes(name)
        present = np.unique(codes[self._idx])
        return sorted((uniq[c] for c in present), key=lambda x: (type(x).__name__, x))

    def groups(self, by: str | Sequence[str]) -> dict[Any, Trials]:
        """Split by one field (keys are values) or several (keys are tuples)."""
        names = [by] if isinstance(by, str) else list(by)
        if not names:
            raise ValueError("groups() needs at least one field")
        key, uniqs = self._key(names)
        out: dict[Any, Trials] = {}
        if key.size == 0:
            return out
        order = np.argsort(key, kind="stable")
        sk = key[order]
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        ends = np.r_[starts[1:], sk.size]
        for s, e in zip(starts, ends):
            sel = np.sort(order[s:e])
            k = int(sk[s])
            label = self._decode(k, names, uniqs)
            out[label] = self._sub(self._idx[sel])
        return out

    def _key(self, names: Sequence[str]) -> tuple[np.ndarray, list[list]]:
        """One int64 key per trial combining the codes of `names` (mixed radix)."""
        key = np.zeros(self._idx.size, dtype=np.int64)
        uniqs = []
        space = 1
        for n in names:
            codes, uniq = self._table.codes(n.replace("__", "."))
            space *= max(len(uniq), 1)
            if space >= 2**62:
                raise ValueError(f"too many combinations of {list(names)} to key on ({space:.3g}); "
                                 "group by fewer fields")
            key = key * max(len(uniq), 1) + codes[self._idx]
            uniqs.append(uniq)
        return key, uniqs

    @staticmethod
    def _decode(k: int, names: Sequence[str], uniqs: list[list]):
        parts = []
        for uniq in reversed(uniqs):
            base = max(len(uniq), 1)
            parts.append(uniq[k % base])
            k //= base
        parts.reverse()
        return parts[0] if len(names) == 1 else tuple(parts)

    def pairs(
        self,
        a_filter: Mapping[str, Any],
        b_filter: Mapping[str, Any],
        metric: str,
        pair_by: Sequence[str] = ("task_id", "seed"),
        cluster_by: str = "task_id",
    ) -> Paired:
        """Match arm A with arm B on `pair_by` and return both arms' metric per key.

        Several trials of one arm with the same key are averaged (one value per key), and
        trials with a missing metric (NaN) are left out before matching.
        """
        a = self.where(**a_filter)
        b = self.where(**b_filter)
        names = list(pair_by)
        ca_ = a.cell_means(names, metric, cluster_by)
        cb_ = b.cell_means(names, metric, cluster_by)
        common, ia, ib = np.intersect1d(ca_.keys, cb_.keys, assume_unique=True, return_indices=True)
        uniqs = [self._table.codes(n)[1] for n in names]
        keys = [self._decode(int(k), names, uniqs) for k in common]
        keys = [k if isinstance(k, tuple) else (k,) for k in keys]
        cuniq = self._table.codes(cluster_by)[1]
        codes = ca_.unit[ia]
        cl = np.asarray([cuniq[c] for c in codes], dtype=object) if codes.size else np.array([], dtype=object)
        used_a, used_b = int(ca_.counts[ia].sum()), int(cb_.counts[ib].sum())
        ta, tb = int(ca_.counts.sum()), int(cb_.counts.sum())
        return Paired(keys=keys, a=ca_.means[ia], b=cb_.means[ib], cluster=cl, cluster_code=codes,
                      trials_a=ta, trials_b=tb, unmatched_a=ta - used_a, unmatched_b=tb - used_b)

    def key(self, names: Sequence[str]) -> np.ndarray:
        """One int64 per trial identifying its combination of `names` (equal key, equal cell).

        Keys are comparable across subsets of the same collection (they come from shared codes)."""
        return self._key(list(names))[0]

    def codes(self, name: str) -> tuple[np.ndarray, list]:
        """Integer code per trial of field `name` and the list of values the codes index."""
        codes, uniq = self._table.codes(name.replace("__", "."))
        return codes[self._idx], uniq

    def has_field(self, name: str) -> bool:
        """Whether `name` is a trial field or metric this collection can read."""
        return _known(name.replace("__", "."))

    def cell_means(self, names: Sequence[str], metric: str, unit: str = "task_id") -> CellMeans:
        """Mean `metric` per cell (combination of `names`; NaN trials left out), with each
        cell's trial count and the code of its unit (`unit`, e.g. task_id; a cell is assumed
        to lie within one unit, as it does when `names` includes the unit field)."""
        key = self.key(names) if names else np.zeros(len(self), dtype=np.int64)
        vals = self.values(metric)
        ok = np.isfinite(vals)
        key, vals = key[ok], vals[ok]
        ucodes = self.codes(unit)[0][ok]
        uk, inv = np.unique(key, return_inverse=True)
        s = np.bincount(inv, weights=vals, minlength=uk.size)
        n = np.bincount(inv, minlength=uk.size)
        first = np.zeros(uk.size, dtype=np.int64)
        first[inv[::-1]] = np.arange(inv.size)[::-1]
        return CellMeans(keys=uk, means=s / np.maximum(n, 1), counts=n, unit=ucodes[first] if uk.size else ucodes[:0])

    # ---------------------------------------------------------------- basics
    @property
    def models(self) -> list[str]:
        return self.distinct("model")

    @property
    def protocols(self) -> list[str]:
        return self.distinct("protocol")

    @property
    def records(self) -> list[TrialRecord]:
        recs = self._table.records
        return [recs[i] for i in self._idx.tolist()]

    def __len__(self) -> int:
        return int(self._idx.size)

    def __iter__(self) -> Iterator[TrialRecord]:
        recs = self._table.records
        return (recs[i] for i in self._idx.tolist())

    def __bool__(self) -> bool:
        return self._idx.size > 0

    def __repr__(self) -> str:
        return f"Trials({len(self)} trials, protocols={self.protocols}, models={self.models})"


def _eq(u: Any, w: Any) -> bool:
    """Filter equality that lets 4 match 4.0 and "4" stay a string."""
    if u == w:
        return True
    if isinstance(u, (int, float)) and isinstance(w, (int, float)) and not isinstance(u, bool):
        return float(u) == float(w)
    return False
