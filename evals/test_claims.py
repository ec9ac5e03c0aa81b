"""The study's headline results (docs/STUDY.md), one claim each, judged over every trial of
the session once they have all run (also under xdist).

Each docstring states the study's figure. The trials here are SmolLM2-135M's, a model far
below the study's: where it does not show what the study found, the claim is marked
`xfail(strict=True)` with our measured figures in the reason, so CI guards the finding both
ways (a change that makes it hold turns into an XPASS failure that asks for the marker to go).
Thresholds are the study's; none is loosened to make a claim pass. Claims that need models we
hold no cassettes for are skipped by the data check, naming what is missing, and are judged
when a user runs them live (`--sorg-models=...`).
"""

from __future__ import annotations

import pytest

from sorg import claims

QUALITY = "quality.rubric"
#: The model whose cassettes we commit.
EMBEDDED = "local/smollm2-135m"


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M (2026-11-28 sweep): sequential trails the coordinator by 0.15 rubric points (95% CI -0.29..-0.04) over 28 task x seed x team-size pairs, Wilcoxon p=0.94; its agents abstain on 62% of turns, so the self-chosen-role team often writes little'))
@claims.claim
def test_sequential_beats_coordinator(trials):
    """Study: Sequential beats Coordinator by 14% in quality, p<0.001.

    Paired by task and seed (both protocols see the same tasks with the same seeds),
    one-sided Wilcoxon signed-rank, Holm-adjusted across the session's claims.
    """
    return claims.beats(trials, "sequential", "coordinator", metric=QUALITY, alpha=0.001)


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: Kruskal-Wallis over 204 trials p=0.012 (Holm 0.069), not < 0.0001; best-worst gap shared - dynamic +0.27 (95% CI +0.07..+0.50), d=0.84 but p is far from 0.0001'))
@claims.claim
def test_protocols_differ(trials):
    """Study: protocols differ in quality by 44% between best and worst (Cohen's d=1.86,
    p<0.0001). Kruskal-Wallis across the eight protocols, the best-worst gap and Cohen's d
    between the extremes; we require d >= 0.8 (a large effect) at alpha 0.0001."""
    return claims.spread(trials, by="protocol", metric=QUALITY, min_d=0.8, alpha=0.0001)


SCALED = ["sequential", "coordinator", "shared"]
#: Equivalence margin on rubric quality (a share of the rubric's [0, 1] range). Why 0.10: a
#: tenth of the range, and below the 14% protocol effect the study reports, so an effect of
#: the size the study cares about could not hide inside the margin.
MARGIN = 0.10


def _quality_holds(trials, high: int):
    """Rubric quality of the scaled protocols at `high` agents is within +-MARGIN of 4 agents."""
    return claims.equivalent(trials.where(protocol=SCALED), factor="n_agents", low=4, high=high,
                             margin=MARGIN, metric=QUALITY, alpha=0.05)


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: 3 pairs at 4 and 256 agents (one task, one seed, three protocols): quality did not fall, it rose by +0.67 on average (coordinator 0.5 -> 1.0, sequential 0.0 -> 1.0, shared 0.5 -> 1.0), so TOST p=0.96: equivalence within +-0.10 cannot be shown at this n'))
@claims.claim
def test_no_degradation_4_to_256(trials):
    """Study: quality holds from 4 to 256 agents (no significant degradation, p=0.61).

    Stated as equivalence, not as a non-significant test: mean rubric quality at 256 agents
    is within +-MARGIN of that at 4 agents (two one-sided tests, alpha 0.05), paired by task,
    seed and protocol. Judged only when every scaled protocol has 256-agent trials: one
    protocol alone would let a protocol effect pass for a team-size effect.
    """
    missing = [p for p in SCALED if not len(trials.where(protocol=p, n_agents=256))]
    if missing:
        return claims.skip(f"no 256-agent trials of {', '.join(missing)} in this run (record them with "
                           f"scripts/record_sweep.py --chunk scaling-256-<protocol>)")
    return _quality_holds(trials, 256)


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: 3 pairs at 4 and 64 agents (one task, one seed, three protocols): quality did not fall, it rose by +0.50 on average (coordinator 0.5 -> 0.5, sequential 0.0 -> 1.0, shared 0.5 -> 1.0), so TOST p=0.85: equivalence within +-0.10 cannot be shown at this n'))
@claims.claim
def test_no_degradation_4_to_64(trials):
    """The same equivalence up to 64 agents (the largest team that is cheap to re-record here;
    see evals/test_scaling.py for what 256 agents costs)."""
    return _quality_holds(trials, 64)


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: slope of log cost on log team size 1.25 over 4..256 agents (one task, so no CI); each agent sees more of the team until the 2,048-token context budget binds, so cost grows faster than team size below that point'))
@claims.claim
def test_cost_grows_sublinearly(trials):
    """Study: cost grows sub-linearly with team size (about +11.8% from 8 to 256 agents).

    Slope of log cost on log team size over every recorded team size (4..256 where
    recorded), with its 95% CI; sub-linear means the CI's upper bound is below 1.
    """
    # The scaling sweep (tests in test_scaling.py): the level-1 task at seed 0, every size.
    return claims.growth(trials.where(protocol=SCALED, level=1, seed=0),
                         factor="n_agents", metric="cost_usd", below=1.0)


@claims.claim
def test_roles_invented(trials):
    """Study: 8 agents invented 5,006 distinct roles across its tasks, never being given one.

    Our sweep is 12 task x seed cells per protocol, not 25,000 tasks; the claim keeps the
    study's rate rather than its total: teams of 8 in the protocols that leave roles to the
    agents invent at least 2 distinct (normalised) roles per cell, so >= 24 over the cells.
    """
    return claims.count(trials.where(n_agents=8, protocol=["sequential", "shared", "broadcast"]),
                        metric="unique_roles", at_least=24, agg="distinct")


@claims.claim
def test_agents_abstain(trials):
    """Study: agents voluntarily abstain from work outside their competence. Claim: in
    sequential teams (where abstaining is offered) the mean abstention rate per trial is
    above zero (one-sided t on per-task means)."""
    return claims.count(trials.where(protocol="sequential"), metric="abstention_rate",
                        at_least=0.0, agg="mean")


@pytest.mark.xfail(strict=True, reason=(
    "SmolLM2-135M: coordinator ahead of sequential by +0.15 (95% CI +0.04..+0.29) on 28 task x seed x team-size pairs, Wilcoxon p=0.055 > 0.05 (Holm 0.28)"))
@claims.claim
def test_weak_model_prefers_rigid_structure(trials):
    """Study: models below a capability threshold reverse the effect: they do better with
    rigid structure than with self-organisation.

    SmolLM2-135M is far below any threshold the study considered, so the study predicts the
    reversal here: on the embedded model, the coordinator (order and roles imposed) beats
    sequential (roles chosen by the agents), paired by task and seed, one-sided, alpha 0.05.
    """
    return claims.beats(trials, "coordinator", "sequential", metric=QUALITY, alpha=0.05,
                        model=EMBEDDED)


@claims.claim
def test_capability_threshold(trials):
    """Study: the protocol ranking differs between weak and strong models.

    Needs a weak and a strong model in the same run: on each model stronger than the embedded
    one, sequential must beat the coordinator (the reverse of the weak-model claim above).
    """
    strong = [m for m in trials.models if m != EMBEDDED]
    if EMBEDDED not in trials.models or not strong:
        return claims.skip(f"needs trials of {EMBEDDED} and of a stronger model; this run has "
                           f"{trials.models or 'none'} (run with --sorg-models={EMBEDDED},openai/gpt-4o)")
    return claims.beats(trials, "sequential", "coordinator", metric=QUALITY, alpha=0.05,
                        model=strong)


@claims.claim
def test_open_quality_within_5pct(trials):
    """Study: open models reach 95% of closed-model quality. Quality ratio of the embedded
    (open) model over openai/gpt-4o (closed) >= 0.95, task-clustered bootstrap CI."""
    return claims.ratio(trials, num=EMBEDDED, den="openai/gpt-4o", by="model",
                        metric=QUALITY, at_least=0.95)


@claims.claim
def test_open_cost_24x_lower(trials):
    """Study: ... at 24x lower cost. Cost ratio closed/open >= 24 per trial."""
    return claims.ratio(trials, num="openai/gpt-4o", den=EMBEDDED, by="model",
                        metric="cost_usd", at_least=24.0)
