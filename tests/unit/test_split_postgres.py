"""Specification of the PostgreSQL script splitter and its no-transaction checks."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbfleet.engines.base import Statement
from dbfleet.engines.postgres.split import (
    has_no_transaction_directive,
    requires_no_transaction,
    split,
)
from dbfleet.errors import SplitError


def texts(script: str) -> list[str]:
    return [s.text for s in split(script)]


# --- basics ---------------------------------------------------------------------------------


def test_empty_script_gives_no_statements() -> None:
    assert split("") == []


def test_script_of_only_whitespace_and_comments_gives_no_statements() -> None:
    assert split("  \n-- nothing; here\n/* nor; here */\n\t") == []


def test_statements_are_cut_at_semicolons_with_their_lines() -> None:
    assert split("SELECT 1;\nSELECT 2;\n\n  SELECT 3;") == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 2),
        Statement("SELECT 3", 4),
    ]


def test_final_statement_without_semicolon_is_returned() -> None:
    assert split("SELECT 1;\nSELECT 2\n") == [Statement("SELECT 1", 1), Statement("SELECT 2", 2)]


def test_empty_statements_and_trailing_comment_are_dropped() -> None:
    assert texts(";;SELECT 1;;\n; ;SELECT 2; -- the end; really\n/* done */") == [
        "SELECT 1",
        "SELECT 2",
    ]


def test_leading_comments_stay_in_text_but_line_is_the_first_code_line() -> None:
    script = (
        "SELECT 1;\n-- create the table\n/* with a\n   long comment */\nCREATE TABLE t (a int);"
    )
    assert split(script)[1] == Statement(
        "-- create the table\n/* with a\n   long comment */\nCREATE TABLE t (a int)", 5
    )


def test_line_numbers_after_multiline_strings_and_comments() -> None:
    script = (
        "INSERT INTO t VALUES ('a\nb\nc');\n"  # lines 1-3
        "/* x\ny */ SELECT $$\n;\n$$;\n"  # lines 4-7
        'SELECT "multi\nline";\n'  # lines 8-9
        "SELECT 4;"  # line 10
    )
    assert [s.line for s in split(script)] == [1, 5, 8, 10]


def test_crlf_line_endings() -> None:
    script = "SELECT 1;\r\n-- c\r\nSELECT 'a;\r\nb';\r\n\r\nSELECT 3\r\n"
    assert split(script) == [
        Statement("SELECT 1", 1),
        Statement("-- c\r\nSELECT 'a;\r\nb'", 3),
        Statement("SELECT 3", 6),
    ]


def test_utf8_bom_is_ignored() -> None:
    assert split("\ufeffSELECT 1;\nSELECT 2;") == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 2),
    ]


def test_text_is_stripped_and_excludes_the_semicolon() -> None:
    assert texts("   SELECT 1   ;   ") == ["SELECT 1"]


# --- strings and identifiers ---------------------------------------------------------------


def test_semicolon_inside_single_quoted_string_does_not_split() -> None:
    assert texts("SELECT 'a;b';SELECT 2") == ["SELECT 'a;b'", "SELECT 2"]


def test_doubled_quote_is_an_escape_inside_a_string() -> None:
    assert texts("SELECT 'it''s; fine', '''';SELECT 2") == [
        "SELECT 'it''s; fine', ''''",
        "SELECT 2",
    ]


def test_backslash_does_not_escape_in_a_standard_string() -> None:
    assert texts("SELECT 'C:\\';SELECT 2") == ["SELECT 'C:\\'", "SELECT 2"]


@pytest.mark.parametrize("prefix", ["E", "e"])
def test_backslash_escaped_quote_inside_e_string_does_not_end_it(prefix: str) -> None:
    script = f"SELECT {prefix}'\\'';SELECT {prefix}'a\\\\';SELECT {prefix}'x\\';y';SELECT 4"
    assert texts(script) == [
        f"SELECT {prefix}'\\''",
        f"SELECT {prefix}'a\\\\'",
        f"SELECT {prefix}'x\\';y'",
        "SELECT 4",
    ]


def test_e_string_continued_on_the_next_line_keeps_backslash_escapes() -> None:
    script = "SELECT E'a'\n  'b\\';c';SELECT 2"
    assert texts(script) == ["SELECT E'a'\n  'b\\';c'", "SELECT 2"]


def test_e_string_continues_across_a_line_comment() -> None:
    script = "SELECT E'a' -- note; here\n  'b\\';c';SELECT 2"
    assert texts(script) == ["SELECT E'a' -- note; here\n  'b\\';c'", "SELECT 2"]


def test_e_string_followed_by_a_string_on_the_same_line_does_not_continue() -> None:
    assert texts("SELECT E'a', 'b\\';SELECT 2") == ["SELECT E'a', 'b\\'", "SELECT 2"]


def test_identifier_ending_in_e_before_a_string_is_not_an_e_string() -> None:
    # "some" followed by a plain string: the backslash escapes nothing, the string ends at "\'".
    assert texts("SELECT some'\\';SELECT 2") == ["SELECT some'\\'", "SELECT 2"]


def test_unicode_bit_and_hex_strings() -> None:
    script = "SELECT U&'d\\0061t;a', u&'x''y;', B'1;0', b'0', X'1F;', x'ff';SELECT 2"
    assert len(texts(script)) == 2


def test_semicolon_inside_double_quoted_identifier_does_not_split() -> None:
    assert texts('CREATE TABLE "we;ird""name" (a int);SELECT 2') == [
        'CREATE TABLE "we;ird""name" (a int)',
        "SELECT 2",
    ]


def test_comment_markers_inside_strings_are_text() -> None:
    assert texts("SELECT '-- no', '/* no', \"--\";SELECT 2") == [
        "SELECT '-- no', '/* no', \"--\"",
        "SELECT 2",
    ]


# --- dollar quoting ---------------------------------------------------------------------------


def test_semicolon_inside_dollar_quoted_function_body_does_not_split() -> None:
    script = """CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1;
  RETURN 2;
END;
$$;
SELECT f();"""
    assert [s.line for s in split(script)] == [1, 7]
    assert texts(script)[0].endswith("END;\n$$ LANGUAGE plpgsql") is False
    assert texts(script)[0].endswith("END;\n$$")


def test_tagged_dollar_quote_with_nested_different_tag() -> None:
    script = (
        "DO $outer$ BEGIN EXECUTE $inner$ SELECT ';' $inner$; "
        "EXECUTE $$ SELECT 1; $$; END $outer$;\nSELECT 2"
    )
    assert texts(script) == [
        "DO $outer$ BEGIN EXECUTE $inner$ SELECT ';' $inner$; EXECUTE $$ SELECT 1; $$; END $outer$",
        "SELECT 2",
    ]


def test_quotes_and_comments_inside_dollar_quote_are_text() -> None:
    script = "SELECT $q$ it's /* -- \" $$ ; $q$;SELECT 2"
    assert texts(script) == ["SELECT $q$ it's /* -- \" $$ ; $q$", "SELECT 2"]


def test_dollar_quote_tags_are_case_sensitive() -> None:
    assert texts("SELECT $A$ $a$ ; $A$;SELECT 2") == ["SELECT $A$ $a$ ; $A$", "SELECT 2"]


def test_positional_parameter_is_not_a_dollar_quote() -> None:
    assert texts("PREPARE p AS SELECT $1 + $2;EXECUTE p(1, 2)") == [
        "PREPARE p AS SELECT $1 + $2",
        "EXECUTE p(1, 2)",
    ]


def test_dollar_inside_identifier_is_not_a_dollar_quote() -> None:
    assert texts("SELECT a$b$c, x$$ FROM t$1;SELECT 2") == [
        "SELECT a$b$c, x$$ FROM t$1",
        "SELECT 2",
    ]


def test_dollar_quote_right_after_another_dollar_quote() -> None:
    assert texts("SELECT $a$;$a$$b$;$b$;SELECT 2") == ["SELECT $a$;$a$$b$;$b$", "SELECT 2"]


def test_unicode_dollar_quote_tag() -> None:
    assert texts("SELECT $körper$ ; $körper$;SELECT 2") == [
        "SELECT $körper$ ; $körper$",
        "SELECT 2",
    ]


# --- comments -----------------------------------------------------------------------------------


def test_semicolon_and_quote_inside_line_comment_do_not_split() -> None:
    assert texts("SELECT 1 -- it's; a comment\n+ 1;SELECT 2") == [
        "SELECT 1 -- it's; a comment\n+ 1",
        "SELECT 2",
    ]


def test_block_comments_nest() -> None:
    script = "SELECT /* outer /* inner; */ still comment; ' */ 1;SELECT 2"
    assert texts(script) == ["SELECT /* outer /* inner; */ still comment; ' */ 1", "SELECT 2"]


def test_line_comment_at_end_of_script_without_newline() -> None:
    assert texts("SELECT 1 -- done") == ["SELECT 1"]


def test_comments_after_the_last_code_are_not_part_of_the_text() -> None:
    # A caller appending ";" to the text must not land inside a comment.
    script = "SELECT 1 -- one; done\n;SELECT /* x */ 2 /* two */;\nSELECT 3 -- end"
    assert texts(script) == ["SELECT 1", "SELECT /* x */ 2", "SELECT 3"]


# --- SQL-standard function bodies -----------------------------------------------------------


def test_begin_atomic_function_body_is_one_statement() -> None:
    script = """CREATE FUNCTION add(a int, b int) RETURNS int
LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO log VALUES (a);
  SELECT a + b;
END;
SELECT add(1, 2);"""
    result = split(script)
    assert [s.line for s in result] == [1, 7]
    assert result[0].text.endswith("SELECT a + b;\nEND")


def test_begin_atomic_procedure_with_case_expressions() -> None:
    script = """CREATE OR REPLACE PROCEDURE p(x int)
LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO t VALUES (CASE WHEN x > 0 THEN 1 ELSE 0 END);
  UPDATE t SET a = CASE x WHEN 1 THEN (CASE WHEN true THEN 2 END) ELSE 3 END;
END;
CALL p(1)"""
    assert texts(script)[1] == "CALL p(1)"
    assert len(texts(script)) == 2


def test_begin_atomic_keywords_are_case_insensitive_and_may_span_lines() -> None:
    script = "create function f() returns int language sql begin\n  atomic select 1; end;select 2"
    assert texts(script) == [
        "create function f() returns int language sql begin\n  atomic select 1; end",
        "select 2",
    ]


def test_sql_function_with_return_case_end_is_not_a_block() -> None:
    script = "CREATE FUNCTION f(x int) RETURNS int RETURN CASE WHEN x > 0 THEN 1 END;SELECT 2"
    assert texts(script) == [
        "CREATE FUNCTION f(x int) RETURNS int RETURN CASE WHEN x > 0 THEN 1 END",
        "SELECT 2",
    ]


def test_begin_without_atomic_in_a_function_opens_no_block() -> None:
    # BEGIN is an unreserved word: here it names a parameter (psql's heuristic trips on this).
    script = (
        'CREATE FUNCTION f(begin int, "end" int) RETURNS int LANGUAGE sql RETURN begin + 1;SELECT 2'
    )
    assert texts(script) == [
        'CREATE FUNCTION f(begin int, "end" int) RETURNS int LANGUAGE sql RETURN begin + 1',
        "SELECT 2",
    ]


def test_transaction_begin_and_end_outside_functions_are_plain_statements() -> None:
    assert texts("BEGIN;\nSELECT CASE WHEN true THEN 1 END;\nEND;\nCOMMIT") == [
        "BEGIN",
        "SELECT CASE WHEN true THEN 1 END",
        "END",
        "COMMIT",
    ]


def test_begin_atomic_words_inside_strings_and_comments_do_not_count() -> None:
    script = (
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql /* begin atomic */ "
        "RETURN 'begin atomic';SELECT 2"
    )
    assert len(texts(script)) == 2


def test_semicolons_between_parenthesised_rule_actions_do_not_split() -> None:
    script = (
        "CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO "
        "(INSERT INTO a VALUES (1); INSERT INTO b VALUES (';)'));SELECT 2"
    )
    assert texts(script) == [
        "CREATE OR REPLACE RULE r AS ON INSERT TO t DO ALSO "
        "(INSERT INTO a VALUES (1); INSERT INTO b VALUES (';)'))",
        "SELECT 2",
    ]


def test_unbalanced_parenthesis_outside_rules_does_not_swallow_the_script() -> None:
    assert texts("SELECT (1;SELECT 2") == ["SELECT (1", "SELECT 2"]


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "line", "fragment"),
    [
        ("SELECT 1;\nSELECT 'abc;\n\n", 2, "string"),
        ("SELECT 1;\n\nSELECT 'ab''", 3, "string"),
        ("SELECT E'ab\\';", 1, "string"),
        ('SELECT 1;\nSELECT "abc', 2, "quoted identifier"),
        ("SELECT 1;\n\n\nSELECT $body$ x; $$ ;", 4, "$body$"),
        ("SELECT 1;\nSELECT /* a /* b */ c;", 2, "block comment"),
        ("SELECT 1;\n-- fine\n/* never closed", 3, "block comment"),
    ],
)
def test_unterminated_constructs_raise_with_start_line(
    script: str, line: int, fragment: str
) -> None:
    with pytest.raises(SplitError) as info:
        split(script)
    assert info.value.line == line
    assert "unterminated" in str(info.value)
    assert fragment in str(info.value)
    assert f"line {line}" in str(info.value)


def test_unterminated_dollar_quote_message_names_tag_and_line() -> None:
    script = "\n" * 11 + "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1;"
    with pytest.raises(SplitError) as info:
        split(script)
    assert str(info.value) == "unterminated dollar-quoted string $body$ starting on line 12"


# --- statements that refuse a transaction block -------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        "create unique index concurrently if not exists i on t (a)",
        "-- comment first\n/* and /* nested */ block */\n  CREATE\n\tINDEX\n CONCURRENTLY i ON t",
        "DROP INDEX CONCURRENTLY IF EXISTS i",
        "REINDEX INDEX CONCURRENTLY i",
        "REINDEX TABLE CONCURRENTLY t",
        "REINDEX (VERBOSE) TABLE CONCURRENTLY x",
        "REINDEX (CONCURRENTLY) TABLE t",
        "REINDEX (VERBOSE, CONCURRENTLY true) INDEX i",
        "REINDEX SCHEMA public",
        "REINDEX DATABASE app",
        "REINDEX SYSTEM",
        "VACUUM",
        "vacuum full analyze t",
        "VACUUM (VERBOSE, ANALYZE) t",
        "CREATE DATABASE app",
        'DROP DATABASE IF EXISTS "app"',
        "CREATE TABLESPACE fast LOCATION '/ssd'",
        "DROP TABLESPACE fast",
        "ALTER SYSTEM SET work_mem = '64MB'",
        "CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p",
        "DROP SUBSCRIPTION s",
        "ALTER DATABASE app SET TABLESPACE fast",
        'ALTER DATABASE "my app" SET TABLESPACE fast',
        "CLUSTER",
        "CLUSTER VERBOSE",
        "CLUSTER (VERBOSE)",
        "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
        "DISCARD ALL",
    ],
)
def test_requires_no_transaction(sql: str) -> None:
    assert requires_no_transaction(sql)
    assert requires_no_transaction(Statement(sql, 1))


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX i ON t (a)",
        "CREATE UNIQUE INDEX i ON t (a)",
        "CREATE INDEX concurrently_idx ON t (a)",
        "DROP INDEX i",
        "REINDEX TABLE t",
        "REINDEX INDEX i",
        "REINDEX (CONCURRENTLY false) TABLE t",
        "ANALYZE t",
        "CLUSTER t USING i",
        "CLUSTER VERBOSE t",
        "ALTER DATABASE app SET search_path = x",
        "ALTER SUBSCRIPTION s DISABLE",
        "ALTER TABLE p DETACH PARTITION p1",
        "DISCARD PLANS",
        "SELECT 'VACUUM'",
        "-- VACUUM\nSELECT 1",
        "/* CREATE DATABASE x */ SELECT 1",
        "CREATE TABLE vacuum (a int)",
        "INSERT INTO t VALUES ('CREATE INDEX CONCURRENTLY')",
        "",
    ],
)
def test_does_not_require_no_transaction(sql: str) -> None:
    assert not requires_no_transaction(sql)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("-- dbfleet:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);", True),
        ("\n\n   --   dbfleet:no-transaction   \nVACUUM;", True),
        ("\ufeff--dbfleet:no-transaction\r\nVACUUM;", True),
        ("-- DBFLEET:NO-TRANSACTION\nVACUUM;", True),
        ("SELECT 1;\n-- dbfleet:no-transaction\n", False),
        ("-- dbfleet:no-transaction please\nVACUUM;", False),
        ("-- another comment\n-- dbfleet:no-transaction\n", False),
        ("", False),
    ],
)
def test_has_no_transaction_directive(script: str, expected: bool) -> None:
    assert has_no_transaction_directive(script) is expected


# --- against PostgreSQL's own parser ----------------------------------------------------------

CORPUS = r"""
-- schema first
CREATE SCHEMA IF NOT EXISTS app;
SET search_path = app, public;
CREATE TABLE app.accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    "display;name" text DEFAULT 'n/a; none',
    balance numeric(12, 2) NOT NULL DEFAULT 0 CHECK (balance >= 0)
);
COMMENT ON TABLE app.accounts IS 'User accounts; one per e-mail -- not a comment';
CREATE TABLE measurements (
    city_id int NOT NULL,
    logdate date NOT NULL,
    peaktemp int
) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_y2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_idx ON app.accounts (lower(email));
CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now(); -- keep it fresh; always
    RETURN NEW;
END;
$$;
CREATE FUNCTION app.add(a integer, b integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC
        SELECT a + b;
    END;
CREATE PROCEDURE app.insert_two(x int)
LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO app.log VALUES (CASE WHEN x > 0 THEN 'pos;' ELSE 'neg' END);
  INSERT INTO app.log VALUES (x);
END;
CREATE FUNCTION app.sign(x int) RETURNS int LANGUAGE sql RETURN CASE WHEN x > 0 THEN 1 ELSE -1 END;
DO $do$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'app' LOOP
        EXECUTE format($f$ANALYZE %I$f$, r.tablename);
    END LOOP;
END
$do$;
SELECT E'it\'s; escaped', 'plain''s; doubled', U&'d\0061t\+000061', B'1010', X'1F';
/* a /* nested; */ comment */ SELECT 1 /* inline; */ + 2;
INSERT INTO app.accounts (email) VALUES ('a@example.com'), ('b;@example.com')
    ON CONFLICT DO NOTHING;
UPDATE app.accounts SET balance = balance + 1 WHERE email LIKE '%;%' RETURNING id;
DELETE FROM app.accounts WHERE id IN (SELECT id FROM app.accounts WHERE balance < 0);
CREATE VIEW app.rich AS SELECT * FROM app.accounts WHERE balance > 1000;
CREATE MATERIALIZED VIEW app.totals AS SELECT count(*) AS n FROM app.accounts WITH NO DATA;
ALTER TABLE app.accounts ADD COLUMN updated_at timestamptz;
CREATE TRIGGER touch BEFORE UPDATE ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE RULE log_insert AS ON INSERT TO app.accounts
    DO ALSO (INSERT INTO app.log VALUES ('insert;'); NOTIFY accounts);
GRANT SELECT ON ALL TABLES IN SCHEMA app TO PUBLIC;
CREATE TYPE app.mood AS ENUM ('sad', 'ok;', 'happy');
ALTER TYPE app.mood ADD VALUE IF NOT EXISTS 'ecstatic' AFTER 'happy';
CREATE DOMAIN app.email AS text CHECK (VALUE ~ '^[^@]+@[^@]+$');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT sum(i) FROM n;
PREPARE q(int) AS SELECT $1 + 1;
EXECUTE q(41);
COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, DELIMITER ';');
SELECT $tag$ nested $$ dollar; $$ inside $tag$ AS t;
VACUUM (ANALYZE) app.accounts;
REINDEX (VERBOSE) TABLE CONCURRENTLY app.accounts;
DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;
BEGIN;
SAVEPOINT s1;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT 'last statement; no semicolon'
"""


def _without_leading_comments(text: str) -> str:
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            text = text.partition("\n")[2]
        elif text.startswith("/*"):
            depth, pos = 0, 0
            for m in re.finditer(r"/\*|\*/", text):
                depth += 1 if m.group() == "/*" else -1
                if depth == 0:
                    pos = m.end()
                    break
            text = text[pos:]
        else:
            return text


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_split_agrees_with_postgresql_parser_via_pglast() -> None:
    import pglast  # a runtime dependency (dbfleet lint parses with it)

    ours = [_normalised(_without_leading_comments(s.text)) for s in split(CORPUS)]
    theirs = [_normalised(s) for s in pglast.split(CORPUS)]
    assert len(ours) >= 30
    assert ours == theirs


# --- property: generated scripts split back into their statements -----------------------------

_WORDS = st.sampled_from(["SELECT", "x", "t1", "FROM", "1", "+", "(", ")", ",", "end", "case"])
_CONTENT = st.text(alphabet="ab;'\"$-/*\\\n E", max_size=12)


def _quoted(content: str) -> str:
    return "'" + content.replace("'", "''") + "'"


def _e_string(content: str) -> str:
    return "E'" + content.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _identifier(content: str) -> str:
    return '"' + content.replace('"', '""') + '"'


def _line_comment(content: str) -> str:
    # The "0" keeps a string after the comment from continuing an E-string before it.
    return "--" + content.replace("\n", " ") + "\n0"


def _block_comment(content: str) -> str:
    return "/* " + content.replace("*/", "* /").replace("/*", "/ *") + " /* nested; */ */"


@st.composite
def _dollar_quoted(draw: st.DrawFn) -> str:
    delimiter = "$" + draw(st.sampled_from(["", "a", "body", "x_1"])) + "$"
    # The body must not close the quote early, not even together with the closing tag.
    content = draw(_CONTENT.filter(lambda c: (c + delimiter).find(delimiter) == len(c)))
    return f"{delimiter}{content}{delimiter}"


_CODE = st.one_of(
    _WORDS,
    _CONTENT.map(_quoted),
    _CONTENT.map(_e_string),
    _CONTENT.map(_identifier),
    _CONTENT.map(_line_comment),  # ends in code: the "0"
    _dollar_quoted(),
)
_FRAGMENT = st.one_of(
    _CODE.map(lambda text: (text, False)), _CONTENT.map(_block_comment).map(lambda t: (t, True))
)


def _statement(head: str, fragments: list[tuple[str, bool]]) -> tuple[str, str]:
    """The statement's script text, and the text split() should give for it.

    Comments after the last code fragment are not part of the expected text.
    """
    code = [i for i, (_, is_comment) in enumerate(fragments) if not is_comment]
    kept = fragments[: code[-1] + 1] if code else []
    return (
        " ".join([head, *(text for text, _ in fragments)]),
        " ".join([head, *(text for text, _ in kept)]),
    )


_STATEMENT = st.builds(
    _statement,
    st.sampled_from(["SELECT", "INSERT", "UPDATE", "CREATE"]),
    st.lists(_FRAGMENT, max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_STATEMENT, min_size=1, max_size=6))
def test_generated_statements_split_back_exactly(statements: list[tuple[str, str]]) -> None:
    script = ";\n".join(text for text, _ in statements)
    expected = []
    offset = 0
    for text, expected_text in statements:
        expected.append(Statement(expected_text.strip(), script.count("\n", 0, offset) + 1))
        offset += len(text) + 2
    assert split(script) == expected


# --- speed --------------------------------------------------------------------------------------


def test_a_large_script_splits_in_linear_time() -> None:
    unit = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $b$ BEGIN RETURN 1; END; $b$;\n"
        "INSERT INTO t VALUES (1, 'a;b', E'\\'', \"c\"); -- note; here\n"
        "/* block */ SELECT 1;\n"
    )
    script = unit * 5000  # about 1 MB
    started = time.perf_counter()
    result = split(script)
    elapsed = time.perf_counter() - started
    assert len(result) == 15000
    assert elapsed < 2.0
