"""The paper's claims (docs/STUDY.md), stated so that the paper itself would pass them.

Each threshold is derived from `paper.py` (the paper's figures, in one place), each claim names
its quality (`QUALITY`: the paper's judge Q; `COVERAGE`: the deterministic score length cannot
buy), and each declares the trials it is about through `protocol_sweep` / `scaling_sweep`
(protocols, team sizes, levels, streams), so adding an eval file or a protocol changes nothing
a claim sees (tests/evals/test_claim_scope.py checks it). A claim whose trials lie in chunks
not yet recorded is skipped naming them (`sweep.missing`).

How a replication is stated: the paper's own null at the paper's alpha (A beats B: effect > 0,
p < 0.001), and, as a second statement beside it, whether the estimate is compatible with the
paper's figure (its 95% interval contains it): "replicated: significant, compatible with +14%".
A ratio or share is a non-inferiority test with a declared margin (`TOKEN_MARGIN`,
`OPEN_SHARE_MARGIN`, `PRICE_MARGIN`), never the paper's point estimate as the null: a world in
which the paper is exactly right must pass (`pytest evals/ --sorg-models=sim/paper` shows it does,
and `sim/null` that no effect claim passes where there is no effect; docs/SIM.md).

The committed trials are SmolLM2-135M's, a model far below the study's, judged by itself. On
them most claims read "not measured" (the self-judge and the emergence measures fail the
instrument gate) or "undecidable" (the recorded scaling design has too few tasks): neither is a
finding about the model, so no such claim carries an xfail with figures. Where a measured claim
does not bear out on that model, it is `xfail(strict=True)` on runs of that model only
(`sweep.on_recorded_model`), with the measured figures in the reason, so CI guards the finding
both ways. No threshold is loosened to make a claim pass.
"""

from __future__ import annotations

import numpy as np

from sorg import claims

import paper
import sweep

#: The paper's quality: the judge's Q from four 4-point dimensions.
QUALITY = "quality.judge_q"
#: The deterministic score that length cannot buy (tests/scoring prove it).
COVERAGE = "quality.coverage"
#: Equivalence margin on Q: a tenth of Q's range [0.25, 1]. Why: below the paper's 14% protocol
#: effect (0.10 on Q), so an effect of the size the paper cares about cannot hide inside it.
MARGIN = round((paper.Q_RANGE[1] - paper.Q_RANGE[0]) / 10, 3)
#: Non-inferiority margins, declared (not the paper's point estimates): tokens per agent from 8 to
#: 64 agents grow by less than a quarter (the paper: +11.8%); an open model keeps at least 90% of
#: a closed model's quality (the paper: 95%); it is at least ten times cheaper (the paper: 24x).
TOKEN_MARGIN = 1.25
OPEN_SHARE_MARGIN = 0.90
PRICE_MARGIN = 10.0
#: "Shallow": a deference graph whose longest chain is above 0 (a hierarchy formed) and at most 2 links.
HIERARCHY_BAND = (0.0, 2.0)
#: The claims that state an effect: a difference a world without one (sim/null) must not show
#: (benchmarks/bench_claims_oc.py and tests/evals/test_sim_study.py read this list).
EFFECT_CLAIMS = ("test_sequential_beats_coordinator", "test_pilot_spread", "test_pilot_ranking",
                 "test_weak_model_prefers_fixed_roles", "test_capability_threshold",
                 "test_shared_memory_stabilises_roles", "test_coverage_sequential_vs_coordinator")
#: The pilot ranking's alpha: its own statement has none (see test_pilot_ranking).
RANKING_ALPHA = 0.05
#: The declared interval around the paper's "about 45%" abstention at 256 agents.
ABSTENTION_BAND = (paper.ABSTENTION_256 - 0.10, paper.ABSTENTION_256 + 0.10)
#: The protocols in which agents choose their own role or abstain (the coordinator assigns).
SELF_ORGANISED = ["sequential", "broadcast", "shared"]
#: The unit of the claims at 256 agents: the task, as everywhere. An earlier reading judged them
#: over the four protocols on the one recorded 256-agent task; with exact tests four units can
#: never reach alpha 0.05 (the smallest p is 2^-4), so that design could decide nothing. The
#: recorded sweep (one task at 256) now reads "cannot be decided with this design"; a sweep with
#: seven or more tasks at 256 (the simulated study has eight) decides them (Holm across the four
#: needs 4 x 2^-G < 0.05).
AT_256_UNIT = "task"


def protocol_sweep(trials, protocols, sizes=sweep.PROTOCOL_SIZES):
    """The protocol sweep's trials of `protocols`: streams over all four levels, at `sizes`."""
    return trials.where(stream_id=lambda s: s != "", protocol=protocols, n_agents=sizes, level=[1, 2, 3, 4])


#: The scaling sweep's protocols the scaling claims read. Shared is left out: in the scaling
#: sweep each trial is a stream of one, so Shared never has the organisational memory that
#: defines it (the paper's Shared always has it); pooling it would judge another protocol.
SCALING_CLAIM_PROTOCOLS = [p for p in sweep.SCALING_PROTOCOLS if p != "shared"]


def scaling_sweep(trials, sizes=sweep.SCALING_SIZES, protocols=SCALING_CLAIM_PROTOCOLS):
    """The scaling sweep's trials: single trials (no stream) on level-1 tasks at seed 0."""
    return trials.where(stream_id="", protocol=protocols, n_agents=sizes, level=1, seed=0)


def headline_cell(trials):
    """The paper's headline condition: single trials on level-3 tasks at 16 agents."""
    return trials.where(stream_id="", protocol=sweep.HEADLINE_PROTOCOLS, n_agents=sweep.HEADLINE_SIZE,
                        level=sweep.HEADLINE_LEVEL)


def _need(kind: str, protocols, sizes) -> claims.Verdict | None:
    """A skip naming the chunks still to record, when the claim's trials lie in them."""
    todo = sweep.missing(kind=kind, protocol=protocols, n_agents=sizes)
    if not todo:
        return None
    return claims.skip(f"needs the {', '.join(todo)} chunk(s), not recorded yet "
                       f"(python scripts/record_sweep.py --chunk {todo[0]})")


#: The sweep the xfail reasons' figures come from (the recorded core chunks).
CORE_SWEEP = "re-recorded 2026-12-06 with the paper's protocols (#26): 16 tasks x 3 seeds, 4 and 8 agents"

@claims.claim
def test_sequential_beats_coordinator(trials):
    """Paper (Table IV): Sequential beats Coordinator by 14% in Q (0.875 vs 0.767), p < 0.001, at
    the paper's headline condition (level 3, 16 agents).

    Over the headline cell (`headline_cell`), paired by task and seed: the paper's null
    (sequential - coordinator <= 0) at the paper's alpha, and beside it whether the relative
    gain's interval contains the paper's +14%. The unit is the (task, seed) pair: under the null
    of no protocol effect on any run, each pair's difference is symmetric about 0 on its own, so
    its sign can be flipped pair by pair (a task-level unit would need 17+ level-3 tasks to reach
    0.001 after Holm; the bank has 12).
    """
    skip = _need("headline", sweep.HEADLINE_PROTOCOLS, [sweep.HEADLINE_SIZE])
    return skip or claims.beats(headline_cell(trials), "sequential", "coordinator", metric=QUALITY,
                                alpha=paper.SEQ_OVER_COORD_ALPHA, paper_rel_effect=paper.SEQ_OVER_COORD,
                                unit="pair")


@claims.claim
def test_pilot_spread(trials):
    """Paper (Table III): between the best (Sequential 0.724) and worst (Shared 0.503) of the four
    protocols Q differs by 44%, Cohen's d = 1.86 (no p-value is reported: PILOT_ALPHA).

    The contrast is declared in advance (sequential vs shared) and decided at PILOT_ALPHA;
    beside it, whether the relative gap and d are compatible with the paper's 44% and 1.86.
    """
    return claims.spread(protocol_sweep(trials, sweep.PAPER), by="protocol", metric=QUALITY,
                         contrast=("sequential", "shared"), alpha=paper.PILOT_ALPHA,
                         paper_rel_gap=paper.PILOT_SPREAD, paper_d=paper.PILOT_D)


@claims.claim
def test_pilot_ranking(trials):
    """Paper (Table III): Coordinator (0.640) ranks above Broadcast (0.510) and Shared (0.503),
    the rest of the pilot's order Sequential > Coordinator > Broadcast, Shared.

    Its alpha is its own statement's: the paper states the order with no test of its own, so the
    ranking is judged at the conventional 0.05."""
    return claims.beats(protocol_sweep(trials, ["coordinator", "broadcast", "shared"]), "coordinator",
                        ["broadcast", "shared"], metric=QUALITY, alpha=RANKING_ALPHA,
                        paper_rel_effect=paper.PILOT_RANKING_GAIN)


@claims.claim
def test_tokens_8_to_64(trials):
    """Paper (Tables V, VI): tokens grow from 3,164 to 3,537 (+11.8%) from 8 to 64 agents.

    Unit: tokens per agent (prompt + completion over the team's members), per trial. Why it
    matches the paper: a per-task total could not stay near 3,500 tokens with 64 agents each
    reading the mission; per agent is the reading under which both figures are possible, and it
    is what a context budget bounds. Ratio 64 / 8, matched by task and protocol: non-inferiority
    at the declared margin TOKEN_MARGIN, and whether it is compatible with the paper's 1.118.
    """
    skip = _need("scaling", SCALING_CLAIM_PROTOCOLS, [8, 64])
    return skip or claims.ratio(scaling_sweep(trials, [8, 64]), num=64, den=8, by="n_agents",
                                metric="tokens_per_agent", at_most=TOKEN_MARGIN,
                                paper_ratio=1.0 + paper.TOKEN_GROWTH_8_TO_64)


@claims.claim
def test_quality_holds_64_to_256(trials):
    """Paper (Tables V, VI): Q about 0.96 from 64 to 256 agents, "no degradation" (Kruskal-Wallis
    p = 0.61). Stated as equivalence: Q at 256 within +-MARGIN of Q at 64 (TOST, alpha 0.05).

    The unit is the task (AT_256_UNIT), the protocols' differences (SCALING_CLAIM_PROTOCOLS)
    averaged within it."""
    skip = _need("scaling", SCALING_CLAIM_PROTOCOLS, [64, 256])
    return skip or claims.equivalent(scaling_sweep(trials, [64, 256]), factor="n_agents", low=64, high=256,
                                     margin=MARGIN, metric=QUALITY, alpha=0.05, unit=AT_256_UNIT)


@claims.claim
def test_abstention_at_256(trials):
    """Paper: about 45% of agents abstain at 256 agents. Declared interval 0.35..0.55 for the
    mean abstention rate per task (AT_256_UNIT), over the protocols where agents may abstain
    (Shared aside: memory-less in the scaling sweep, see SCALING_CLAIM_PROTOCOLS)."""
    free = [p for p in SELF_ORGANISED if p in SCALING_CLAIM_PROTOCOLS]
    skip = _need("scaling", free, [256])
    return skip or claims.count(scaling_sweep(trials, [256], free), metric="abstention_rate",
                                within=ABSTENTION_BAND, unit=AT_256_UNIT, paper_value=paper.ABSTENTION_256)


@claims.claim
def test_roles_invented(trials):
    """Paper: agents invented 5,006 distinct roles in teams of 8 over its 25,000+ tasks.

    The rate, not the total: at least 5,006 / 25,000 = 0.2 new distinct roles per 8-agent trial
    (the lowest rate that total implies; fewer of the tasks had 8-agent teams), over the protocol
    sweep's self-organised 8-agent trials, after role hygiene (no prompt echoes, pronouns, names).
    """
    skip = _need("streams", SELF_ORGANISED, [paper.UNIQUE_ROLES_TEAM])
    if skip:
        return skip
    t = protocol_sweep(trials, SELF_ORGANISED, [paper.UNIQUE_ROLES_TEAM])
    rate = paper.UNIQUE_ROLES / paper.STUDY_TASKS
    return claims.count(t, metric="unique_roles", at_least=max(1.0, round(rate * len(t), 1)), agg="distinct")


@claims.claim
def test_agents_abstain(trials):
    """Paper: agents abstain on their own. In sequential streams, where abstaining is offered,
    the mean abstention rate per task is above zero (one-sided t on per-task means)."""
    return claims.count(protocol_sweep(trials, ["sequential"]), metric="abstention_rate", at_least=0.0)


@claims.claim
def test_shared_memory_stabilises_roles(trials):
    """sorg's hypothesis, not the paper's: the paper defines the Role Stability Index (RSI), how an
    agent's role holds across tasks, and Shared is the protocol that shows agents their role
    history, but the paper states no comparison. Claim: RSI is higher in Shared
    than in Sequential (same streams, no memory), paired by task, seed and team size, alpha 0.05.
    RSI is defined only where an agent took a role on two consecutive tasks."""
    t = protocol_sweep(trials, ["shared", "sequential"])
    defined = {p: int(np.isfinite(t.where(protocol=p).values("rsi")).sum()) for p in ("shared", "sequential")}
    if min(defined.values()) < 2:
        return claims.skip(f"RSI is undefined on almost every trial: an agent took a role on two consecutive "
                           f"tasks in {defined['shared']} shared and {defined['sequential']} sequential trials of "
                           f"{len(t)} (the agents abstain or give no role)")
    return claims.beats(t, "shared", "sequential", metric="rsi")


@claims.claim
def test_weak_model_prefers_fixed_roles(trials):
    """Paper (capability threshold): below a threshold the effect reverses: GLM-5 scores 0.574
    with fixed roles vs 0.519 free-form. On each weak model of the run (--study-weak-models,
    default the embedded model), fixed roles beat free-form roles (Sequential) in Q, alpha 0.05."""
    weak = [m for m in sweep.MODEL_ROLES["weak"] if m in trials.models]
    if not weak:
        return claims.skip(f"no weak model in this run (weak: {sweep.MODEL_ROLES['weak']}; run has {trials.models})")
    return claims.beats(protocol_sweep(trials, ["fixed_roles", "sequential"]), "fixed_roles", "sequential",
                        metric=QUALITY, model=weak)


@claims.claim
def test_capability_threshold(trials):
    """Paper (capability threshold): free-form roles win above a capability threshold (Claude 0.594
    vs 0.574 fixed) and lose below it (GLM-5 0.519 vs 0.574). Tested as what it is, an interaction:
    (fixed - free) on the weak models minus (fixed - free) on the others is above zero, paired by
    task, alpha 0.05 (free-form = Sequential)."""
    weak = [m for m in sweep.MODEL_ROLES["weak"] if m in trials.models]
    strong = [m for m in trials.models if m not in sweep.MODEL_ROLES["weak"]]
    if not weak or not strong:
        return claims.skip(f"needs a weak and a stronger model in the run (weak: {weak or 'none'}, others: "
                           f"{strong or 'none'}; name them with --sorg-models and --study-weak-models)")
    return claims.interaction(protocol_sweep(trials, ["fixed_roles", "sequential"]), factor="model",
                              levels=(weak, strong), by="protocol", a="fixed_roles", b="sequential", metric=QUALITY)


@claims.claim
def test_shallow_hierarchies_emerge(trials):
    """Paper: hierarchies emerge without being imposed, and stay shallow. Where agents see each
    other's work and nothing imposes a reporting line (Sequential, Broadcast), the mean depth of
    the `defers_to` graph per task lies inside the declared interval (0, 2]: someone defers to
    someone (depth above 0), and chains stay at most two links long (two one-sided t tests)."""
    return claims.count(protocol_sweep(trials, ["sequential", "broadcast"]), metric="hierarchy_depth",
                        within=HIERARCHY_BAND)


@claims.claim
def test_cost_sublinear_to_256(trials):
    """Paper (Tables V, VI): the cost of a task grows far slower than the team (tokens +11.8% for 8x
    the agents). Claim: over the scaling sweep (4 to 256 agents), the log-log slope of a task's cost
    on team size is below 1, sub-linear (one-sided t, task-clustered)."""
    skip = _need("scaling", SCALING_CLAIM_PROTOCOLS, sweep.SCALING_SIZES)
    return skip or claims.growth(scaling_sweep(trials), factor="n_agents", metric="cost_usd", below=1.0)


def _open_closed(trials) -> tuple[list[str], list[str]] | claims.Verdict:
    have = set(trials.models)
    op = [m for m in sweep.MODEL_ROLES["open"] if m in have]
    cl = [m for m in sweep.MODEL_ROLES["closed"] if m in have]
    if not op or not cl:
        return claims.skip(f"needs an open and a closed model in the run (open: {op or 'none'}, closed: "
                           f"{cl or 'none'}; name them with --study-open-models / --study-closed-models)")
    return op, cl


@claims.claim
def test_open_quality_share(trials):
    """Paper (Table VIII): an open model reaches 95% of a closed model's Q. Ratio open / closed
    of Q, matched by task, seed, protocol and team size: non-inferiority at the declared margin
    OPEN_SHARE_MARGIN, and whether it is compatible with the paper's 0.95."""
    oc = _open_closed(trials)
    if isinstance(oc, claims.Verdict):
        return oc
    return claims.ratio(protocol_sweep(trials, sweep.PAPER), num=oc[0], den=oc[1], by="model", metric=QUALITY,
                        at_least=OPEN_SHARE_MARGIN, paper_ratio=paper.OPEN_QUALITY_SHARE)


@claims.claim
def test_open_price_factor(trials):
    """Paper (Table VIII): ... at about 24x lower price. Cost ratio closed / open at least
    PRICE_MARGIN (declared), and whether it is compatible with the paper's 24."""
    oc = _open_closed(trials)
    if isinstance(oc, claims.Verdict):
        return oc
    return claims.ratio(protocol_sweep(trials, sweep.PAPER), num=oc[1], den=oc[0], by="model", metric="cost_usd",
                        at_least=PRICE_MARGIN, paper_ratio=paper.OPEN_PRICE_FACTOR)


@sweep.on_recorded_model(
    "SmolLM2-135M (" + CORE_SWEEP + "): the coordinator's synthesis covers more of the "
    "checklist than sequential's collated contributions (coverage 0.246 vs 0.090, difference -0.156, 95% CI "
    "-0.221..-0.090, d_z -1.27; -0.111 [-0.165, -0.058] at equal answer length): the reverse of the study's "
    "headline, as the capability threshold predicts for a weak model")
@claims.claim
def test_coverage_sequential_vs_coordinator(trials):
    """The headline contrast on the deterministic score (ours): does Sequential's answer cover
    more of the task's checklist than the Coordinator's? One-sided Wilcoxon, alpha 0.05."""
    return claims.beats(protocol_sweep(trials, ["sequential", "coordinator"]), "sequential", "coordinator",
                        metric=COVERAGE)
