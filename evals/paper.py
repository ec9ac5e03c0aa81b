"""The paper's figures, in one place: the data the study's claims read their thresholds from.

"Drop the Hierarchy and Roles" (Dochkina, arXiv 2603.28990, 2026), as read in docs/STUDY.md.
Why one module: a threshold typed into a claim drifts from the paper without anyone noticing;
here each figure is written once, each claim derives its threshold from it, and
tests/evals/test_paper_figures.py checks that docs/STUDY.md states the same numbers and that
every claim's threshold is the one derived here.
"""

from __future__ import annotations

#: Table III, the pilot: judged quality Q of the four evaluated protocols.
PILOT_Q = {"coordinator": 0.640, "sequential": 0.724, "broadcast": 0.510, "shared": 0.503}
#: The pilot's effect size between best and worst protocol (Cohen's d).
PILOT_D = 1.86
#: The significance the pilot ranking is claimed at.
PILOT_ALPHA = 0.0001
#: The "44% spread": best over worst protocol, minus one (0.724 / 0.503 = 1.439).
PILOT_SPREAD = round(PILOT_Q["sequential"] / PILOT_Q["shared"] - 1.0, 2)

#: The pilot's ranking gain: Coordinator over the mean of Broadcast and Shared (0.640 / 0.5065 = 1.26).
PILOT_RANKING_GAIN = round(PILOT_Q["coordinator"] / ((PILOT_Q["broadcast"] + PILOT_Q["shared"]) / 2) - 1.0, 2)

#: Table IV, L3 and N=16: Sequential vs Coordinator per model (Q).
TABLE_IV = {"claude": (0.875, 0.767), "deepseek": (0.829, 0.738), "glm-5": (0.800, 0.713)}
#: The headline: Sequential beats Coordinator by 14% relative (Claude's 0.875 / 0.767 = 1.141).
SEQ_OVER_COORD = round(TABLE_IV["claude"][0] / TABLE_IV["claude"][1] - 1.0, 2)
SEQ_OVER_COORD_ALPHA = 0.001

#: Tables V and VI: tokens from 8 to 64 agents, 3,164 -> 3,537 (+11.8%).
TOKENS_8, TOKENS_64 = 3164, 3537
TOKEN_GROWTH_8_TO_64 = round(TOKENS_64 / TOKENS_8 - 1.0, 3)
#: Q at N = 64..256 ("no degradation": Kruskal-Wallis H = 1.84, p = 0.61).
Q_AT_SCALE = 0.96
NO_DEGRADATION_H, NO_DEGRADATION_P = 1.84, 0.61

#: Self-abstention at 256 agents: "about 45%".
ABSTENTION_256 = 0.45
#: Unique roles the agents invented, from teams of 8, over the study's 25,000+ tasks.
UNIQUE_ROLES, UNIQUE_ROLES_TEAM, STUDY_TASKS = 5006, 8, 25000

#: Capability threshold: free-form roles vs fixed roles, Q (Claude above, GLM-5 below).
FREE_VS_FIXED = {"claude": (0.594, 0.574), "glm-5": (0.519, 0.574)}

#: Table VIII: an open model reaches 95% of a closed model's quality at about 24x lower price.
OPEN_QUALITY_SHARE = 0.95
OPEN_PRICE_FACTOR = 24.0

#: The judge's Q range: (acc + comp + coh + act) / 16 with each dimension 1..4.
Q_RANGE = (0.25, 1.0)
