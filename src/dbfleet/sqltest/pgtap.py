"""pgTAP files on PostgreSQL: run them in a transaction, turn each TAP line into a test case.

A pgTAP file is SQL as pg_prove runs it: `SELECT plan(n); SELECT ok(...); ...
SELECT * FROM finish();` or `SELECT * FROM runtests();`. dbfleet runs it inside a transaction
that it rolls back, so the file's own BEGIN/COMMIT/ROLLBACK and psql meta-commands (`\\set`,
`\\pset`) are left out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from dbfleet.engines.base import Connection, StatementError
from dbfleet.errors import DbfleetError, SplitError
from dbfleet.sqltest.discover import SqlFile
from dbfleet.sqltest.outcome import Outcome, Status

ENGINE = "postgresql"  # pgTAP is a PostgreSQL extension
EXTENSION = "pgtap"
_META = re.compile(r"^[ \t]*\\[^\n]*$", re.M)
_TRANSACTION = re.compile(
    r"^(?:BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b(?!\s+(?:TO|PREPARED)\b)", re.I
)
_RETURNS_ROWS = re.compile(r"^(?:SELECT|WITH|VALUES|TABLE|SHOW)\b", re.I)
_ASSERTION = re.compile(r"^(?P<not>not\s+)?ok\b\s*(?P<number>\d+)?\s*(?:-\s*)?(?P<rest>.*)$", re.I)
_PLAN = re.compile(r"^1\.\.(?P<count>\d+)")
_DIRECTIVE = re.compile(r"(?<!\\)#\s*(?P<kind>skip|todo)\S*\s*(?P<reason>.*)$", re.I)


@dataclass(frozen=True)
class Assertion:
    """One TAP test line (`ok 3 - description # SKIP reason`) and the diagnostics about it."""

    number: int
    ok: bool
    description: str
    directive: str | None  # "skip" | "todo"
    reason: str
    diagnostics: tuple[str, ...]
    line: int  # the file line of the statement whose output it was


@dataclass(frozen=True)
class Tap:
    plan: int | None
    assertions: tuple[Assertion, ...]


def parse_tap(output: Sequence[tuple[int, str]]) -> Tap:
    """TAP lines (each with the file line that printed it) -> the plan and the assertions.

    Diagnostics (`# ...`) belong to the assertion before them; indented lines (the subtests
    of runtests()) to the summary assertion after them.
    """
    plan: int | None = None
    assertions: list[Assertion] = []
    diagnostics: list[str] = []  # of the last assertion
    pending: list[str] = []  # indented subtest lines, for the next assertion

    def flush() -> None:
        if assertions and diagnostics:
            last = assertions[-1]
            assertions[-1] = Assertion(
                last.number,
                last.ok,
                last.description,
                last.directive,
                last.reason,
                last.diagnostics + tuple(diagnostics),
                last.line,
            )
        diagnostics.clear()

    for line, text in output:
        if text[:1] in (" ", "\t"):
            pending.append(text.strip())
            continue
        text = text.rstrip()
        plan_match = _PLAN.match(text)
        if plan_match:
            plan = int(plan_match["count"])
            continue
        if text.startswith("#"):
            note = text[1:].strip()
            if not note.startswith("Looks like you"):  # dbfleet counts for itself
                diagnostics.append(note)
            continue
        match = _ASSERTION.match(text)
        if match is None:
            continue  # anything else (a SELECT of the user's own) is not TAP
        flush()
        rest = match["rest"]
        directive = _DIRECTIVE.search(rest)
        description = (rest[: directive.start()] if directive else rest).strip()
        assertions.append(
            Assertion(
                number=int(match["number"]) if match["number"] else len(assertions) + 1,
                ok=not match["not"],
                description=description.replace("\\#", "#"),
                directive=directive["kind"].lower() if directive else None,
                reason=directive["reason"].strip() if directive else "",
                diagnostics=tuple(pending),
                line=line,
            )
        )
        pending.clear()
    flush()
    return Tap(plan, tuple(assertions))


def available(conn: Connection) -> bool:
    """Whether the server can CREATE EXTENSION pgtap."""
    rows = conn.query(f"SELECT 1 FROM pg_available_extensions WHERE name = '{EXTENSION}'")
    return bool(rows)


def install(conn: Connection) -> None:
    conn.execute(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}")


def run(conn: Connection, file: SqlFile) -> list[Outcome]:
    """Run one pgTAP file in a transaction rolled back afterwards; one Outcome per assertion."""
    started = time.perf_counter()
    text = _META.sub("", file.text)  # psql meta-commands; the lines stay, so numbers hold
    try:
        statements = conn.dialect.split(text)
    except SplitError as exc:
        raise DbfleetError(f"{file.name}:{exc.line}: {exc.message}") from None
    output: list[tuple[int, str]] = []
    failure: Outcome | None = None
    conn.begin()
    try:
        for statement in statements:
            match = conn.dialect.leading_noise.match(statement.text)
            code = statement.text[match.end() if match else 0 :]
            if _TRANSACTION.match(code):
                continue  # dbfleet holds the transaction
            try:
                if _RETURNS_ROWS.match(code):
                    for row in conn.query(statement.text):
                        for value in row:  # TAP is text; other values are not TAP lines
                            if isinstance(value, str):
                                output += [(statement.line, t) for t in value.split("\n")]
                else:
                    conn.execute(statement.text)
            except StatementError as exc:
                line = conn.dialect.error_line(statement, exc.position)
                failure = Outcome(
                    name=f"{file.name} ran to its end",
                    file=file.name,
                    line=line,
                    kind="pgtap",
                    status="error",
                    message=f"{file.name}:{line}: statement failed: {exc.message}",
                    details=conn.dialect.summary(statement),
                )
                break
    finally:
        with suppress(DbfleetError):
            conn.rollback()
    tap = parse_tap(output)
    if failure is not None:  # the file stopped short: its plan cannot hold, say why instead
        tap = Tap(None, tap.assertions)
    outcomes = _outcomes(file.name, tap, time.perf_counter() - started)
    if failure is not None:
        outcomes.append(failure)
    elif not outcomes:
        outcomes.append(
            Outcome(
                name=f"{file.name} printed TAP",
                file=file.name,
                line=1,
                kind="pgtap",
                status="error",
                message=f"{file.name}: no TAP output",
                details="a pgTAP file calls SELECT plan(n), its assertions and "
                "SELECT * FROM finish(), or SELECT * FROM runtests()",
            )
        )
    return outcomes


def _outcomes(name: str, tap: Tap, seconds: float) -> list[Outcome]:
    share = seconds / max(1, len(tap.assertions))
    outcomes = []
    for a in tap.assertions:
        status: Status = "passed" if a.ok else "failed"
        message = ""
        if a.directive == "skip":
            status, message = "skipped", a.reason or "skipped"
        elif a.directive == "todo" and not a.ok:
            status, message = "skipped", f"TODO {a.reason}".strip()
        elif not a.ok:
            message = f"{name}:{a.line}: not ok {a.number} - {a.description}"
        outcomes.append(
            Outcome(
                name=a.description or f"assertion {a.number}",
                file=name,
                line=a.line,
                kind="pgtap",
                status=status,
                message=message,
                details="\n".join(a.diagnostics),
                seconds=share,
            )
        )
    if tap.plan is not None and tap.plan != len(tap.assertions):
        line = tap.assertions[-1].line if tap.assertions else 1
        outcomes.append(
            Outcome(
                name=f"{name} plan",
                file=name,
                line=line,
                kind="pgtap",
                status="failed",
                message=f"{name}: planned {tap.plan} assertion(s) but ran {len(tap.assertions)}",
            )
        )
    return outcomes
