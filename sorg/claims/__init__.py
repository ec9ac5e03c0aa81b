"""Claims: statistical assertions a researcher writes as pytest tests.

A claim function takes `trials` (a `sorg.results.Trials` of the session) and returns a
`Verdict` from one of the claim kinds here. The plugin evaluates every claim once, after all
trials, then calls `finalize` so p-values are Holm-adjusted (one family over all claims, each
against its own alpha) before anything is declared passed. Why this shape:

- Judged at the unit the claim generalises over (tasks by default, `unit="stream"` or any
  field): trials are matched like for like (task, seed, model, team size), averaged within
  each unit, and the test sees one number per unit, with a small-sample-correct reference
  (exact signed-rank, sign flips, t with G - 1 df). Three seeds of one task are not three tasks.
- One analysis decides and prints: the test decides the estimand the verdict prints, and the
  interval in the verdict is the same test's interval (`details["decision_ci"]` decides).
- Honest small samples: a design that cannot reach its alpha (with G non-zero units no p below
  2**-G; Holm and each test's own floor included) is "undecidable", naming the units it
  needs; no variance or one unit never gives certainty.
- Replication: a claim stated with the paper's figure (`paper_rel_effect=` and kin) tests the
  paper's null and says separately whether its interval holds the figure.
- Equivalence is shown, not assumed (TOST within a declared margin).
- Missing data never passes: a claim with no trials for an arm is skipped naming the arm.
"""

from sorg.claims._common import DESIGN_FACTORS
from sorg.claims.compare import beats, equivalent
from sorg.claims.interaction import interaction
from sorg.claims.scale import count, growth, ratio
from sorg.claims.session import Plan, finalize, plan, required_n
from sorg.claims.spread import spread
from sorg.claims.verdict import Verdict, claim


def skip(reason: str, name: str = "skipped claim", statement: str = "") -> Verdict:
    """A verdict that is neither passed nor failed, with the reason shown in the report."""
    if not reason:
        raise ValueError("skip() needs a reason")
    return Verdict(name=name, kind="skip", statement=statement or name, skip_reason=reason)


__all__ = ["DESIGN_FACTORS", "Plan", "Verdict", "beats", "claim", "count", "equivalent", "finalize", "growth",
           "interaction", "plan", "ratio", "required_n", "skip", "spread"]
