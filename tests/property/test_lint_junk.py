"""lint never crashes: any bytes, any text, huge files give findings, not tracebacks."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbfleet.lint.findings import Finding
from tests.lint_support import lint_project

# Fragments that break naive splitters, mixed with random text.
TRICKY = [
    "$$", "$a$", "$b$", "E'\\''", "'", '"', "--", "/*", "*/", ";", "\n", "BEGIN", "END",
    "CREATE FUNCTION f() RETURNS int AS ", "DO ", "COMMIT", "CREATE INDEX i ON t (a)",
    "ALTER TABLE t DROP COLUMN c", "-- dbfleet:ignore DF201", "E'", "\\", "DELIMITER //",
]  # fmt: skip
junk_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=8)), max_size=30).map(
    "".join
)


def _well_formed(findings: tuple[Finding, ...]) -> None:
    for f in findings:
        assert f.line >= 1 and f.column >= 1 and f.code.startswith("DF")


@pytest.mark.parametrize("engine", ["postgresql", "sqlite", "mysql"])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=junk_text)
def test_any_text_gives_findings_never_a_crash(tmp_path_factory, engine, text):
    root = tmp_path_factory.mktemp("junk")
    _well_formed(lint_project(root, {"V1__junk.sql": text}, engine).findings)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=200))
def test_any_bytes_give_findings_never_a_crash(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("bytes")
    _well_formed(lint_project(root, {"V1__junk.sql": data}).findings)


def test_a_10_mb_migration_is_linted_in_seconds(tmp_path):
    row = "INSERT INTO events (id, payload) VALUES (1, 'x;y -- not a comment /* nor this */');\n"
    big = "CREATE TABLE events (id bigint PRIMARY KEY, payload text);\n" + row * (
        10_000_000 // len(row)
    )
    start = time.perf_counter()
    result = lint_project(tmp_path, {"V1__big.sql": big + "SELEC 1;\n"})
    assert time.perf_counter() - start < 60
    assert [(f.code, f.line) for f in result.active] == [("DF001", big.count("\n") + 1)]


def test_a_10_mb_single_line_statement_is_shown_shortened(tmp_path):
    big = "SELECT '" + "x" * 10_000_000 + "' frm where;\n"
    result = lint_project(tmp_path, {"V1__big.sql": big})
    (finding,) = result.active
    assert finding.code == "DF001" and len(finding.source_line) <= 200


# Valid statements and trivia that move the next statement around without changing it.
FILLER = st.sampled_from(
    [
        "\n", "  ", "\t", "-- a comment; with a semicolon\n", "/* block ; comment */",
        "/* nested /* comment */ ; */", "SELECT 'a;b';\n", "SELECT E'it\\'s; fine';\n",
        "SELECT $$ ; $$;\n", "SELECT $x$ $$ ; $x$;\n", 'SELECT 1 AS "semi;colon";\n',
        "SELECT 'é';\n", "SELECT '\U0001f600';\n",
    ]
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(before=st.lists(FILLER, max_size=12).map("".join), indent=st.sampled_from(["", "  ", "\t"]))
def test_findings_point_at_the_statement_wherever_it_stands(tmp_path_factory, before, indent):
    root = tmp_path_factory.mktemp("place")
    text = "SET lock_timeout = '1s';\n" + before + "\n" + indent + "DROP TABLE invoices;\n"
    files = {"V1__a.sql": "CREATE TABLE invoices (id bigint PRIMARY KEY);\n", "V2__b.sql": text}
    (finding,) = lint_project(root, files).active
    lines = text.split("\n")
    assert finding.code == "DF101"
    assert finding.line == len(lines) - 1
    assert lines[finding.line - 1][finding.column - 1 :].startswith("DROP TABLE")


OTHER_FILLERS = {
    "sqlite": ["\n", "  ", "-- c; d\n", "/* c ; */", "SELECT 'a;b';\n", 'SELECT "x;y";\n', "SELECT 'é';\n"],
    "mysql": [
        "\n", "  ", "-- c; d\n", "# hash; comment\n", "/* c ; */", "SELECT 'a;b';\n",
        "SELECT 'it\\'s; ok';\n", "SELECT `x;y`;\n", "SELECT 'é';\n",
    ],
}  # fmt: skip


@pytest.mark.parametrize("engine", sorted(OTHER_FILLERS))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_findings_point_at_the_statement_on_sqlite_and_mariadb(tmp_path_factory, engine, data):
    before = "".join(data.draw(st.lists(st.sampled_from(OTHER_FILLERS[engine]), max_size=10)))
    root = tmp_path_factory.mktemp("place")
    text = before + "\nDROP TABLE invoices;\n"
    files = {"V1__a.sql": "CREATE TABLE invoices (id BIGINT PRIMARY KEY);\n", "V2__b.sql": text}
    found = [f for f in lint_project(root, files, engine).active if f.code == "DF101"]
    lines = text.split("\n")
    assert [(f.line, lines[f.line - 1][f.column - 1 :]) for f in found] == [
        (len(lines) - 1, "DROP TABLE invoices;")
    ]
