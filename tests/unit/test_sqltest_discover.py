"""Which files in tests/ are seeds, built-in tests, pgTAP tests, or none of them."""

from __future__ import annotations

import pytest

from dbfleet.errors import DbfleetError
from dbfleet.sqltest.discover import discover


def test_kinds_order_and_what_is_left_out(tmp_path):
    tests = tmp_path / "tests"
    files = {
        "seed/02_b.sql": "INSERT 2;",
        "seed/01_a.sql": "INSERT 1;",
        "z.sql": "-- test: z\nSELECT 1;",
        "a/b.sql": "-- test: b\nSELECT 1;",
        "schema.pg": "-- test: a comment that is not a directive here\nSELECT plan(1);",
        "tap.sql": "SELECT plan(2);",
        "xunit.sql": "SELECT * FROM runtests();",
        "fixture.sql": "INSERT INTO plans VALUES (1);",
        ".hidden/x.sql": "-- test: x\nSELECT 1;",
        "notes.txt": "-- test: x",
    }
    for name, text in files.items():
        path = tests / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = discover(tmp_path, tests)
    assert [f.name for f in found.seeds] == ["tests/seed/01_a.sql", "tests/seed/02_b.sql"]
    assert [(f.name, f.kind) for f in found.tests] == [
        ("tests/a/b.sql", "sql"),
        ("tests/schema.pg", "pgtap"),
        ("tests/tap.sql", "pgtap"),
        ("tests/xunit.sql", "pgtap"),
        ("tests/z.sql", "sql"),
    ]
    assert found.ignored == ("tests/fixture.sql",)


def test_a_missing_folder_has_nothing(tmp_path):
    found = discover(tmp_path, tmp_path / "tests")
    assert (found.seeds, found.tests) == ((), ())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"-- test: x\nSELECT 'caf\xe9';\n", r"tests/t.sql:2: not UTF-8 text \(byte 0xe9\)"),
        (b"-- test: x\x00\x01\x02", r"tests/t.sql: a binary file"),
    ],
)
def test_unreadable_files_are_one_clear_error(tmp_path, data, message):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.sql").write_bytes(data)
    with pytest.raises(DbfleetError, match=message):
        discover(tmp_path, tmp_path / "tests")


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.sql").write_bytes(b"\xef\xbb\xbf-- test: x\nSELECT 1;\n")
    (file,) = discover(tmp_path, tmp_path / "tests").tests
    assert file.text.startswith("-- test: x")
