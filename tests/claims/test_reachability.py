"""Issue 27, reachability: an undecidable claim's "needs N" is the count that makes it
decidable where it is judged, at its Holm step in the family and at the observed share of
tied tasks, not its own floor alone (which would promise 5 tasks where Holm needs 7)."""

from __future__ import annotations

import pytest

from sorg import claims
from sorg.results import Trials
from tests.fakes.sorg_synth import make_record


def _family(tasks: int, models: int = 4, tied: int = 0) -> list[claims.Verdict]:
    """`models` beats claims (one per model) on the same `tasks` tasks, A above B on each task
    by a task-specific margin, plus `tied` tasks where A equals B."""
    recs = []
    for m in range(models):
        for i in range(tasks + tied):
            d = 0.0 if i >= tasks else 0.1 + 0.01 * i
            for proto, q in (("A", 0.5 + d), ("B", 0.5)):
                recs.append(make_record(task_id=f"t{i}", seed=0, model=f"m{m}", protocol=proto,
                                        quality={"judge_q": q}))
    t = Trials(recs)
    return [claims.beats(t, "A", "B", model=f"m{m}", alpha=0.05) for m in range(models)]


def test_needs_counts_the_holm_step_of_a_family_of_four() -> None:
    alone = _family(4)
    assert all("needs 5 non-zero tasks, has 4" in v.skip_reason for v in alone)  # its own floor 2^-5 < 0.05
    out = claims.finalize(alone)
    assert all(v.outcome == "undecidable" and v.power == 0 for v in out)
    assert all(v.skip_reason.startswith("cannot be decided with this design: needs 7 non-zero tasks, has 4; "
                                        "counted at its Holm step across 4 claims") for v in out)
    assert out[0].details["units_needed"] == 7 and claims.finalize(out) == out
    # the count is the boundary: 6 tasks are still undecidable under Holm, 7 pass
    six = claims.finalize(_family(6))
    assert all(v.outcome == "undecidable" and "needs 7 non-zero tasks, has 6" in v.skip_reason for v in six)
    seven = claims.finalize(_family(7))
    assert all(v.passed is True and v.n_family == 4 for v in seven)


def test_a_single_claim_keeps_its_own_floor() -> None:
    (v,) = claims.finalize(_family(4, models=1))
    assert "needs 5 non-zero tasks, has 4 (smallest" in v.skip_reason and "Holm" not in v.skip_reason


@pytest.mark.parametrize("tied,total", [(4, 14), (2, 11)])
def test_needs_counts_the_observed_share_of_tied_tasks(tied: int, total: int) -> None:
    """4 non-zero and `tied` tied tasks: Holm over 4 claims needs 7 non-zero tasks, i.e. about
    7 / (1 - tie share) tasks; the plan says so rather than promising power."""
    out = claims.finalize(_family(4, tied=tied))
    share = round(100 * tied / (4 + tied))
    assert all(f"needs 7 non-zero tasks, has 4 (about {total} tasks at the observed {share}% tied)" in v.skip_reason
               for v in out)
    assert out[0].details["units_needed_total"] == total
    pl = claims.plan(out[0])
    assert pl.n_needed is None and f"about {total} tasks" in pl.note
    # and that many tasks at the same share suffice
    grown = claims.finalize(_family(total - round(total * tied / (4 + tied)), tied=round(total * tied / (4 + tied))))
    assert all(v.passed is True for v in grown)
