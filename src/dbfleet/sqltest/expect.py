"""`-- expect` comments: their syntax, and whether a query's rows meet them (pure functions).

    -- expect: VALUE | VALUE ...   the next statement returns exactly this row; one such line
                                   per row when it returns several (in order)
    -- expect rows: N              the next statement returns N rows
    -- expect error: TEXT          the next statement fails, its error message containing TEXT

A VALUE is NULL, a number (compared as a number: 49 = 49.0 = 49.00), true/false (also
matching 1/0), 'quoted text' (exact; '' is a quote, and quotes keep spaces and |), or bare text
(compared with the value as text, surrounding spaces ignored).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from dbfleet.errors import DbfleetError

_DIRECTIVE = re.compile(r"^--\s*expect\b\s*(?P<rest>.*)$", re.I)
_FORM = re.compile(r"^(?P<form>rows|error)?\s*:(?P<value>.*)$", re.I | re.S)
SYNTAX = "-- expect: VALUE [| VALUE...], -- expect rows: N or -- expect error: TEXT"
MAX_SHOWN = 10  # rows shown in a failure


class ExpectationError(DbfleetError):
    """An `-- expect` comment that cannot be understood (with the line it is on)."""


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool = False

    def __str__(self) -> str:
        return "'" + self.text.replace("'", "''") + "'" if self.quoted else self.text


@dataclass(frozen=True)
class Expectation:
    """What one statement must do: return `rows`, return `count` rows, or fail with `error`."""

    line: int
    rows: tuple[tuple[Value, ...], ...] = ()
    count: int | None = None
    error: str | None = None


def is_expect_comment(line: str) -> bool:
    return _DIRECTIVE.match(line.strip()) is not None


def parse_comments(lines: Sequence[tuple[int, str]], where: str) -> Expectation | None:
    """The expectation stated by `-- expect` comment lines (line number, text), if any."""
    rows: list[tuple[Value, ...]] = []
    count: int | None = None
    error: str | None = None
    first = 0
    for number, raw in lines:
        match = _DIRECTIVE.match(raw.strip())
        if match is None:
            continue
        first = first or number
        form = _FORM.match(match["rest"])
        if form is None:
            raise ExpectationError(
                f"{where}:{number}: cannot read '{raw.strip()}'", hint=f"write {SYNTAX}"
            )
        kind, value = (form["form"] or "").lower(), form["value"].strip()
        if kind == "rows":
            if not value.isdigit():
                raise ExpectationError(
                    f"{where}:{number}: '-- expect rows:' needs a number, not '{value}'"
                )
            count = int(value)
        elif kind == "error":
            error = value
        else:
            if not value:
                raise ExpectationError(
                    f"{where}:{number}: '-- expect:' without a value",
                    hint="write the expected value; '' is the empty string, NULL is null",
                )
            rows.append(parse_row(value, f"{where}:{number}"))
    if not first:
        return None
    if sum(bool(x) for x in (rows, count is not None, error is not None)) > 1:
        raise ExpectationError(
            f"{where}:{first}: one statement has different kinds of '-- expect'",
            hint="use either rows (-- expect:), a row count (-- expect rows:) or an error",
        )
    return Expectation(first, tuple(rows), count, error)


def parse_row(text: str, where: str) -> tuple[Value, ...]:
    """`1 | 'a | b' | NULL` -> three values; a quote left open is an error."""
    values: list[Value] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == "'":
            literal: list[str] = []
            j = i + 1
            while True:
                if j >= n:
                    raise ExpectationError(
                        f"{where}: unterminated quoted value in the expectation",
                        hint="close it with ' (write '' for a quote inside)",
                    )
                if text[j] == "'":
                    if text[j + 1 : j + 2] == "'":
                        literal.append("'")
                        j += 2
                        continue
                    break
                literal.append(text[j])
                j += 1
            values.append(Value("".join(literal), quoted=True))
            i = j + 1
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] != "|":
                raise ExpectationError(
                    f"{where}: text after a quoted value: '{text[i:]}'",
                    hint="separate values with |",
                )
        else:
            bar = text.find("|", i)
            j = n if bar == -1 else bar
            values.append(Value(text[i:j].strip()))
            i = j
        if i >= n:
            return tuple(values)
        i += 1  # the | between two values


# --- checking ---------------------------------------------------------------------------------


def display(value: Any) -> str:
    """A database value as the user reads it (and as bare expected text is compared with)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def display_row(row: Sequence[Any]) -> str:
    return " | ".join(display(v) for v in row)


def matches(expected: Value, actual: Any) -> bool:
    if expected.quoted:
        return actual is not None and display(actual) == expected.text
    text = expected.text
    if text.upper() == "NULL":
        return actual is None
    if actual is None:
        return False
    if text.lower() in ("true", "false") and (
        isinstance(actual, bool) or (isinstance(actual, int) and actual in (0, 1))
    ):
        return bool(actual) == (text.lower() == "true")
    if isinstance(actual, int | float | Decimal) and not isinstance(actual, bool):
        try:
            return Decimal(text) == Decimal(str(actual))
        except InvalidOperation:
            return False
    return display(actual) == text


@dataclass(frozen=True)
class Mismatch:
    """How rows missed an expectation: a one-line summary and expected vs actual in full."""

    summary: str
    details: str


def check_rows(expectation: Expectation, rows: Sequence[Sequence[Any]]) -> Mismatch | None:
    """None when `rows` meet the expectation; else what differs."""
    if expectation.count is not None:
        if len(rows) == expectation.count:
            return None
        return Mismatch(
            f"expected {expectation.count} row(s), got {len(rows)}",
            f"expected: {expectation.count} row(s)\nactual:   {len(rows)} row(s)" + _shown(rows),
        )
    want = expectation.rows
    same = [
        i < len(rows)
        and len(rows[i]) == len(values)
        and all(matches(v, a) for v, a in zip(values, rows[i], strict=True))
        for i, values in enumerate(want)
    ]
    if len(rows) == len(want) and all(same):
        return None
    if len(want) == 1 and len(rows) == 1:
        expected, actual = " | ".join(map(str, want[0])), display_row(rows[0])
        return Mismatch(
            f"expected {expected}, got {actual}",
            f"expected: {expected}\nactual:   {actual}",
        )
    # Several rows: mark with ">" the rows that differ, on both sides.
    lines = [f"expected: {len(want)} row(s)"]
    lines += [
        ("  " if ok else "> ") + " | ".join(map(str, v)) for v, ok in zip(want, same, strict=True)
    ]
    lines.append(f"actual:   {len(rows)} row(s)")
    for i, row in enumerate(rows[:MAX_SHOWN]):
        lines.append(("  " if i < len(same) and same[i] else "> ") + display_row(row))
    if len(rows) > MAX_SHOWN:
        lines.append(f"  ... {len(rows) - MAX_SHOWN} more")
    differing = [str(i + 1) for i, ok in enumerate(same) if not ok]
    if len(rows) != len(want):
        summary = f"expected {len(want)} row(s), got {len(rows)}"
    else:
        summary = f"row {', '.join(differing)} differ{'s' if len(differing) == 1 else ''}"
    return Mismatch(summary, "\n".join(lines))


def _shown(rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return ""
    shown = "\n".join("  " + display_row(row) for row in rows[:MAX_SHOWN])
    more = f"\n  ... {len(rows) - MAX_SHOWN} more" if len(rows) > MAX_SHOWN else ""
    return "\n" + shown + more
