"""The eight coordination protocols of the study, one module each, one registry by name.

The name is what appears in test ids, trial records and reports.
"""

from __future__ import annotations

from sorg.protocols.base import Protocol, Team
from sorg.protocols.broadcast import Broadcast
from sorg.protocols.coordinator import Coordinator
from sorg.protocols.dynamic import Dynamic
from sorg.protocols.fixed_roles import FixedRoles
from sorg.protocols.hierarchical import Hierarchical
from sorg.protocols.sequential import Sequential
from sorg.protocols.shared import Shared
from sorg.protocols.single import Single

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (Coordinator(), Hierarchical(), FixedRoles(), Sequential(), Broadcast(), Shared(),
              Dynamic(), Single())
}

__all__ = ["PROTOCOLS", "Protocol", "Team"]
