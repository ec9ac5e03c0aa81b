"""What each study claim sees is declared by design, and its threshold is the paper's.

Properties over the study's own claim functions (evals/test_claims.py) on synthetic trials
shaped like the sweep: trials outside a claim's declared design (another protocol, another team
size, another eval's single trials, a second model's streams for a one-model claim) never change
its verdict; and each verdict states the threshold derived from evals/paper.py.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorg.results import Trials
from tests.evals import study_synth as syn
from tests.evals.study_files import load

paper, sweep = load("paper"), load("sweep")
PAPER_CTRL = sweep.PAPER + sweep.CONTROLS


@pytest.fixture(autouse=True)
def _all_chunks(monkeypatch: pytest.MonkeyPatch):
    """Judge as if every chunk were recorded (nothing skips for a missing recording)."""
    monkeypatch.setenv("SORG_STUDY_CHUNKS", "all")
    roles = {k: list(v) for k, v in sweep.MODEL_ROLES.items()}
    yield
    sweep.MODEL_ROLES.update(roles)


@functools.lru_cache(maxsize=1)
def _claims() -> dict:
    """The study's claim functions (they read sweep.MODEL_ROLES when called, so one import serves)."""
    mod = load("test_claims")
    return {name: fn for name, fn in vars(mod).items() if getattr(fn, "__sorg_claim__", False)}


@functools.lru_cache(maxsize=1)
def _base_records() -> tuple:
    rng = np.random.default_rng(5)
    return tuple(syn.protocol_sweep(rng, PAPER_CTRL) + syn.scaling_sweep(rng, sweep.SCALING_PROTOCOLS)
                 + syn.headline_cell(rng))


def _base() -> list:
    return list(_base_records())


def _judge(records) -> dict[str, dict]:
    t = Trials(records)
    return {name: fn(t).to_dict() for name, fn in _claims().items()}


@functools.lru_cache(maxsize=1)
def _base_verdicts() -> dict[str, dict]:
    return _judge(_base())


# Trials no claim declares: a protocol no claim names, streams at a size outside the protocol
# sweep, single trials at a size / level / seed outside the scaling sweep, a bio protocol.
_OUTSIDE = st.sampled_from([
    ("streams", "stigmergic", (4, 8)), ("streams", "my_new_protocol", (4,)), ("streams", "sequential", (16,)),
    ("streams", "coordinator", (2,)), ("single-level2", "sequential", (4, 64)), ("single-seed1", "shared", (8, 64)),
    ("single", "my_new_protocol", (8, 64, 256)), ("single", "sequential", (12,)),
])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(_OUTSIDE, min_size=1, max_size=3), seed=st.integers(0, 1000))
def test_trials_outside_a_claims_design_never_move_it(extra, seed: int) -> None:
    rng = np.random.default_rng(seed)
    added = []
    for kind, protocol, sizes in extra:
        if kind == "streams":
            added += syn.protocol_sweep(rng, [protocol], sizes=sizes, tasks=8, seeds=1)
        else:
            for r in syn.scaling_sweep(rng, [protocol], sizes=sizes):
                if kind == "single-level2":
                    r = dataclasses.replace(r, level=2)
                elif kind == "single-seed1":
                    r = dataclasses.replace(r, seed=1)
                added.append(r)
    after = _judge(_base() + added)
    before = _base_verdicts()
    moved = {n for n in before if before[n] != after[n]}
    assert not moved, f"claims moved by trials outside their design: {sorted(moved)} (added {extra})"


def test_every_claim_is_judged_on_a_full_synthetic_sweep() -> None:
    """None of the study's claims skips for want of data when the whole sweep is there, with a
    second model named closed (and so neither open nor weak: the open/closed claims and the
    strong-model claim are judged too)."""
    sweep.MODEL_ROLES["closed"] = ["fake/closed"]
    rng = np.random.default_rng(9)
    recs = _base() + syn.protocol_sweep(rng, PAPER_CTRL, model="fake/closed") + syn.headline_cell(rng, model="fake/closed")
    out = {n: fn(Trials(recs)) for n, fn in _claims().items()}
    skipped = {n: v.skip_reason for n, v in out.items() if v.skipped and v.outcome != "undecidable"}
    assert not skipped, skipped
    # judged, and declared undecidable: the recorded scaling design (3 tasks, 1 at 256) cannot give
    # a p below 2^-3, above 0.05; the synthetic sweep's deference links are all one depth (no
    # non-zero unit for the two one-sided tests)
    undecidable = {n for n, v in out.items() if v.outcome == "undecidable"}
    assert undecidable <= {"test_tokens_8_to_64", "test_abstention_at_256", "test_quality_holds_64_to_256",
                           "test_cost_sublinear_to_256", "test_shallow_hierarchies_emerge"}, undecidable


def claims_mod():
    """evals/test_claims.py itself (its declared margins)."""
    return load("test_claims")


def _verdict(name: str, records=None):
    return _claims()[name](Trials(records if records is not None else _base()))


def test_thresholds_are_the_papers() -> None:
    # the paper's null at the paper's alpha, and the paper's figure as a second statement
    v = _verdict("test_sequential_beats_coordinator")
    assert v.details["min_rel_effect"] == 0.0 and v.alpha == paper.SEQ_OVER_COORD_ALPHA
    assert v.details["paper_value"] == paper.SEQ_OVER_COORD and "compatible" in v.details
    assert set(v.details["pair_means"]) == {"sequential", "coordinator"}
    v = _verdict("test_pilot_spread")
    assert v.alpha == paper.PILOT_ALPHA and v.details["contrast"] == ["sequential", "shared"]
    assert v.details["paper_value"] == paper.PILOT_SPREAD and f"d {paper.PILOT_D}" in v.details["paper_label"]
    assert v.details["n_groups"] == 4
    v = _verdict("test_pilot_ranking")
    assert v.alpha == claims_mod().RANKING_ALPHA and v.details["paper_value"] == paper.PILOT_RANKING_GAIN
    v = _verdict("test_tokens_8_to_64")
    assert v.details["at_most"] == claims_mod().TOKEN_MARGIN and v.details["metric"] == "tokens_per_agent"
    assert v.details["paper_value"] == pytest.approx(1 + paper.TOKEN_GROWTH_8_TO_64)
    v = _verdict("test_quality_holds_64_to_256")
    assert (v.details["low"], v.details["high"]) == (64, 256) and v.details["margin"] == 0.075
    v = _verdict("test_abstention_at_256")
    assert v.details["within"] == [pytest.approx(paper.ABSTENTION_256 - 0.1), pytest.approx(paper.ABSTENTION_256 + 0.1)]
    v = _verdict("test_roles_invented")
    n8 = len(Trials(_base()).where(stream_id=lambda s: s != "", n_agents=8, protocol=["sequential", "broadcast", "shared"]))
    assert v.details["at_least"] == pytest.approx(round(paper.UNIQUE_ROLES / paper.STUDY_TASKS * n8, 1))
    sweep.MODEL_ROLES["closed"] = ["fake/closed"]
    rng = np.random.default_rng(2)
    recs = _base() + syn.protocol_sweep(rng, sweep.PAPER, model="fake/closed")
    v = _verdict("test_open_quality_share", recs)
    assert v.details["at_least"] == claims_mod().OPEN_SHARE_MARGIN and v.details["paper_value"] == paper.OPEN_QUALITY_SHARE
    v = _verdict("test_open_price_factor", recs)
    assert v.details["at_least"] == claims_mod().PRICE_MARGIN and v.details["paper_value"] == paper.OPEN_PRICE_FACTOR


def test_open_closed_claims_use_the_models_named_not_a_hard_coded_one() -> None:
    rng = np.random.default_rng(3)
    recs = _base() + syn.protocol_sweep(rng, sweep.PAPER, model="acme/frontier-9")
    v = _verdict("test_open_quality_share", recs)
    assert v.skipped and "--study-closed-models" in v.skip_reason
    sweep.MODEL_ROLES["closed"] = ["acme/frontier-9"]
    v = _verdict("test_open_quality_share", recs)
    assert not v.skipped and v.details["den_label"] == "acme/frontier-9"


def test_capability_threshold_is_an_interaction_of_model_and_free_vs_fixed_roles() -> None:
    rng = np.random.default_rng(4)
    recs = _base() + syn.protocol_sweep(rng, PAPER_CTRL, model="acme/strong")
    weak = _verdict("test_weak_model_prefers_fixed_roles", recs)
    assert {weak.details["a"], weak.details["b"]} == {"sequential", "fixed_roles"}
    assert weak.details["scope"] == {"model": ["local/smollm2-135m"]}
    inter = _verdict("test_capability_threshold", recs)
    assert inter.kind == "interaction" and not inter.skipped, inter.skip_reason
    assert [x if isinstance(x, list) else [x] for x in inter.details["levels"]] == [["local/smollm2-135m"], ["acme/strong"]]
    only_weak = _verdict("test_capability_threshold")
    assert only_weak.skipped and "needs a weak and a stronger model" in only_weak.skip_reason


def test_a_claim_over_an_unrecorded_chunk_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SORG_STUDY_CHUNKS", "core-n4-s0")
    v = _verdict("test_tokens_8_to_64")
    assert v.skipped and "scale-4-16" in v.skip_reason and "record_sweep.py --chunk" in v.skip_reason
