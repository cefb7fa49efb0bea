"""Built-in test files: setup, `-- test:` blocks, expectations, and what is wrong with a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbfleet.engines import dialect_for
from dbfleet.errors import DbfleetError
from dbfleet.sqltest.builtin import parse
from dbfleet.sqltest.discover import SqlFile


def _file(text: str) -> SqlFile:
    return SqlFile(Path("tests/t.sql"), "tests/t.sql", text, "sql")


def test_statements_before_the_first_test_are_setup_and_tests_keep_their_lines():
    script = parse(
        _file(
            "INSERT INTO t VALUES (1);\n"
            "\n"
            "-- test: one row\n"
            "-- expect: 1\n"
            "SELECT COUNT(*) FROM t;\n"
            "-- test: two rows\n"
            "INSERT INTO t VALUES (2);\n"
            "-- expect rows: 2\n"
            "SELECT * FROM t;\n"
        ),
        dialect_for("sqlite"),
    )
    assert [s.line for s in script.setup] == [1]
    assert [(t.name, t.line) for t in script.tests] == [("one row", 3), ("two rows", 6)]
    first, second = script.tests
    assert first.steps[0].line == 5 and first.steps[0].expect is not None
    assert first.steps[0].expect.line == 4
    assert [s.expect is not None for s in second.steps] == [False, True]


def test_directives_inside_strings_are_not_directives():
    script = parse(_file("-- test: a\nSELECT '\n-- test: not one\n';\n"), dialect_for("postgresql"))
    assert [t.name for t in script.tests] == ["a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- test: a\nSELECT 1;\n-- expect: 1\n", r"tests/t.sql:3: unterminated expectation"),
        ("-- test: a\nSELECT 1;\n-- test: empty\n", r"tests/t.sql:3: test 'empty' has no"),
        ("-- test: a\n-- test: b\nSELECT 1;\n", r"tests/t.sql:1: test 'a' has no statements"),
        ("-- test:\nSELECT 1;\n", r"tests/t.sql:1: '-- test:' without a name"),
        ("-- test: a\n-- expect: 'open\nSELECT 1;\n", r"tests/t.sql:2: unterminated quoted"),
        ("-- test: a\nSELECT 'open;\n", r"tests/t.sql:2: unterminated"),
        ("-- test: a\nSELECT 1; -- expect: 1\nSELECT 2;\n", r"tests/t.sql:2: .* on the same line"),
        ("-- test: a\nSELECT 1; -- expect: 1\n", r"tests/t.sql:2: .* on the same line"),
    ],
)
def test_broken_files_are_one_clear_error_with_file_and_line(text, message):
    with pytest.raises(DbfleetError, match=message):
        parse(_file(text), dialect_for("sqlite"))
