"""The coordination protocols, one module each, one registry by name.

The paper's four evaluated protocols (`coordinator`, `sequential`, `broadcast`, `shared`), its
four bio-inspired ones as we define them (`stigmergic`, `ripple`, `morphogenetic`, `clonal`),
two controls (`fixed_roles`, `single`) and two extras of ours (`hierarchical`, `dynamic`,
`study = False`). The name is what appears in test ids, trial records and reports.

`PROTOCOLS` is a registry (`sorg.protocols.register`): a user's protocol joins it with
`@protocol` or an entry point in group `sorg.protocols`, and is then run, swept by
`--sorg-protocols=all` and reported like these. A user's protocol gets what these get: its
answer (whatever `run` returns; `collate(contributions(replies))` hands in the team's work as the
self-organised ones do) is scored through the same bounded view (`sorg.scoring.view`), its calls
are counted and recorded the same way, and it renders into the prompt version.
"""

from __future__ import annotations

from sorg.protocols.base import Protocol, Team, collate, contributions
from sorg.protocols.broadcast import Broadcast
from sorg.protocols.clonal import Clonal
from sorg.protocols.coordinator import Coordinator
from sorg.protocols.dynamic import Dynamic
from sorg.protocols.fixed_roles import FixedRoles
from sorg.protocols.hierarchical import Hierarchical
from sorg.protocols.morphogenetic import Morphogenetic
from sorg.protocols.register import PROTOCOLS, FunctionProtocol, protocol
from sorg.protocols.ripple import Ripple
from sorg.protocols.sequential import Sequential
from sorg.protocols.shared import Shared
from sorg.protocols.single import Single
from sorg.protocols.stigmergic import Stigmergic

_SHIPPED = (Coordinator, Sequential, Broadcast, Shared, Stigmergic, Ripple, Morphogenetic, Clonal, FixedRoles,
            Single, Hierarchical, Dynamic)
for _cls in _SHIPPED:
    PROTOCOLS.register(_cls.name, _cls, "sorg.protocols (packaged)")
#: The protocols sorg ships, in registry order (a user's own come after them).
PACKAGED: tuple[str, ...] = tuple(cls.name for cls in _SHIPPED)
#: The paper's four evaluated protocols.
PAPER = ("coordinator", "sequential", "broadcast", "shared")
#: The paper's bio-inspired protocols, defined by us from their names.
BIO = ("stigmergic", "ripple", "morphogenetic", "clonal")
#: Controls the paper's claims need.
CONTROLS = ("fixed_roles", "single")


def study_protocols() -> list[str]:
    """Every registered protocol that is not marked as an extra, in registry order."""
    return [name for name, p in PROTOCOLS.items() if getattr(p, "study", True)]


__all__ = ["BIO", "CONTROLS", "PACKAGED", "PAPER", "PROTOCOLS", "FunctionProtocol", "Protocol", "Team", "collate",
           "contributions", "protocol", "study_protocols"]
