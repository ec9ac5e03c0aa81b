"""The study's headline results (docs/STUDY.md), one claim each, judged over every trial of
the session once they have all run (also under xdist).

Each claim names the quality it uses (`QUALITY`: the paper's judge Q, `quality.judge_q`; or
the deterministic `quality.coverage`) and declares the trials it is about (`streams`: the
protocol sweep's streams; `scaling`: the team-size sweep), so adding an eval file or a protocol
does not change what an existing claim sees. Each docstring states the study's figure. The
trials here are SmolLM2-135M's, a model far below the study's, judged by SmolLM2-135M itself
(the record and the report flag every judgement as self-judged): where it does not show what
the study found, the claim is marked `xfail(strict=True)` with our measured figures in the
reason, so CI guards the finding both ways (a change that makes it hold turns into an XPASS
failure that asks for the marker to go). Thresholds are the study's or stricter; none is
loosened to make a claim pass. Claims that need models we hold no cassettes for are skipped
by the data check, naming what is missing, and are judged when a user runs them live.
"""

from __future__ import annotations

import pytest

from sorg import claims

from sweep import MODEL as EMBEDDED
from sweep import PAPER, SCALING_PROTOCOLS, SCALING_SIZES

#: The paper's quality: the judge's Q from four 4-point dimensions.
QUALITY = "quality.judge_q"
#: The deterministic score that length cannot buy (tests/scoring prove it).
COVERAGE = "quality.coverage"


def streams(trials):
    """The protocol sweep: trials that belong to a stream of tasks."""
    return trials.where(stream_id=lambda s: s != "")


def scaling(trials):
    """The team-size sweep: single trials of the paper's protocols on level-1 tasks, seed 0."""
    return trials.where(stream_id="", protocol=SCALING_PROTOCOLS, level=1, seed=0)


@claims.claim
def test_sequential_beats_coordinator(trials):
    """Study: Sequential beats Coordinator by 14% in judged quality Q, p<0.001.

    Over the protocol streams, paired by task, seed and team size, one-sided Wilcoxon
    signed-rank, Holm-adjusted across the session's claims.
    """
    return claims.beats(streams(trials), "sequential", "coordinator", metric=QUALITY, alpha=0.001)


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M judged by itself (2026-12-02 sweep): judge Q of the four paper protocols spans 0.582 (broadcast) to '
    '0.607 (shared), gap +0.025 (simultaneous 95% CI -0.02..+0.071) over 8 tasks; Friedman p=0.58, not < 0.0001; d '
    '0.70 < 0.8: the self-judge gives near-constant Q (accuracy 1 on 70% of trials)'))
@claims.claim
def test_protocols_differ(trials):
    """Study: the paper's four protocols differ in Q by 44% between best and worst (Cohen's
    d=1.86, p<0.0001). Kruskal-Wallis across the four, over the protocol streams; we require
    d >= 0.8 (a large effect) at alpha 0.0001."""
    return claims.spread(streams(trials).where(protocol=PAPER), by="protocol", metric=QUALITY,
                         min_d=0.8, alpha=0.0001)


#: Equivalence margin on Q: a tenth of Q's range [0.25, 1]. Why: below the 14% protocol
#: effect the study reports, so an effect of the size the study cares about could not hide
#: inside the margin.
MARGIN = 0.075


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: Q at 16 agents 0.609 vs 0.617 at 4 (difference -0.008) on 2 level-1 tasks x 4 protocols; TOST on '
    'task means with 1 df p=0.11 (Holm 0.43): equivalence within +-0.075 cannot be shown with 2 tasks (90% CI '
    '-0.156..+0.14)'))
@claims.claim
def test_no_degradation_4_to_16(trials):
    """Study: Q holds as teams grow (no degradation from 4 to 256 agents, p=0.61).

    Stated as equivalence, not as a non-significant test: mean Q at 16 agents is within
    +-MARGIN of that at 4 agents (two one-sided tests, alpha 0.05), paired by protocol.
    """
    return claims.equivalent(scaling(trials), factor="n_agents", low=4, high=max(SCALING_SIZES),
                             margin=MARGIN, metric=QUALITY, alpha=0.05)


@claims.claim
def test_no_degradation_4_to_256(trials):
    """Study: Q holds from 4 to 256 agents. Judged when the scaling sweep has 256-agent trials
    of every scaled protocol (recording them on 2 cores takes hours per trial)."""
    t = scaling(trials)
    missing = [p for p in SCALING_PROTOCOLS if not len(t.where(protocol=p, n_agents=256))]
    if missing:
        return claims.skip(f"no 256-agent trials of {', '.join(missing)} recorded with this instrument "
                           "(the scaling sweep holds 4..16 agents)")
    return claims.equivalent(t, factor="n_agents", low=4, high=256, margin=MARGIN, metric=QUALITY, alpha=0.05)


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: slope of log cost on log team size 1.096 (95% CI 1.066..1.126) over 4..16 agents on 2 tasks; cost '
    '+397% from 4 to 16 agents: each added agent sees more of the team until the 2,048-token context budget binds, so '
    'cost grows slightly faster than team size here'))
@claims.claim
def test_cost_grows_sublinearly(trials):
    """Study: cost grows sub-linearly with team size (tokens +11.8% from 8 to 64 agents).

    Slope of log cost on log team size over the scaling sweep's sizes, with its 95% CI;
    sub-linear means the CI's upper bound is below 1.
    """
    return claims.growth(scaling(trials), factor="n_agents", metric="cost_usd", below=1.0)


@claims.claim
def test_roles_invented(trials):
    """Study: agents invented 5,006 distinct roles across its tasks, never being given one.

    The claim keeps the study's rate rather than its total: in the protocols that leave roles
    to the agents, teams of 4 invent at least 2 distinct roles (after role hygiene: no prompt
    echoes, pronouns, names or copies of the task) per task x seed cell, so at least 2 x the
    number of cells over the streams.
    """
    t = streams(trials).where(n_agents=4, protocol=["sequential", "shared", "broadcast"])
    cells = len({(r.task_id, r.seed) for r in t.records}) if len(t) else 0
    return claims.count(t, metric="unique_roles", at_least=max(1, 2 * cells), agg="distinct")


@claims.claim
def test_agents_abstain(trials):
    """Study: agents voluntarily abstain from work outside their competence. Claim: in
    sequential streams (where abstaining is offered) the mean abstention rate per trial is
    above zero (one-sided t on per-task means)."""
    return claims.count(streams(trials).where(protocol="sequential"), metric="abstention_rate",
                        at_least=0.0, agg="mean")


@pytest.mark.xfail(strict=True, reason=(
    'SmolLM2-135M: coordinator and sequential tie on judge Q (0.596 vs 0.596, 95% CI -0.036..+0.036) over 8 tasks, 15 '
    'of 24 pairs with zero difference; exact Wilcoxon p=0.69: the self-judge cannot tell them apart'))
@claims.claim
def test_weak_model_prefers_rigid_structure(trials):
    """Study: models below a capability threshold reverse the effect: they do better with
    rigid structure than with self-organisation.

    SmolLM2-135M is far below any threshold the study considered, so the study predicts the
    reversal here: on the embedded model, the coordinator (order and roles imposed) beats
    sequential (roles chosen by the agents) in Q over the streams, one-sided, alpha 0.05.
    """
    return claims.beats(streams(trials), "coordinator", "sequential", metric=QUALITY, alpha=0.05,
                        model=EMBEDDED)


@claims.claim
def test_capability_threshold(trials):
    """Study: the protocol ranking differs between weak and strong models.

    Needs a weak and a strong model in the same run: on each model stronger than the embedded
    one, sequential must beat the coordinator in Q (the reverse of the weak-model claim above).
    """
    strong = [m for m in trials.models if m != EMBEDDED]
    if EMBEDDED not in trials.models or not strong:
        return claims.skip(f"needs trials of {EMBEDDED} and of a stronger model; this run has "
                           f"{trials.models or 'none'} (run with --sorg-models={EMBEDDED},openai/gpt-4o)")
    return claims.beats(streams(trials), "sequential", "coordinator", metric=QUALITY, alpha=0.05,
                        model=strong)


@claims.claim
def test_open_quality_within_5pct(trials):
    """Study: open models reach 95% of closed-model quality. Q ratio of the embedded
    (open) model over openai/gpt-4o (closed) >= 0.95, task-clustered bootstrap CI."""
    return claims.ratio(streams(trials), num=EMBEDDED, den="openai/gpt-4o", by="model",
                        metric=QUALITY, at_least=0.95)


@claims.claim
def test_open_cost_24x_lower(trials):
    """Study: ... at 24x lower cost. Cost ratio closed/open >= 24 per trial."""
    return claims.ratio(streams(trials), num="openai/gpt-4o", den=EMBEDDED, by="model",
                        metric="cost_usd", at_least=24.0)


@pytest.mark.xfail(strict=True, reason=(
    "SmolLM2-135M: the coordinator's answers cover more of the checklist per unit of answer than sequential's "
    "(coverage 0.299 vs 0.17, difference -0.129, 95% CI -0.242..-0.016, 8 tasks): the reverse of the study's "
    "headline, as the capability threshold predicts for a weak model"))
@claims.claim
def test_coverage_sequential_vs_coordinator(trials):
    """The headline contrast on the deterministic score: does sequential's answer cover more of
    the task's checklist than the coordinator's, per unit of answer (coverage cannot be bought
    with length)? One-sided Wilcoxon over the streams, alpha 0.05."""
    return claims.beats(streams(trials), "sequential", "coordinator", metric=COVERAGE, alpha=0.05)
