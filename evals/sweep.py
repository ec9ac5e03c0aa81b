"""The study's sweep, declared once: which protocols, team sizes and tasks each eval covers.

Claims and the recording script read these names, so what a claim is about (its protocols,
team sizes, levels) is declared here and does not change when an eval file or a protocol is
added.
"""

from __future__ import annotations

#: The model whose cassettes we commit.
MODEL = "local/smollm2-135m"
#: The paper's four evaluated protocols.
PAPER = ["coordinator", "sequential", "broadcast", "shared"]
#: The four bio-inspired protocols, as we define them (see each module's docstring).
BIO = ["stigmergic", "ripple", "morphogenetic", "clonal"]
#: The controls the paper's claims need.
CONTROLS = ["fixed_roles", "single"]
STUDY_PROTOCOLS = PAPER + BIO + CONTROLS
PAPER_AND_CONTROLS = PAPER + CONTROLS
#: Tasks per stream: one task per level (L1..L4), in level order.
STREAM_LENGTH = 4
#: Tasks per level in the n=4 streams: two streams per protocol and seed (eight tasks, six
#: domains); the n=8 streams hold the first task of each level.
TASKS_PER_LEVEL = 2
SEEDS = 2
#: The scaling sweep: the paper's four protocols on the first two level-1 tasks, one seed.
SCALING_PROTOCOLS = PAPER
SCALING_SIZES = [4, 8, 16]
SCALING_TASKS = 2
