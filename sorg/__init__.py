"""sorg: experiments on multi-agent LLM coordination, written as pytest tests.

`from sorg import ...` gives what a researcher writes with: claims (`claim`, the claim kinds,
`Verdict`), `Trials`, `Protocol` and `Team`, `Task` and `load_bank`, `Scorer` and
`register_scorer`, the `protocol` registration decorator, `run_trial` / `run_stream`,
`ModelClient` and `register_backend`, and the errors. Anything not in `__all__` is an
implementation detail and may change.

Importing sorg is cheap on purpose (no litellm, no scipy, no numpy): replay and reporting must
start fast and must not need a model provider's SDK. So the public names load lazily, on first
use, through the module `__getattr__` below; the `TYPE_CHECKING` block gives type checkers and
editors the same names (tests/test_public_api.py keeps the two lists equal).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it (imported on first use).
_LAZY: dict[str, str] = {
    # claims: the decorator, the verdict, the claim kinds
    "claim": "sorg.claims",
    "Verdict": "sorg.claims",
    "beats": "sorg.claims",
    "equivalent": "sorg.claims",
    "spread": "sorg.claims.spread",  # the function, named like its module
    "interaction": "sorg.claims.interaction",  # likewise
    "growth": "sorg.claims",
    "ratio": "sorg.claims",
    "count": "sorg.claims",
    # the trials a claim reads
    "Trials": "sorg.results",
    # protocols
    "Protocol": "sorg.protocols",
    "Team": "sorg.protocols",
    "protocol": "sorg.protocols",
    "collate": "sorg.protocols",
    "contributions": "sorg.protocols",
    # tasks
    "Task": "sorg.tasks",
    "load_bank": "sorg.tasks",
    # scorers
    "Scorer": "sorg.scoring",
    "Score": "sorg.scoring",
    "ScoreContext": "sorg.scoring",
    "register_scorer": "sorg.scoring",
    # running trials
    "run_trial": "sorg.trial",
    "run_stream": "sorg.trial",
    # the model door and its backends
    "ModelClient": "sorg.model.client",
    "Request": "sorg.model.types",
    "RawReply": "sorg.model.backends",
    "ProviderError": "sorg.model.backends",
    "register_backend": "sorg.model.backends",
    # errors
    "SorgError": "sorg.errors",
    "BudgetExceeded": "sorg.errors",
    "CassetteCorrupt": "sorg.errors",
    "CassetteMiss": "sorg.errors",
    "LocalModelUnavailable": "sorg.errors",
    "ModelError": "sorg.errors",
    "StoreCorrupt": "sorg.errors",
    "TaskBankError": "sorg.errors",
    "RegistryError": "sorg.errors",
    "LockTimeout": "sorg.errors",
    "SettingError": "sorg.errors",
}

__all__ = [
    "claim", "Verdict", "beats", "equivalent", "spread", "growth", "ratio", "count", "interaction",
    "Trials",
    "Protocol", "Team", "protocol", "collate", "contributions",
    "Task", "load_bank",
    "Scorer", "Score", "ScoreContext", "register_scorer",
    "run_trial", "run_stream",
    "ModelClient", "Request", "RawReply", "ProviderError", "register_backend",
    "SorgError", "BudgetExceeded", "CassetteCorrupt", "CassetteMiss", "LocalModelUnavailable", "ModelError",
    "StoreCorrupt", "TaskBankError", "RegistryError", "LockTimeout", "SettingError",
]

if TYPE_CHECKING:
    from sorg.claims import Verdict, beats, claim, count, equivalent, growth, ratio
    from sorg.claims.interaction import interaction
    from sorg.claims.spread import spread
    from sorg.errors import (
        BudgetExceeded,
        CassetteCorrupt,
        CassetteMiss,
        LocalModelUnavailable,
        LockTimeout,
        ModelError,
        RegistryError,
        SettingError,
        SorgError,
        StoreCorrupt,
        TaskBankError,
    )
    from sorg.model.backends import ProviderError, RawReply, register_backend
    from sorg.model.client import ModelClient
    from sorg.model.types import Request
    from sorg.protocols import Protocol, Team, collate, contributions, protocol
    from sorg.results import Trials
    from sorg.scoring import Score, ScoreContext, Scorer, register_scorer
    from sorg.tasks import Task, load_bank
    from sorg.trial import run_stream, run_trial


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        # AttributeError (not KeyError) so `from sorg import claims` falls back to the submodule.
        raise AttributeError(f"module 'sorg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once; later lookups never reach __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
