"""Built-in SQL tests: `-- test: NAME` blocks of statements and `-- expect` comments.

A test file is SQL. Each `-- test: NAME` comment starts a test that runs until the next one;
statements before the first test are the file's setup, run at the start of every test. Each
test runs in a transaction that is rolled back afterwards, so tests see only the migrated and
seeded database, never each other's changes (MariaDB commits DDL implicitly: a test that runs
DDL there changes what later tests see).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from dbfleet.engines.base import Connection, Dialect, Statement, StatementError
from dbfleet.errors import DbfleetError, SplitError
from dbfleet.sqltest.discover import SqlFile
from dbfleet.sqltest.expect import Expectation, check_rows, is_expect_comment, parse_comments
from dbfleet.sqltest.outcome import Outcome

_TEST = re.compile(r"^--\s*test\s*:(?P<name>.*)$", re.I)
_SAVEPOINT = "dbfleet_expect_error"


@dataclass(frozen=True)
class Step:
    """One statement of a test, with the line it starts on and what it must do."""

    sql: str
    line: int
    expect: Expectation | None = None


@dataclass(frozen=True)
class Test:
    name: str
    line: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class TestScript:
    file: str
    setup: tuple[Step, ...]
    tests: tuple[Test, ...]


def parse(file: SqlFile, dialect: Dialect) -> TestScript:
    """Cut a test file into its setup and its tests (the engine's own splitter finds the
    statements, so a `-- test:` inside a string or a routine body is not a directive)."""
    text = file.text.removeprefix("\ufeff")
    try:
        statements = dialect.split(text)
    except SplitError as exc:
        raise DbfleetError(f"{file.name}:{exc.line}: {exc.message}") from None
    setup: list[Step] = []
    tests: list[Test] = []
    name: str | None = None
    name_line = 0
    steps: list[Step] = []

    def close_test() -> None:
        if name is not None:
            if not steps:
                raise DbfleetError(f"{file.name}:{name_line}: test '{name}' has no statements")
            tests.append(Test(name, name_line, tuple(steps)))

    cursor = 0
    for statement in statements:
        comments = _leading_comments(statement, dialect)
        if cursor:
            _check_same_line(comments, text.count("\n", 0, cursor) + 1, file.name)
        for number, comment in comments:
            match = _TEST.match(comment)
            if match:
                close_test()
                name, name_line, steps = match["name"].strip(), number, []
                if not name:
                    raise DbfleetError(
                        f"{file.name}:{number}: '-- test:' without a name",
                        hint="write -- test: what it proves",
                    )
        step = Step(statement.text, statement.line, parse_comments(comments, file.name))
        (steps if name is not None else setup).append(step)
        found = text.find(statement.text, cursor)
        # Statements are cut verbatim from the text, so each is found; if not, check no tail.
        cursor = found + len(statement.text) if found >= 0 else len(text)
    _check_tail(text, cursor, file.name)
    close_test()
    if not tests:
        raise DbfleetError(f"{file.name}: no '-- test: NAME' block outside strings and comments")
    return TestScript(file.name, tuple(setup), tuple(tests))


def _leading_comments(statement: Statement, dialect: Dialect) -> list[tuple[int, str]]:
    """The `--` comment lines before a statement's code, with their line numbers."""
    match = dialect.leading_noise.match(statement.text)
    lead = match[0] if match else ""
    first = statement.line - lead.count("\n")
    return [
        (first + i, line.strip())
        for i, line in enumerate(lead.split("\n"))
        if line.strip().startswith("--")
    ]


def _check_same_line(comments: list[tuple[int, str]], line: int, name: str) -> None:
    """`SELECT 1; -- expect: 1` would check the statement after it: refuse it."""
    for number, comment in comments:
        if number == line and (is_expect_comment(comment) or _TEST.match(comment)):
            raise DbfleetError(
                f"{name}:{line}: '{comment}' follows a statement on the same line",
                hint="put it on its own line, before the statement it is about",
            )


def _check_tail(text: str, cursor: int, name: str) -> None:
    """Directives after the last statement have nothing to apply to: say so."""
    line = text.count("\n", 0, cursor) + 1
    tail = text[cursor:].split("\n", 1)[0].strip().lstrip(";").strip()
    if cursor:
        _check_same_line([(line, tail)], line, name)
    for offset, raw in enumerate(text[cursor:].split("\n")):
        stripped = raw.strip().lstrip(";").strip()
        if is_expect_comment(stripped):
            raise DbfleetError(
                f"{name}:{line + offset}: unterminated expectation: '{stripped}' is not "
                "followed by a statement",
                hint="put the query it checks right after it",
            )
        match = _TEST.match(stripped)
        if match:
            raise DbfleetError(
                f"{name}:{line + offset}: test '{match['name'].strip()}' has no statements"
            )


# --- running ----------------------------------------------------------------------------------


def run(conn: Connection, script: TestScript) -> list[Outcome]:
    """Run each test in its own transaction, rolled back afterwards."""
    outcomes = []
    for test in script.tests:
        started = time.perf_counter()
        problem: tuple[str, str] | None = None
        conn.begin()
        try:
            for step in (*script.setup, *test.steps):
                problem = _run_step(conn, step, script.file)
                if problem:
                    break
        finally:
            with suppress(DbfleetError):  # a broken connection has rolled back already
                conn.rollback()
        message, details = problem or ("", "")
        outcomes.append(
            Outcome(
                name=test.name,
                file=script.file,
                line=test.line,
                kind="sql",
                status="failed" if problem else "passed",
                message=message,
                details=details,
                seconds=time.perf_counter() - started,
            )
        )
    return outcomes


def _run_step(conn: Connection, step: Step, file: str) -> tuple[str, str] | None:
    """None when the statement did what it must; else (one-line message, details)."""
    shown = conn.dialect.summary(Statement(step.sql, step.line))
    where = f"{file}:{step.line}"
    expect = step.expect
    if expect is not None and expect.error is not None:
        return _expect_error(conn, step, expect.error, where, shown)
    try:
        if expect is None:
            conn.execute(step.sql)
            return None
        rows = conn.query(step.sql)
    except StatementError as exc:
        return f"{where}: statement failed: {exc.message}", shown
    mismatch = check_rows(expect, rows)
    if mismatch is None:
        return None
    return f"{where}: {mismatch.summary}", f"{shown}\n{mismatch.details}"


def _expect_error(
    conn: Connection, step: Step, text: str, where: str, shown: str
) -> tuple[str, str] | None:
    # A savepoint keeps the transaction usable after the error (PostgreSQL aborts it otherwise).
    conn.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        conn.execute(step.sql)
    except StatementError as exc:
        conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        if text.lower() in exc.message.lower():
            return None
        return (
            f"{where}: failed with another error than expected",
            f"{shown}\nexpected: an error containing '{text}'\nactual:   {exc.message}",
        )
    conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    return (
        f"{where}: succeeded, but an error was expected",
        f"{shown}\nexpected: an error containing '{text}'\nactual:   no error",
    )


def count(scripts: Sequence[TestScript]) -> int:
    return sum(len(s.tests) for s in scripts)
