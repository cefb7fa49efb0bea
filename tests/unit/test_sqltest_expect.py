"""`-- expect` comments: what they say, and when rows meet them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbfleet.sqltest.expect import (
    Expectation,
    ExpectationError,
    Value,
    check_rows,
    matches,
    parse_comments,
    parse_row,
)


def test_a_row_is_values_separated_by_bars_with_quotes_keeping_spaces_and_bars():
    assert parse_row("1 | Acme | NULL", "t.sql:1") == (Value("1"), Value("Acme"), Value("NULL"))
    assert parse_row("' a | b ' | 'it''s' | ''", "t.sql:1") == (
        Value(" a | b ", quoted=True),
        Value("it's", quoted=True),
        Value("", quoted=True),
    )


def test_an_unterminated_quote_is_an_error_naming_the_line():
    with pytest.raises(ExpectationError, match=r"t.sql:7: unterminated quoted value"):
        parse_row("'abc", "t.sql:7")


def test_text_after_a_quoted_value_is_an_error():
    with pytest.raises(ExpectationError, match="text after a quoted value"):
        parse_row("'a' b", "t.sql:1")


def test_consecutive_expect_lines_are_rows_in_order():
    expectation = parse_comments(
        [(3, "-- test: x"), (4, "-- expect: a | 1"), (5, "-- expect: b | 2")], "t.sql"
    )
    assert expectation == Expectation(4, rows=((Value("a"), Value("1")), (Value("b"), Value("2"))))


def test_row_count_and_error_forms():
    assert parse_comments([(1, "-- expect rows: 3")], "t.sql") == Expectation(1, count=3)
    assert parse_comments([(1, "--expect error: violates")], "t.sql") == Expectation(
        1, error="violates"
    )
    assert parse_comments([(1, "-- just a comment")], "t.sql") is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-- expect rows: many", "needs a number"),
        ("-- expect:", "without a value"),
        ("-- expect something", "cannot read"),
    ],
)
def test_malformed_expectations_name_file_and_line(line, message):
    with pytest.raises(ExpectationError, match=rf"t.sql:9: .*{message}"):
        parse_comments([(9, line)], "t.sql")


def test_mixing_kinds_on_one_statement_is_an_error():
    with pytest.raises(ExpectationError, match="different kinds"):
        parse_comments([(1, "-- expect: 1"), (2, "-- expect rows: 1")], "t.sql")


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("49", Decimal("49.00")),
        ("49.00", 49),
        ("0.5", 0.5),
        ("true", True),
        ("true", 1),
        ("false", 0),
        ("NULL", None),
        ("null", None),
        ("eu", "eu"),
        ("2026-01-31", date(2026, 1, 31)),
        ("2026-01-31 10:00:00", datetime(2026, 1, 31, 10)),
    ],
)
def test_values_that_match(expected, actual):
    assert matches(Value(expected), actual)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (Value("49"), Decimal("49.01")),
        (Value("NULL"), "NULL"),
        (Value("NULL", quoted=True), None),
        (Value("49", quoted=True), Decimal("49.00")),
        (Value("x"), None),
        (Value("true"), 2),
        (Value("Eu"), "eu"),
    ],
)
def test_values_that_do_not_match(expected, actual):
    assert not matches(expected, actual)


def test_a_single_row_mismatch_reads_expected_then_actual():
    expectation = Expectation(1, rows=((Value("eu"), Value("1")),))
    mismatch = check_rows(expectation, [("us", 1)])
    assert mismatch is not None
    assert mismatch.summary == "expected eu | 1, got us | 1"
    assert mismatch.details == "expected: eu | 1\nactual:   us | 1"
    assert check_rows(expectation, [("eu", 1)]) is None


def test_several_rows_mark_the_ones_that_differ():
    expectation = Expectation(1, rows=((Value("a"),), (Value("b"),), (Value("c"),)))
    mismatch = check_rows(expectation, [("a",), ("x",), ("c",)])
    assert mismatch is not None and mismatch.summary == "row 2 differs"
    assert mismatch.details.splitlines() == [
        "expected: 3 row(s)",
        "  a",
        "> b",
        "  c",
        "actual:   3 row(s)",
        "  a",
        "> x",
        "  c",
    ]
    short = check_rows(expectation, [("a",)])
    assert short is not None and short.summary == "expected 3 row(s), got 1"


def test_row_counts():
    assert check_rows(Expectation(1, count=0), []) is None
    mismatch = check_rows(Expectation(1, count=2), [(1,)])
    assert mismatch is not None and mismatch.summary == "expected 2 row(s), got 1"
    assert mismatch.details == "expected: 2 row(s)\nactual:   1 row(s)\n  1"


_bare = (
    st.text(st.characters(blacklist_characters="|'\r\n", blacklist_categories=("Cs",)), min_size=1)
    .map(str.strip)
    .filter(bool)
)
_quoted = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)))
_value = st.one_of(_bare.map(Value), _quoted.map(lambda t: Value(t, quoted=True)))


@given(st.lists(_value, min_size=1, max_size=6))
def test_a_row_written_as_an_expectation_reads_back_the_same(values):
    text = " | ".join(str(v) for v in values)
    assert parse_row(text, "t.sql:1") == tuple(values)
