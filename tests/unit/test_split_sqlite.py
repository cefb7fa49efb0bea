"""Specification of the SQLite script splitter, checked against sqlite3 itself where possible."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbfleet.engines.base import Statement
from dbfleet.engines.sqlite.split import split
from dbfleet.errors import SplitError


def texts(script: str) -> list[str]:
    return [s.text for s in split(script)]


def reference_split(script: str) -> list[str]:
    """Cut where sqlite3_complete() first reports a finished statement (slow, but SQLite's own)."""
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(script):
        if ch == ";" and sqlite3.complete_statement(script[start : i + 1]):
            pieces.append(script[start:i].strip())
            start = i + 1
    if script[start:].strip():
        pieces.append(script[start:].strip())
    return pieces


# --- basics ---------------------------------------------------------------------------------


def test_empty_script_gives_no_statements() -> None:
    assert split("") == []


def test_script_of_only_whitespace_and_comments_gives_no_statements() -> None:
    assert split("\n  -- nothing; here\n/* nor; 'here */  \n") == []


def test_statements_are_cut_at_semicolons_with_their_lines() -> None:
    assert split("CREATE TABLE t (a);\nINSERT INTO t VALUES (1);\n\nSELECT a FROM t;") == [
        Statement("CREATE TABLE t (a)", 1),
        Statement("INSERT INTO t VALUES (1)", 2),
        Statement("SELECT a FROM t", 4),
    ]


def test_final_statement_without_semicolon_is_returned() -> None:
    assert texts("SELECT 1;\nSELECT 2") == ["SELECT 1", "SELECT 2"]


def test_empty_statements_and_trailing_comment_are_dropped() -> None:
    assert texts(";;SELECT 1;; ;\nSELECT 2; -- bye; now\n/* really */") == ["SELECT 1", "SELECT 2"]


def test_leading_comments_stay_in_text_but_line_is_the_first_code_line() -> None:
    assert split("SELECT 1;\n/* about\n   t */\n-- more\nCREATE TABLE t (a);")[1] == Statement(
        "/* about\n   t */\n-- more\nCREATE TABLE t (a)", 5
    )


def test_line_numbers_after_multiline_strings_and_comments() -> None:
    script = "INSERT INTO t VALUES ('a\nb');\n/* c\nd */ SELECT [x\ny];\nSELECT 3;"
    assert [s.line for s in split(script)] == [1, 4, 6]


def test_crlf_line_endings() -> None:
    assert split("SELECT 1;\r\n\r\nSELECT 'a;\r\nb';\r\nSELECT 3") == [
        Statement("SELECT 1", 1),
        Statement("SELECT 'a;\r\nb'", 3),
        Statement("SELECT 3", 5),
    ]


def test_utf8_bom_is_ignored() -> None:
    assert split("\ufeffSELECT 1;\nSELECT 2") == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 2),
    ]


# --- strings, identifiers, comments -----------------------------------------------------------


def test_semicolon_inside_string_with_doubled_quote_does_not_split() -> None:
    assert texts("SELECT 'it''s; fine';SELECT 2") == ["SELECT 'it''s; fine'", "SELECT 2"]


def test_backslash_is_not_an_escape() -> None:
    assert texts("SELECT 'C:\\';SELECT 2") == ["SELECT 'C:\\'", "SELECT 2"]


def test_semicolon_inside_quoted_identifiers_does_not_split() -> None:
    script = 'CREATE TABLE "a;""b" ([c;d] INT, `e;``f` TEXT);SELECT 2'
    assert texts(script) == ['CREATE TABLE "a;""b" ([c;d] INT, `e;``f` TEXT)', "SELECT 2"]


def test_quote_characters_inside_brackets_are_plain() -> None:
    assert texts("SELECT [it's \"odd`];SELECT 2") == ["SELECT [it's \"odd`]", "SELECT 2"]


def test_semicolon_inside_line_comment_does_not_split() -> None:
    assert texts("SELECT 1 -- it's; here\n+ 1;SELECT 2") == [
        "SELECT 1 -- it's; here\n+ 1",
        "SELECT 2",
    ]


def test_comments_after_the_last_code_are_not_part_of_the_text() -> None:
    # sqlite3.complete_statement(text + ";") must hold: a kept "-- note" would swallow the ";".
    script = "SELECT 1 -- one; done\n;SELECT /* x */ 2 /* two */;\nSELECT 3 -- end"
    assert texts(script) == ["SELECT 1", "SELECT /* x */ 2", "SELECT 3"]


def test_block_comments_do_not_nest() -> None:
    # The first "*/" closes the comment, so "SELECT 1" is code and the ";" after it splits.
    assert texts("/* a /* b; */ SELECT 1; SELECT 2") == ["/* a /* b; */ SELECT 1", "SELECT 2"]


# --- triggers -----------------------------------------------------------------------------------

TRIGGER = """CREATE TRIGGER audit_insert AFTER INSERT ON accounts
BEGIN
    INSERT INTO audit (what) VALUES ('insert; ' || new.name);
    UPDATE accounts SET tier = CASE WHEN new.balance > 100 THEN 'gold' ELSE 'basic' END
     WHERE id = new.id;
END"""


def test_semicolons_inside_trigger_body_do_not_split() -> None:
    script = f"CREATE TABLE accounts (id, name, balance, tier);\n{TRIGGER};\nSELECT 1;"
    result = split(script)
    assert [s.text for s in result] == [
        "CREATE TABLE accounts (id, name, balance, tier)",
        TRIGGER,
        "SELECT 1",
    ]
    assert [s.line for s in result] == [1, 2, 8]


@pytest.mark.parametrize(
    "head",
    [
        "CREATE TEMP TRIGGER t",
        "create temporary trigger t",
        "CREATE TRIGGER IF NOT EXISTS t",
        "CREATE /* why; not */ TRIGGER t",
        "CREATE\n  TRIGGER\n  t",
    ],
)
def test_trigger_heads(head: str) -> None:
    script = f"{head} AFTER DELETE ON x BEGIN DELETE FROM y; DELETE FROM z; END;SELECT 2"
    assert texts(script) == [
        f"{head} AFTER DELETE ON x BEGIN DELETE FROM y; DELETE FROM z; END",
        "SELECT 2",
    ]


def test_case_end_in_trigger_when_clause_and_body_does_not_close_it() -> None:
    script = (
        "CREATE TRIGGER t BEFORE UPDATE ON x "
        "WHEN CASE WHEN new.a THEN 1 ELSE 0 END BEGIN "
        "SELECT CASE WHEN 1 THEN 2 END; SELECT CASE 1 WHEN 1 THEN 'end;' END; "
        "END;SELECT 2"
    )
    assert len(texts(script)) == 2
    assert texts(script)[0].endswith("'end;' END; END")


def test_comments_between_body_semicolon_and_end() -> None:
    script = "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; -- done;\n/* ; */ END\n;SELECT 2"
    assert texts(script) == [
        "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; -- done;\n/* ; */ END",
        "SELECT 2",
    ]


def test_comment_between_trigger_end_and_semicolon_is_not_part_of_the_text() -> None:
    script = "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END -- t; done\n;SELECT 2"
    assert texts(script) == ["CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END", "SELECT 2"]


def test_trigger_at_end_of_script_without_final_semicolon() -> None:
    assert texts("SELECT 1;\nCREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END") == [
        "SELECT 1",
        "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END",
    ]


def test_trigger_word_elsewhere_does_not_start_a_trigger() -> None:
    script = "CREATE TABLE trigger_log (a);CREATE VIEW v AS SELECT 'CREATE TRIGGER';SELECT 2"
    assert len(texts(script)) == 3


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "line", "fragment"),
    [
        ("SELECT 1;\nSELECT 'abc;", 2, "string"),
        ('SELECT 1;\n\nSELECT "abc', 3, "quoted identifier"),
        ("SELECT `abc", 1, "quoted identifier"),
        ("SELECT 1;\nSELECT [abc;\n", 2, "bracketed identifier"),
        ("SELECT 1;\n\n\n/* never closed", 4, "block comment"),
        ("SELECT 1 /* never\n closed", 1, "block comment"),
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


# --- against sqlite3 itself ---------------------------------------------------------------------

REALISTIC = [
    """-- accounts and their audit trail
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL DEFAULT 'n/a; none',
    balance REAL NOT NULL DEFAULT 0,
    tier TEXT
);
CREATE TABLE audit ([what;] TEXT, "at" TEXT DEFAULT (datetime('now')));
CREATE INDEX accounts_name ON accounts (name);
CREATE TRIGGER audit_insert AFTER INSERT ON accounts
BEGIN
    INSERT INTO audit ([what;]) VALUES ('insert; ' || new.name);
    UPDATE accounts SET tier = CASE WHEN new.balance > 100 THEN 'gold' ELSE 'basic' END
     WHERE id = new.id;
END;
INSERT INTO accounts (name, balance) VALUES ('it''s; me', 150), ('you', 5);
/* a view; with a comment */
CREATE VIEW rich AS SELECT name FROM accounts WHERE tier = 'gold';
""",
    """CREATE TABLE `t;1` ("a""b" INT, c TEXT);
CREATE TEMP TRIGGER tt BEFORE INSERT ON `t;1` WHEN new."a""b" > 0 BEGIN
  SELECT CASE WHEN new.c = 'x' THEN RAISE(ABORT, 'no; x') END;
END;
INSERT INTO `t;1` VALUES (1, 'y');
INSERT INTO `t;1` VALUES (0, 'x') -- trailing; comment
;
PRAGMA user_version = 7;
CREATE TABLE IF NOT EXISTS log (msg TEXT)""",
    """BEGIN;
CREATE TABLE t (a);
CREATE TRIGGER IF NOT EXISTS only_once AFTER UPDATE OF a ON t FOR EACH ROW
WHEN old.a <> new.a
BEGIN
  INSERT INTO t (a) SELECT 'x;' WHERE 0;
  DELETE FROM t WHERE a = 'end';
END;
COMMIT;
""",
]


@pytest.mark.parametrize("script", REALISTIC)
def test_each_statement_is_complete_for_sqlite(script: str) -> None:
    for statement in split(script):
        assert sqlite3.complete_statement(statement.text + ";"), statement.text
    reference = reference_split(script)
    assert len(split(script)) == len(reference)
    for ours, theirs in zip(texts(script), reference, strict=True):
        assert theirs.startswith(ours)  # theirs keeps trailing comments


@pytest.mark.parametrize("script", REALISTIC)
def test_executing_statements_one_by_one_equals_executescript(script: str) -> None:
    one_by_one = sqlite3.connect(":memory:", isolation_level=None)
    whole = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for statement in split(script):
            # execute() refuses text holding more than one statement.
            one_by_one.execute(statement.text)
        whole.executescript(script)
        assert list(one_by_one.iterdump()) == list(whole.iterdump())
    finally:
        one_by_one.close()
        whole.close()


# --- property: generated scripts split back into their statements -----------------------------

_WORDS = st.sampled_from(["SELECT", "x", "1", "+", "(", ")", "END", "CASE", "BEGIN", "end"])
_CONTENT = st.text(alphabet="ab;'\"`[]-/*\\\n E", max_size=12)

_CODE = st.one_of(
    _WORDS,
    _CONTENT.map(lambda c: "'" + c.replace("'", "''") + "'"),
    _CONTENT.map(lambda c: '"' + c.replace('"', '""') + '"'),
    _CONTENT.map(lambda c: "`" + c.replace("`", "``") + "`"),
    _CONTENT.map(lambda c: "[" + c.replace("]", "") + "]"),
)
_COMMENT = st.one_of(
    _CONTENT.map(lambda c: "--" + c.replace("\n", " ") + "\n"),
    _CONTENT.map(lambda c: "/* " + c.replace("*/", "* /") + " */"),
)
_FRAGMENT = st.one_of(_CODE.map(lambda t: (t, False)), _COMMENT.map(lambda t: (t, True)))


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


_SIMPLE = st.builds(
    _statement, st.sampled_from(["SELECT", "INSERT", "UPDATE"]), st.lists(_FRAGMENT, max_size=6)
)
_TRIGGER = st.lists(_SIMPLE, min_size=1, max_size=3).map(
    lambda body: (
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN " + "; ".join(t for t, _ in body) + "; END"
    )
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_SIMPLE, _TRIGGER.map(lambda t: (t, t))), min_size=1, max_size=5))
def test_generated_statements_split_back_exactly(statements: list[tuple[str, str]]) -> None:
    script = ";\n".join(text for text, _ in statements)
    expected = []
    offset = 0
    for text, expected_text in statements:
        expected.append(Statement(expected_text.strip(), script.count("\n", 0, offset) + 1))
        offset += len(text) + 2
    result = split(script)
    assert result == expected
    for statement in result:
        assert sqlite3.complete_statement(statement.text + ";"), statement.text
    reference = reference_split(script)
    assert len(result) == len(reference)
    for ours, theirs in zip(result, reference, strict=True):
        assert theirs.startswith(ours.text)
