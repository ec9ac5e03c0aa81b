"""Errors are types: each says what went wrong and what to do next.

They live in one module so that every layer (model door, tasks, protocols, plugin) raises
and catches the same classes without importing each other.
"""

from __future__ import annotations


class SorgError(Exception):
    """Base of every error sorg raises on purpose."""


class CassetteMiss(SorgError):
    """A request has no recorded reply and the record mode forbids a live call.

    `run_wide`: the model has no recording at all, or `cause` says why every trial misses
    alike (a generation setting no recording has, prompts changed); the plugin reports such a
    fault once for the run.
    """

    run_wide: bool = False
    cause: str = ""


class CassetteCorrupt(SorgError):
    """A cassette file has a line that cannot be read; the message names file and line."""


class BudgetExceeded(SorgError):
    """The run's shared USD budget is spent; finished work is kept, no further live calls."""


class ModelError(SorgError):
    """A provider call failed after retries; carries the provider's own message."""


class WriteFailed(ModelError):
    """A paid reply could not be written (a full disk): the trial fails once, cleanly, as a
    resumable error, and the reply is kept where the message says (`sorg.model.unsaved`)."""


class LocalModelUnavailable(SorgError):
    """The embedded model was asked for but the `local` extra is not installed or failed."""


class TaskBankError(SorgError):
    """A task file is invalid; the message names the file, the task id and the field."""


class StoreCorrupt(SorgError):
    """A trial store (trials.jsonl) has a line that cannot be read; names file and line."""


class StoreWriteFailed(SorgError, OSError):
    """A trial record could not be written (a full disk); the store holds whole lines only."""


class RunInUse(SorgError):
    """Another process holds the run directory (two runs with the same --sorg-run-id at once)."""


class LockTimeout(SorgError, TimeoutError):
    """A lock shared between processes was not taken in time; names the file and its lock file."""


class RegistryError(SorgError):
    """A protocol or scorer cannot be registered (two parts under one name, an object that is
    not a part, an entry point that does not load); the message names where it came from."""


class SettingError(SorgError, ValueError):
    """A setting has a bad value, whatever its source (a `--sorg-*` flag, a `SORG_*` environment
    variable, a `sorg_*` ini key, a `@pytest.mark.sorg` keyword): one type and one message shape,
    so a user sees the same error for the same mistake wherever it was made. The plugin shows it
    as one usage-error line, the `sorg` command as exit status 2.

    A ValueError too: code that parsed settings before this class existed catches ValueError.
    """

    def __init__(self, setting: str, value: object, source: str, why: str) -> None:
        self.setting, self.value, self.source, self.why = setting, value, source, why
        super().__init__(f"bad value {value!r} for setting {setting} (from {source}): {why}")

    def __reduce__(self) -> tuple[type[SettingError], tuple[str, object, str, str]]:
        # xdist and multiprocessing pickle exceptions; the default would pass only the message.
        return (SettingError, (self.setting, self.value, self.source, self.why))
