"""What lint reports: findings with a rule code, a severity and a place in a file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem at file:line:column, with the line it stands on and what to do instead."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str  # as shown to the user: relative to the project when inside it
    line: int
    column: int  # 1-based
    source_line: str = ""
    help: str = ""
    suppressed_by: str | None = field(default=None, compare=False)  # the reason, when suppressed

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class LintResult:
    """Everything one lint run found, per file, in file order."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]
    sizes_from: str | None = None  # the environment whose catalog gave table sizes

    @property
    def active(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed_by is None)

    @property
    def failed(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.active)
