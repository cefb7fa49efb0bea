"""Specification of the MySQL/MariaDB script splitter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbfleet.engines.base import Statement
from dbfleet.engines.mysql.split import split
from dbfleet.errors import SplitError


def texts(script: str) -> list[str]:
    return [s.text for s in split(script)]


# --- basics ---------------------------------------------------------------------------------


def test_empty_script_gives_no_statements() -> None:
    assert split("") == []


def test_script_of_only_whitespace_and_comments_gives_no_statements() -> None:
    assert split("  # nothing; here\n-- nor; here\n/* nor 'here; */\n") == []


def test_statements_are_cut_at_semicolons_with_their_lines() -> None:
    assert split("CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n\nSELECT a FROM t;") == [
        Statement("CREATE TABLE t (a INT)", 1),
        Statement("INSERT INTO t VALUES (1)", 2),
        Statement("SELECT a FROM t", 4),
    ]


def test_final_statement_without_semicolon_is_returned() -> None:
    assert texts("SELECT 1;\nSELECT 2\n") == ["SELECT 1", "SELECT 2"]


def test_empty_statements_and_trailing_comment_are_dropped() -> None:
    assert texts(";;SELECT 1;; ;\nSELECT 2; # bye; now\n/* really */") == ["SELECT 1", "SELECT 2"]


def test_leading_comments_stay_in_text_but_line_is_the_first_code_line() -> None:
    assert split("SELECT 1;\n# about t\n/* more\n */\nCREATE TABLE t (a INT);")[1] == Statement(
        "# about t\n/* more\n */\nCREATE TABLE t (a INT)", 5
    )


def test_comments_after_the_last_code_are_not_part_of_the_text() -> None:
    # A caller appending ";" to the text must not land inside a comment.
    script = "SELECT 1 # one; done\n;SELECT /* x */ 2 /* two */;\nSELECT 3 -- end"
    assert texts(script) == ["SELECT 1", "SELECT /* x */ 2", "SELECT 3"]


def test_line_numbers_after_multiline_strings_and_comments() -> None:
    script = "INSERT INTO t VALUES ('a\nb');\n/* c\nd */ SELECT `x\ny`;\nSELECT 3;"
    assert [s.line for s in split(script)] == [1, 4, 6]


def test_crlf_line_endings() -> None:
    script = "SELECT 1;\r\n# c;\r\nSELECT 'a;\r\nb';\r\nDELIMITER $$\r\nSELECT 3$$\r\n"
    assert split(script) == [
        Statement("SELECT 1", 1),
        Statement("# c;\r\nSELECT 'a;\r\nb'", 3),
        Statement("SELECT 3", 6),
    ]


def test_utf8_bom_is_ignored() -> None:
    assert split("\ufeffSELECT 1;\nSELECT 2") == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 2),
    ]


# --- strings and identifiers ---------------------------------------------------------------


@pytest.mark.parametrize("quote", ["'", '"'])
def test_backslash_and_doubled_quote_escapes_inside_strings(quote: str) -> None:
    q = quote
    first = f"SELECT {q}a\\{q};b{q}, {q}c{q}{q};d{q}, {q}e\\\\{q}"
    assert texts(f"{first};SELECT 2") == [first, "SELECT 2"]


def test_backslash_before_the_closing_quote_escapes_it() -> None:
    assert texts("SELECT 'C:\\';' ;SELECT 2") == ["SELECT 'C:\\';'", "SELECT 2"]


def test_semicolon_inside_backtick_identifier_with_doubled_backtick() -> None:
    assert texts("CREATE TABLE `a;``b` (`c\\` INT);SELECT 2") == [
        "CREATE TABLE `a;``b` (`c\\` INT)",
        "SELECT 2",
    ]


# --- comments -----------------------------------------------------------------------------------


def test_semicolon_and_quotes_inside_hash_comment_do_not_split() -> None:
    assert texts("SELECT 1 # it's; here\n+ 1;SELECT 2") == [
        "SELECT 1 # it's; here\n+ 1",
        "SELECT 2",
    ]


@pytest.mark.parametrize("after", [" ", "\t"])
def test_double_dash_followed_by_whitespace_starts_a_comment(after: str) -> None:
    script = f"SELECT 1 --{after}x; 'y\n+ 1;SELECT 2"
    assert texts(script) == [f"SELECT 1 --{after}x; 'y\n+ 1", "SELECT 2"]


def test_double_dash_at_end_of_line_is_an_empty_comment() -> None:
    assert texts("SELECT 1 --\n+ 1;SELECT 2") == ["SELECT 1 --\n+ 1", "SELECT 2"]


def test_double_dash_at_end_of_script_is_a_comment() -> None:
    assert texts("SELECT 1; --") == ["SELECT 1"]


def test_double_dash_without_space_is_arithmetic() -> None:
    assert texts("SELECT 1--1;SELECT 2--'x;y';SELECT 3") == [
        "SELECT 1--1",
        "SELECT 2--'x;y'",
        "SELECT 3",
    ]


def test_block_comments_do_not_nest() -> None:
    assert texts("/* a /* b; */ SELECT 1; SELECT 2") == ["/* a /* b; */ SELECT 1", "SELECT 2"]


def test_executable_comment_is_kept_and_counts_as_code() -> None:
    script = "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET @x = 1 */;\nSELECT 1 /*!50000 + 1 */;"
    assert split(script) == [
        Statement("/*!40101 SET NAMES utf8mb4 */", 1),
        Statement("/*M!100100 SET @x = 1 */", 2),
        Statement("SELECT 1 /*!50000 + 1 */", 3),
    ]


def test_semicolon_inside_executable_comment_does_not_split() -> None:
    assert texts("/*!50003 SET @a = 1; SET @b = 2 */;SELECT 2") == [
        "/*!50003 SET @a = 1; SET @b = 2 */",
        "SELECT 2",
    ]


# --- DELIMITER ----------------------------------------------------------------------------------

PROCEDURE_WITH_DELIMITER = """DELIMITER $$
CREATE PROCEDURE p()
BEGIN
  SELECT 1;
  SELECT 'a$b';
END$$
DELIMITER ;
CALL p();
"""


def test_delimiter_directive_changes_the_statement_terminator() -> None:
    assert split(PROCEDURE_WITH_DELIMITER) == [
        Statement("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 'a$b';\nEND", 2),
        Statement("CALL p()", 8),
    ]


@pytest.mark.parametrize("delimiter", ["$$", "//", ";;", "|", "GO"])
def test_delimiters_of_various_shapes(delimiter: str) -> None:
    script = (
        f"DELIMITER {delimiter}\n"
        f"SELECT 1; SELECT 2{delimiter}\n"
        f"SELECT 3 {delimiter}{delimiter}\n"
        "delimiter ;\n"
        "SELECT 4;"
    )
    assert texts(script) == ["SELECT 1; SELECT 2", "SELECT 3", "SELECT 4"]


def test_delimiter_directive_is_case_insensitive_and_may_be_indented() -> None:
    assert texts("  Delimiter //\nSELECT 1//\n\tDELIMITER ;\nSELECT 2;") == ["SELECT 1", "SELECT 2"]


def test_delimiter_inside_strings_comments_and_executable_comments_does_not_split() -> None:
    script = "DELIMITER $$\nSELECT '$$', `$$` # $$\n, 1 /* $$ */ /*!50000 $$ */$$\nDELIMITER ;"
    assert texts(script) == ["SELECT '$$', `$$` # $$\n, 1 /* $$ */ /*!50000 $$ */"]


def test_delimiter_takes_precedence_over_comment_start() -> None:
    # As in the mysql client: with DELIMITER // the "//" of "//*" ends the statement.
    assert texts("DELIMITER //\nSELECT 1//* not a comment\nDELIMITER ;") == [
        "SELECT 1",
        "* not a comment",
    ]


def test_delimiter_directive_in_the_middle_of_a_statement_ends_it() -> None:
    # The mysql client sends what it has gathered before switching delimiters.
    assert split("SELECT 1\nDELIMITER $$\nSELECT 2$$") == [
        Statement("SELECT 1", 1),
        Statement("SELECT 2", 3),
    ]


def test_delimiter_word_not_at_line_start_is_text() -> None:
    assert texts("SELECT delimiter FROM t; SELECT 1 AS x, delimiter ; SELECT 3") == [
        "SELECT delimiter FROM t",
        "SELECT 1 AS x, delimiter",
        "SELECT 3",
    ]


def test_delimiter_directive_without_argument_raises() -> None:
    with pytest.raises(SplitError) as info:
        split("SELECT 1;\nDELIMITER   \nSELECT 2;")
    assert info.value.line == 2


def test_delimiter_with_backslash_raises() -> None:
    with pytest.raises(SplitError):
        split("DELIMITER \\\\\nSELECT 1")


# --- compound statements without DELIMITER ----------------------------------------------------

PROCEDURE = """CREATE DEFINER=`root`@`localhost` PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE v INT DEFAULT IF(n > 10, 10, n);
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; END;
  DROP TEMPORARY TABLE IF EXISTS tmp;
  outer_loop: LOOP
    SET i = i + 1;
    IF i > v THEN
      LEAVE outer_loop;
    ELSEIF i = 3 THEN
      ITERATE outer_loop;
    ELSE
      INSERT INTO t VALUES (i, CASE WHEN i % 2 = 0 THEN 'even;' ELSE 'odd' END);
    END IF;
  END LOOP outer_loop;
  IF NOT EXISTS (SELECT 1 FROM t) THEN
    INSERT INTO t VALUES (0, 'none');
  END IF;
  CASE v
    WHEN 1 THEN SELECT 'one';
    ELSE BEGIN END;
  END CASE;
  REPEAT SET i = i - 1; UNTIL i <= 0 END REPEAT;
  WHILE i < 3 DO SET i = i + 1; END WHILE;
  SELECT REPEAT('x', 3), IF(i > 0, 'pos', 'neg');
END"""


def test_procedure_body_without_delimiter_is_one_statement() -> None:
    script = f"SELECT 1;\n{PROCEDURE};\nCALL fill(5);"
    assert split(script) == [
        Statement("SELECT 1", 1),
        Statement(PROCEDURE, 2),
        Statement("CALL fill(5)", 2 + PROCEDURE.count("\n") + 1),
    ]


@pytest.mark.parametrize(
    "head",
    [
        "CREATE PROCEDURE p()",
        "create procedure p()",
        "CREATE DEFINER=root@localhost PROCEDURE p()",
        "CREATE DEFINER = 'admin'@'%' PROCEDURE p()",
        "CREATE DEFINER=CURRENT_USER PROCEDURE p()",
        "CREATE DEFINER=CURRENT_USER() PROCEDURE p()",
        "CREATE OR REPLACE DEFINER=`a`@`b` PROCEDURE p()",
        "CREATE PROCEDURE IF NOT EXISTS p()",
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC",
        "CREATE AGGREGATE FUNCTION f(x INT) RETURNS INT",
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO",
    ],
)
def test_routine_heads(head: str) -> None:
    body = "BEGIN DECLARE a INT; SET a = 1; END"
    assert texts(f"{head}\n{body};SELECT 2") == [f"{head}\n{body}", "SELECT 2"]


def test_labelled_block() -> None:
    script = "CREATE PROCEDURE p() lbl: BEGIN SELECT 1; LEAVE lbl; END lbl;SELECT 2"
    assert texts(script) == [
        "CREATE PROCEDURE p() lbl: BEGIN SELECT 1; LEAVE lbl; END lbl",
        "SELECT 2",
    ]


def test_trigger_whose_body_is_an_if_statement() -> None:
    script = (
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW "
        "IF NEW.a < 0 THEN SET NEW.a = 0; ELSE SET NEW.b = 1; END IF;SELECT 2"
    )
    assert len(texts(script)) == 2


def test_trigger_with_single_statement_body_using_if_function() -> None:
    script = (
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = IF(NEW.a < 0, 0, NEW.a);"
        "SELECT 2"
    )
    assert texts(script)[1] == "SELECT 2"


@pytest.mark.parametrize(
    "head",
    [
        "CREATE PROCEDURE p(x INT)",
        "CREATE PROCEDURE p(x INT) DETERMINISTIC",
        "CREATE PROCEDURE p(x INT) COMMENT 'x; y'",
        "CREATE PROCEDURE p(x INT) MODIFIES SQL DATA",
        "CREATE PROCEDURE p(x INT) SQL SECURITY INVOKER",
    ],
)
def test_routine_whose_body_is_an_if_statement(head: str) -> None:
    script = f"{head} IF x > 0 THEN SELECT 1; END IF;SELECT 2"
    assert texts(script) == [f"{head} IF x > 0 THEN SELECT 1; END IF", "SELECT 2"]


def test_procedure_whose_body_is_a_loop_without_begin() -> None:
    script = "CREATE PROCEDURE p() l: LOOP SELECT 1; LEAVE l; END LOOP l;SELECT 2"
    assert texts(script)[1] == "SELECT 2"


def test_function_with_case_expression_and_no_block() -> None:
    script = "CREATE FUNCTION f(x INT) RETURNS INT RETURN CASE WHEN x THEN 1 ELSE 0 END;SELECT 2"
    assert texts(script)[1] == "SELECT 2"


def test_if_function_inside_case_expression_after_then() -> None:
    script = (
        "CREATE PROCEDURE p(x INT) BEGIN "
        "SELECT CASE WHEN x THEN IF(x > 1, 'a', 'b') ELSE IF (x < 0, 'c', 'd') END; "
        "END;SELECT 2"
    )
    assert texts(script)[1] == "SELECT 2"


def test_misread_if_function_does_not_keep_the_body_open() -> None:
    # After DO an IF reads like the IF statement; the body must close all the same.
    script = "CREATE PROCEDURE p(x INT) BEGIN DO IF(x, SLEEP(0), 0); SET @y = 1; END;SELECT 2"
    assert texts(script)[1] == "SELECT 2"


def test_end_used_as_a_column_name_inside_a_body() -> None:
    script = "CREATE PROCEDURE p() BEGIN SELECT start, end FROM spans; END;SELECT 2"
    assert texts(script) == [
        "CREATE PROCEDURE p() BEGIN SELECT start, end FROM spans; END",
        "SELECT 2",
    ]


def test_block_words_in_strings_comments_and_identifiers_do_not_count() -> None:
    script = (
        "CREATE PROCEDURE p() BEGIN SELECT 'END;', `begin`, begin_at, x_end # END;\n"
        "FROM t; /* END; */ END;SELECT 2"
    )
    assert texts(script)[1] == "SELECT 2"


@pytest.mark.parametrize("sql", ["BEGIN", "BEGIN WORK", "begin"])
def test_transaction_begin_at_top_level_is_a_plain_statement(sql: str) -> None:
    assert texts(f"{sql};\nINSERT INTO t VALUES (1);\nCOMMIT;") == [
        sql,
        "INSERT INTO t VALUES (1)",
        "COMMIT",
    ]


def test_mariadb_anonymous_compound_statements() -> None:
    script = (
        "BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1; SELECT x; END;\n"
        "IF (SELECT COUNT(*) FROM t) = 0 THEN INSERT INTO t VALUES (1); END IF;\n"
        "SELECT 3"
    )
    assert len(texts(script)) == 3


def test_mysqldump_trigger_with_executable_comments() -> None:
    script = """/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `trg` BEFORE INSERT ON `t`
FOR EACH ROW BEGIN
  SET NEW.a = 1;
END */;;
DELIMITER ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
"""
    result = split(script)
    assert [s.line for s in result] == [1, 3, 8]
    assert result[1].text.endswith("SET NEW.a = 1;\nEND */")


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "line", "fragment"),
    [
        ("SELECT 1;\nSELECT 'abc;", 2, "string"),
        ("SELECT 1;\nSELECT 'ab\\';", 2, "string"),
        ('SELECT 1;\n\nSELECT "abc', 3, "string"),
        ("SELECT `abc", 1, "quoted identifier"),
        ("SELECT 1;\n\n\n/* never closed", 4, "block comment"),
        ("SELECT 1 /*! never\n closed", 1, "block comment"),
        ("CREATE PROCEDURE p() BEGIN\nSELECT 'x; END;", 2, "string"),
        ("DELIMITER $$\nSELECT 1$$\nSELECT `x$$", 3, "quoted identifier"),
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


# --- property: generated scripts split back into their statements -----------------------------

_WORDS = ["SELECT", "x", "1", "+", "(", ")", "1--1", "IF", "END", "CASE", "BEGIN", "@v"]
_CONTENT = st.text(alphabet="ab;'\"`$/-#*\\\n E", max_size=12)


@st.composite
def _string(draw: st.DrawFn) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    content = draw(_CONTENT).replace("\\", "\\\\")
    escaped = draw(st.sampled_from(["\\" + quote, quote + quote]))
    return quote + content.replace(quote, escaped) + quote


_CODE = st.one_of(
    st.sampled_from(_WORDS),
    _string(),
    _CONTENT.map(lambda c: "`" + c.replace("`", "``") + "`"),
    _CONTENT.map(lambda c: "/*!50003 " + c.replace("*/", "* /") + " */"),
)
_COMMENT = st.one_of(
    _CONTENT.map(lambda c: "# " + c.replace("\n", " ") + "\n"),
    _CONTENT.map(lambda c: "-- " + c.replace("\n", " ") + "\n"),
    _CONTENT.map(lambda c: "/* " + c.replace("*/", "* /") + " */"),
)
_FRAGMENT = st.one_of(_CODE.map(lambda t: (t, False)), _COMMENT.map(lambda t: (t, True)))
_COMPOUND = st.sampled_from(
    [
        "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 'a;'; END IF; END",
        "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW BEGIN SET @a = IF(1, 2, 3); END",
        "CREATE FUNCTION f() RETURNS INT BEGIN l: LOOP LEAVE l; END LOOP; RETURN 1; END",
    ]
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


_STATEMENT = st.one_of(
    st.builds(
        _statement, st.sampled_from(["SELECT", "INSERT", "UPDATE"]), st.lists(_FRAGMENT, max_size=6)
    ),
    _COMPOUND.map(lambda text: (text, text)),
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([";", "$$", "//", ";;"]),
    st.lists(_STATEMENT, min_size=1, max_size=5),
)
def test_generated_statements_split_back_exactly(
    delimiter: str, statements: list[tuple[str, str]]
) -> None:
    header = "" if delimiter == ";" else f"DELIMITER {delimiter}\n"
    script = header + f"{delimiter}\n".join(text for text, _ in statements)
    expected = []
    offset = len(header)
    for text, expected_text in statements:
        expected.append(Statement(expected_text.strip(), script.count("\n", 0, offset) + 1))
        offset += len(text) + len(delimiter) + 1
    assert split(script) == expected
