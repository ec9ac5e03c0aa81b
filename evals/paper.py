"""The paper's figures, in one place: the data the study's claims read their thresholds from.

"Drop the Hierarchy and Roles" (Dochkina, arXiv 2603.28990, 2026), as read in docs/STUDY.md.
Why one module: a threshold typed into a claim drifts from the paper without anyone noticing;
here each figure is written once, each claim derives its threshold from it, and
tests/evals/test_paper_figures.py checks that docs/STUDY.md states the same numbers and that
every claim's threshold is the one derived here.

Each constant's `#:` comment cites where the figure comes from, as docs/STUDY.md "Where each
figure comes from" does: "Source:" (the paper's table, or "no table") and "Condition:" (model,
level, team size, protocol set, N of tasks), with "condition not reported" wherever the reading
of the paper gives none (tests/evals/test_paper_figures.py checks both agree).
"""

from __future__ import annotations

#: The pilot: judged quality Q of the four evaluated protocols.
#: Source: Table III. Condition: the four evaluated protocols; model, level, team size, N of tasks: condition not
#: reported.
PILOT_Q = {"coordinator": 0.640, "sequential": 0.724, "broadcast": 0.510, "shared": 0.503}
#: The pilot's effect size (Cohen's d), stated beside the 44% spread.
#: Source: Table III. Condition: the pair it compares, model, level, team size, N of tasks: condition not reported.
PILOT_D = 1.86
#: The significance the pilot spread claim is decided at: the conventional 0.05, sorg's choice.
#: Source: no table; the reading of the paper reports no p-value for the pilot (docs/STUDY.md; the pilot
#: gives Q, the 44% spread and d = 1.86 only). Condition: condition not reported.
PILOT_ALPHA = 0.05
#: The "44% spread": best over worst protocol, minus one (0.724 / 0.503 = 1.439).
#: Source: Table III (derived from its Q values). Condition: the four evaluated protocols; model, level, team size, N of
#: tasks: condition not reported.
PILOT_SPREAD = round(PILOT_Q["sequential"] / PILOT_Q["shared"] - 1.0, 2)

#: The pilot's ranking gain: Coordinator over the mean of Broadcast and Shared (0.640 / 0.5065 = 1.26).
#: Source: Table III (not a figure of the paper: sorg's derivation from its Q values). Condition: the four evaluated
#: protocols; model, level, team size, N of tasks: condition not reported.
PILOT_RANKING_GAIN = round(PILOT_Q["coordinator"] / ((PILOT_Q["broadcast"] + PILOT_Q["shared"]) / 2) - 1.0, 2)

#: Sequential vs Coordinator per model (Q).
#: Source: Table IV. Condition: level L3, team size N = 16, Sequential and Coordinator, models Claude, DeepSeek, GLM-5;
#: N of tasks: condition not reported.
TABLE_IV = {"claude": (0.875, 0.767), "deepseek": (0.829, 0.738), "glm-5": (0.800, 0.713)}
#: The headline: Sequential beats Coordinator by 14% relative (Claude's 0.875 / 0.767 = 1.141).
#: Source: Table IV, Claude's row. Condition: level L3, team size N = 16, Sequential and Coordinator, models Claude,
#: DeepSeek, GLM-5; N of tasks: condition not reported.
SEQ_OVER_COORD = round(TABLE_IV["claude"][0] / TABLE_IV["claude"][1] - 1.0, 2)
#: The significance of Sequential over Coordinator (p < 0.001).
#: Source: Table IV. Condition: level L3, team size N = 16, Sequential and Coordinator, models Claude, DeepSeek, GLM-5;
#: N of tasks: condition not reported; the test (unnamed) and whether per model or pooled: condition not reported.
SEQ_OVER_COORD_ALPHA = 0.001

#: Tokens from 8 to 64 agents, 3,164 -> 3,537.
#: Source: Tables V, VI (which of the two: not reported). Condition: team sizes 8 and 64; model, level, protocol set, N
#: of tasks, per task or per agent: condition not reported.
TOKENS_8, TOKENS_64 = 3164, 3537
#: Their growth, +11.8% (3,537 / 3,164 - 1).
#: Source: Tables V, VI (derived). Condition: team sizes 8 and 64; model, level, protocol set, N of tasks: condition not
#: reported.
TOKEN_GROWTH_8_TO_64 = round(TOKENS_64 / TOKENS_8 - 1.0, 3)
#: Q at N = 64..256: about 0.96.
#: Source: Tables V, VI. Condition: team sizes 64..256; model, level, protocol set, N of tasks: condition not reported.
Q_AT_SCALE = 0.96
#: "No degradation" from 64 to 256 agents: Kruskal-Wallis H = 1.84, p = 0.61.
#: Source: Tables V, VI. Condition: over N = 64..256; model, level, protocol set, N of tasks: condition not reported.
NO_DEGRADATION_H, NO_DEGRADATION_P = 1.84, 0.61

#: Self-abstention at 256 agents: "about 45%".
#: Source: no table (the metrics the paper reports). Condition: team size 256; model, level, protocol set, N of tasks:
#: condition not reported.
ABSTENTION_256 = 0.45
#: Unique roles the agents invented (5,006) in teams of 8; the study's 25,000+ tasks. That the 5,006 came over
#: all 25,000 tasks is sorg's assumption (the roles claim divides one by the other).
#: Source: no table (the metrics the paper reports; the set-up). Condition: teams of 8 agents; model, level, protocol
#: set, N of tasks behind the 5,006: condition not reported.
UNIQUE_ROLES, UNIQUE_ROLES_TEAM, STUDY_TASKS = 5006, 8, 25000

#: Capability threshold: free-form roles vs fixed roles, Q (Claude above, GLM-5 below).
#: Source: no table (the capability threshold). Condition: models Claude and GLM-5; level, team size, which protocol is
#: free-form, N of tasks: condition not reported.
FREE_VS_FIXED = {"claude": (0.594, 0.574), "glm-5": (0.519, 0.574)}

#: An open model reaches 95% of a closed model's quality at about 24x lower price.
#: Source: Table VIII. Condition: DeepSeek (open) vs Claude (closed); level, team size, protocol set, N of tasks:
#: condition not reported.
OPEN_QUALITY_SHARE = 0.95
#: The price factor of that open model: about 24x lower than the closed one's.
#: Source: Table VIII. Condition: DeepSeek (open) vs Claude (closed); level, team size, protocol set, N of tasks:
#: condition not reported.
OPEN_PRICE_FACTOR = 24.0

#: The judge's Q range: (acc + comp + coh + act) / 16 with each dimension 1..4.
#: Source: no table (the judge's definition). Condition: every judged answer; a study condition does not apply.
Q_RANGE = (0.25, 1.0)
