"""sorg.results.Trials: queries, pairing, loading a store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sorg.errors import StoreCorrupt  # noqa: E402
from sorg.results import Trials  # noqa: E402
from tests.fakes.sorg_synth import make_record, synth


@pytest.fixture
def trials() -> Trials:
    return Trials(synth(n_tasks=5, protocols={"sequential": 0.1, "coordinator": 0.0, "shared": -0.1},
                        models={"fake/a": 0.0, "fake/b": -0.05}, sizes=(4, 8), seeds=2))


def test_len_iter_models_protocols(trials: Trials) -> None:
    assert len(trials) == 5 * 3 * 2 * 2 * 2
    assert sum(1 for _ in trials) == len(trials)
    assert trials.models == ["fake/a", "fake/b"]
    assert trials.protocols == ["coordinator", "sequential", "shared"]  # sorted
    assert bool(trials) and not bool(trials.where(protocol="nope"))


def test_where_value_list_and_numbers(trials: Trials) -> None:
    seq = trials.where(protocol="sequential")
    assert len(seq) == len(trials) // 3
    assert all(r.protocol == "sequential" for r in seq)
    two = trials.where(protocol=["sequential", "shared"], n_agents=8)
    assert {r.protocol for r in two} == {"sequential", "shared"} and {r.n_agents for r in two} == {8}
    assert len(trials.where(n_agents=8.0)) == len(trials.where(n_agents=8))
    assert len(trials.where(protocol="sequential").where(model="fake/b")) == len(trials.where(protocol="sequential", model="fake/b"))


def test_where_predicate(trials: Trials) -> None:
    big = trials.where(n_agents=lambda n: n >= 8, protocol=lambda p: p.startswith("s"))
    assert len(big) > 0 and all(r.n_agents == 8 and r.protocol in ("sequential", "shared") for r in big)


def test_where_nested_metric_names(make) -> None:
    t = Trials([make(seed=0, quality={"judge_q": 1.0, "judge": 0.5}), make(seed=1, quality={"judge_q": 0.0})])
    assert len(t.where(**{"quality.judge_q": 1.0})) == 1
    assert len(t.where(quality__judge_q=[0.0, 1.0])) == 2


def test_values_and_missing_metric_is_nan(make) -> None:
    t = Trials([make(seed=0, quality={"judge_q": 0.25, "judge": 0.5}, cost_usd=0.02), make(seed=1, quality={"judge_q": 0.75})])
    assert t.values("quality.judge_q").tolist() == [0.25, 0.75]
    j = t.values("quality.judge")
    assert j[0] == 0.5 and np.isnan(j[1])
    assert t.values("cost_usd").tolist() == [0.02, 0.01]
    assert t.values("total_tokens").tolist() == [120, 120]
    assert t.values("unique_roles").tolist() == [0, 0]


def test_unknown_metric_names_what_exists(trials: Trials) -> None:
    with pytest.raises(KeyError, match="quality.coverage"):
        trials.values("qualty")


def test_groups_single_and_tuple(trials: Trials) -> None:
    g = trials.groups("protocol")
    assert set(g) == {"sequential", "coordinator", "shared"}
    assert sum(len(v) for v in g.values()) == len(trials)
    g2 = trials.groups(("model", "n_agents"))
    assert set(g2) == {("fake/a", 4), ("fake/a", 8), ("fake/b", 4), ("fake/b", 8)}
    assert all(r.model == "fake/b" and r.n_agents == 8 for r in g2[("fake/b", 8)])
    # groups of a subset only see the subset
    assert set(trials.where(protocol="shared").groups("protocol")) == {"shared"}


def test_pairs_match_on_key_and_average_duplicates(make) -> None:
    recs = [
        make(task_id="t1", seed=0, protocol="A", quality={"judge_q": 0.8}),
        make(task_id="t1", seed=0, protocol="B", quality={"judge_q": 0.5}),
        make(task_id="t1", seed=1, protocol="A", quality={"judge_q": 0.6}),  # no B partner
        make(task_id="t2", seed=0, protocol="A", model="m1", quality={"judge_q": 1.0}),
        make(task_id="t2", seed=0, protocol="A", model="m2", quality={"judge_q": 0.0}),  # averaged: 0.5
        make(task_id="t2", seed=0, protocol="B", quality={"judge_q": 0.1}),
    ]
    p = Trials(recs).pairs({"protocol": "A"}, {"protocol": "B"}, "quality.judge_q")
    got = dict(zip(p.keys, zip(p.a.tolist(), p.b.tolist())))
    assert got == {("t1", 0): (0.8, 0.5), ("t2", 0): (0.5, 0.1)}
    assert sorted(p.cluster.tolist()) == ["t1", "t2"]
    assert p.diff.tolist() == pytest.approx([b - c for b, c in zip(p.a, p.b)])


def test_pairs_count_unmatched_trials_and_carry_unit_codes(make) -> None:
    recs = [make(task_id="t1", seed=0, protocol="A", quality={"judge_q": 0.8}),
            make(task_id="t1", seed=0, protocol="B", quality={"judge_q": 0.5}),
            make(task_id="t1", seed=1, protocol="A", quality={"judge_q": 0.6}),  # no B partner
            make(task_id="t2", seed=3, protocol="B", quality={"judge_q": 0.6}),  # no A partner
            make(task_id="t2", seed=0, protocol="A", quality={"judge_q": 0.2}),
            make(task_id="t2", seed=0, protocol="B", quality={"judge_q": 0.1})]
    t = Trials(recs)
    p = t.pairs({"protocol": "A"}, {"protocol": "B"}, "quality.judge_q")
    assert (p.trials_a, p.trials_b, p.unmatched_a, p.unmatched_b, p.unmatched) == (3, 3, 1, 1, 2)
    codes, uniq = t.codes("task_id")
    assert [uniq[c] for c in p.cluster_code] == p.cluster.tolist()


def test_cell_means_key_and_fields(make) -> None:
    recs = [make(task_id=f"t{i % 2}", seed=i, protocol="A", quality={"judge_q": 0.1 * i}) for i in range(4)]
    recs.append(make(task_id="t1", seed=9, protocol="A", quality={"judge_q": float("nan")}))
    t = Trials(recs)
    cm = t.cell_means(["task_id"], "quality.judge_q")
    _, uniq = t.codes("task_id")
    got = {uniq[u]: (m, n) for u, m, n in zip(cm.unit, cm.means, cm.counts)}
    assert got == {"t0": (pytest.approx(0.1), 2), "t1": (pytest.approx(0.2), 2)}  # NaN left out
    k = t.key(["task_id", "seed"])
    assert len(set(k.tolist())) == 5 and t.where(protocol="A").key(["task_id"]).tolist() == t.key(["task_id"]).tolist()
    assert t.has_field("quality.judge_q") and t.has_field("task_id") and t.has_field("stream_id")
    assert not t.has_field("no_such_field")


def test_pairs_skip_missing_metric(make) -> None:
    recs = [make(seed=0, protocol="A", quality={"judge_q": 0.1}),
            make(seed=0, protocol="B", quality={"judge_q": 0.2, "judge": 0.3}),
            make(seed=1, protocol="A", quality={"judge_q": 0.1, "judge": 0.9}),
            make(seed=1, protocol="B", quality={"judge_q": 0.2, "judge": 0.3})]
    p = Trials(recs).pairs({"protocol": "A"}, {"protocol": "B"}, "quality.judge")
    assert p.keys == [("t0", 1)]


def test_only_ok_and_incomplete(make) -> None:
    t = Trials([make(seed=0), make(seed=1, status="budget"), make(seed=2, status="error")])
    assert len(t.only_ok()) == 1 and len(t.incomplete()) == 2


def test_order_of_arrival_does_not_matter(trials: Trials) -> None:
    import random

    recs = list(trials)
    random.Random(4).shuffle(recs)
    again = Trials(recs)
    assert [r.trial_id for r in again] == [r.trial_id for r in trials]
    assert again.values("quality.judge_q").tolist() == trials.values("quality.judge_q").tolist()


def test_rejects_non_records() -> None:
    with pytest.raises(TypeError, match="item 1"):
        Trials([make_record(), {"trial_id": "x"}])  # type: ignore[list-item]


def test_from_jsonl_roundtrip_and_corrupt_line(tmp_path: Path, trials: Trials) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in trials) + "\n", encoding="utf-8")
    back = Trials.from_jsonl(path)
    assert [r.trial_id for r in back] == [r.trial_id for r in trials]
    assert back.values("quality.judge_q").tolist() == trials.values("quality.judge_q").tolist()
    lines = path.read_text().splitlines()
    lines[3] = lines[3][:40]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StoreCorrupt, match=r"trials\.jsonl:4"):
        Trials.from_jsonl(path)
    lines[3] = json.dumps({"trial_id": "x", "bogus": 1})
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StoreCorrupt, match=r"trials\.jsonl:4.*"):
        Trials.from_jsonl(path)


def test_large_collection_queries_are_fast() -> None:
    import time

    recs = synth(n_tasks=60, protocols={p: 0.0 for p in "abcdefgh"}, models={"m1": 0, "m2": 0}, sizes=(4, 8, 16), seeds=9)
    t = Trials(recs)  # 25,920 trials
    t0 = time.process_time()  # CPU time: other load on a shared machine does not count
    for p in "abcdefgh":
        t.where(protocol=p, n_agents=[4, 8]).values("quality.judge_q").mean()
    t.pairs({"protocol": "a"}, {"protocol": "b"}, "quality.judge_q", pair_by=("task_id", "seed", "model", "n_agents"))
    t.groups(("protocol", "model"))
    assert time.process_time() - t0 < 2.0


@pytest.fixture
def make():
    return make_record
