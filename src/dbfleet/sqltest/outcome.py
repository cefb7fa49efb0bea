"""What running a test produced: one Outcome per test case, and the report formats built on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["passed", "failed", "error", "skipped"]
Kind = Literal["sql", "pgtap", "undo", "migrate"]


@dataclass(frozen=True)
class Outcome:
    """One test case: a `-- test:` block, a pgTAP assertion, or one version of the undo check.

    `message` is one line (why it failed, was skipped or could not run); `details` the long
    text: the statement, expected vs actual, a schema diff.
    """

    name: str
    file: str  # project-relative, as the user wrote it
    line: int
    kind: Kind
    status: Status
    message: str = ""
    details: str = ""
    seconds: float = 0.0

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    errors: int
    skipped: int

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Summary:
        def count(status: Status) -> int:
            return sum(o.status == status for o in outcomes)

        return cls(count("passed"), count("failed"), count("error"), count("skipped"))

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0

    def __str__(self) -> str:
        return (
            f"{self.passed} passed, {self.failed} failed, {self.errors} error(s), "
            f"{self.skipped} skipped"
        )


def to_junit(outcomes: Sequence[Outcome]) -> str:
    """JUnit XML: one suite per test file (and one for the undo check)."""
    from dbfleet.report.junit import Case, Suite, render_junit

    suites: dict[str, list[Case]] = {}
    for o in outcomes:
        suite = {"undo": "undo-check", "migrate": "migrations"}.get(o.kind, o.file)
        suites.setdefault(suite, []).append(
            Case(
                name=o.name,
                classname=suite,
                seconds=o.seconds,
                failure=(o.message or "failed") if o.status == "failed" else None,
                error=(o.message or "error") if o.status == "error" else None,
                skipped=(o.message or "skipped") if o.status == "skipped" else None,
                details=o.details,
                file=o.file,
                line=o.line or None,
            )
        )
    return render_junit([Suite(name, cases) for name, cases in suites.items()])


def to_json(outcomes: Sequence[Outcome], **context: Any) -> dict[str, Any]:
    summary = Summary.of(outcomes)
    return {
        **context,
        "ok": summary.ok,
        "summary": {
            "passed": summary.passed,
            "failed": summary.failed,
            "errors": summary.errors,
            "skipped": summary.skipped,
        },
        "tests": [
            {
                "name": o.name,
                "kind": o.kind,
                "file": o.file,
                "line": o.line,
                "status": o.status,
                "message": o.message,
                "details": o.details,
                "seconds": round(o.seconds, 4),
            }
            for o in outcomes
        ],
    }
