"""Error types: each carries a message a user can act on; the CLI prints it as one line."""

from __future__ import annotations


class DbfleetError(Exception):
    """Base of every error dbfleet reports to a user (never with a traceback, unless --debug)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(DbfleetError):
    """dbfleet.toml, an environment variable or a command-line value is wrong."""


class UrlError(ConfigError):
    """A database URL cannot be understood."""


class ConnectError(DbfleetError):
    """The database cannot be reached or refuses the credentials."""


class SplitError(DbfleetError):
    """A script cannot be cut into statements (an unterminated string, comment or quote)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line

    @classmethod
    def unterminated(cls, script: str, start: int, what: str) -> SplitError:
        """`what` opened at index `start` of `script` is never closed."""
        line = script.count("\n", 0, start) + 1
        return cls(f"unterminated {what} starting on line {line}", line)


class MigrationFileError(DbfleetError):
    """A migration file is misnamed, duplicated, unreadable or otherwise unusable."""


class ValidationError(DbfleetError):
    """The applied history and the migration files disagree."""


class MigrationFailed(DbfleetError):
    """A statement of a migration failed while it was applied (`statement_index` counts from 0)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        statement_index: int = 0,
        in_callback: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.statement_index = statement_index
        self.in_callback = in_callback


class LockTimeout(DbfleetError):
    """Another dbfleet run holds the target's lock for longer than we were willing to wait."""
