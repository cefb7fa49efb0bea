"""MySQL/MariaDB script splitter: DELIMITER directives and compound-statement bodies."""

from __future__ import annotations

import re
from functools import lru_cache

from dbfleet.engines.base import Statement
from dbfleet.errors import SplitError

# Quoted tokens. Strings take both backslash escapes and doubled quotes; possessive quantifiers
# keep "''" an escape rather than "close, then reopen" (the server reads the longest match).
_SINGLE = r"'(?:[^'\\]++|\\.|'')*+'"
_DOUBLE = r'"(?:[^"\\]++|\\.|"")*+"'
_BACKTICK = r"`[^`]*+(?:``[^`]*+)*+`"
# "-- " starts a comment only when a space or control character (or the end) follows: 1--1 is
# arithmetic.
_DASH_COMMENT = r"--(?=[\x00-\x20]|\Z)[^\n]*+"
_HASH_COMMENT = r"\#[^\n]*+"
# A newline is ordinary unless the next line is a client DELIMITER directive, which the mysql
# client honours even in the middle of a statement (it sends what it has gathered first).
_DIRECTIVE_AHEAD = r"(?![ \t]*(?i:delimiter)[ \t])"

_DIRECTIVE = re.compile(r"delimiter(?=[ \t\r\n]|\Z)([^\n]*)", re.IGNORECASE)
_NON_SPACE = re.compile(r"\S")
_TRIVIA_COMMENT = re.compile(rf"{_HASH_COMMENT}|{_DASH_COMMENT}")

_UNTERMINATED = {"'": "string", '"': "string", "`": "quoted identifier"}
_QUOTE_REST = {
    "'": re.compile(_SINGLE[1:], re.DOTALL),
    '"': re.compile(_DOUBLE[1:], re.DOTALL),
    "`": re.compile(_BACKTICK[1:]),
}


@lru_cache(maxsize=16)
def _plain_run(delimiter: str) -> re.Pattern[str]:
    """A regex for a run of code (no comments) in which `delimiter` cannot end the statement.

    The delimiter is tested first at every special character, as the mysql client does: with
    DELIMITER // the text "//*" ends a statement rather than opening a comment.
    """
    first = delimiter[0]
    specials = "'\"`#-/\n" + first
    plain_class = (
        "[^" + "".join("\\" + c if c in "\\]^-[" else c for c in sorted(set(specials))) + "]++"
    )
    alternatives = [_SINGLE, _DOUBLE, _BACKTICK, "-(?!-(?:[\\x00-\\x20]|\\Z))", "/(?!\\*)"]
    alternatives.append("\n" + _DIRECTIVE_AHEAD)
    if len(delimiter) > 1 and first not in specials[:-1]:
        alternatives.append(re.escape(first))  # e.g. one "$" when the delimiter is "$$"
    guarded = "|".join(alternatives)
    return re.compile(rf"(?:{plain_class}|(?!{re.escape(delimiter)})(?:{guarded}))*+", re.DOTALL)


# Any non-ASCII character is an identifier character. Written as the negated ASCII class: the
# range \u0080-\U0010ffff takes milliseconds to compile (with IGNORECASE) on every start.
_IDENT_CHAR = r"(?:[0-9A-Za-z_$]|[^\x00-\x7f])"
_IDENT_END = rf"(?!{_IDENT_CHAR})"
# Compound statements (stored programs, default delimiter) also stop the run at the words that
# open or close blocks.
_BLOCK_WORD = rf"(?<!{_IDENT_CHAR})(?i:begin|end|case|if|loop|while|repeat){_IDENT_END}"
_BLOCK_WORD_AT = re.compile(_BLOCK_WORD)
_COMPOUND_RUN = re.compile(
    r"(?:[^;'\"`#\-/\nbBcCeEiIlLwWrR]++|"
    + "|".join([_SINGLE, _DOUBLE, _BACKTICK, r"-(?!-(?:[\x00-\x20]|\Z))", r"/(?!\*)"])
    + rf"|\n{_DIRECTIVE_AHEAD}|(?!{_BLOCK_WORD})[bBcCeEiIlLwWrR])*+",
    re.DOTALL,
)
_TRAILING_WORD = re.compile(rf"{_IDENT_CHAR}+\Z")
_CLOSER = re.compile(rf"\s+(if|loop|while|repeat|case){_IDENT_END}", re.IGNORECASE)
_PAREN_AHEAD = re.compile(r"\s*\(")

_USER_PART = r"""(?:'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|[\w.$%-]+)"""
_ROUTINE_HEAD = re.compile(
    rf"""
    create\s+
    (?:or\s+replace\s+)?
    (?:definer\s*=\s*(?:current_user(?:\s*\(\s*\))?|{_USER_PART}(?:\s*@\s*{_USER_PART})?)\s*)?
    (?:aggregate\s+)?
    (?:procedure|function|trigger|event){_IDENT_END}
    """,
    re.IGNORECASE | re.VERBOSE,
)
# MariaDB also runs compound statements outside stored programs (BEGIN NOT ATOMIC, IF, loops).
_COMPOUND_START = re.compile(
    rf"""
    (?:[0-9A-Za-z_$]+\s*:(?!=)\s*)?
    (?:begin\s+not\s+atomic|if|case|loop|while|repeat(?!\s*\())
    {_IDENT_END}
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Tokens after which an IF is the IF statement, not the IF() function or IF [NOT] EXISTS.
_STATEMENT_START = frozenset({";", "BEGIN", "THEN", "ELSE", "DO", "ROW", "LOOP", "REPEAT", ":"})
# Before the body opens, a routine header ends with a parameter list, a characteristic or a
# COMMENT '...' string.
_HEADER_END = frozenset({")", "DETERMINISTIC", "SQL", "DATA", "DEFINER", "INVOKER", "'"})


def _line_of(script: str, pos: int) -> int:
    return script.count("\n", 0, pos) + 1


def _is_executable_comment(script: str, pos: int) -> bool:
    return script.startswith(("/*!", "/*M!"), pos)


def _skip_trivia(script: str, pos: int) -> int:
    """Return the index of the first character at or after `pos` that is not space or comment.

    Executable comments (/*! ... */, MariaDB's /*M! ... */) are statement text, not trivia.
    """
    n = len(script)
    while True:
        m = _NON_SPACE.search(script, pos)
        if m is None:
            return n
        pos = m.start()
        comment = _TRIVIA_COMMENT.match(script, pos)
        if comment is not None:
            pos = comment.end()
        elif script.startswith("/*", pos) and not _is_executable_comment(script, pos):
            close = script.find("*/", pos + 2)
            if close < 0:
                raise SplitError.unterminated(script, pos, "block comment")
            pos = close + 2
        else:
            return pos


def _at_line_start(script: str, pos: int) -> bool:
    line_start = script.rfind("\n", 0, pos) + 1
    return script[line_start:pos].strip(" \t") == ""


def _scan_plain(script: str, pos: int, delimiter: str) -> tuple[int, int]:
    """Scan the statement starting at `pos`; return (end of its code, where scanning resumes).

    The end of its code excludes the delimiter and any comment after the last code token: a
    trailing "# note" kept in the text would swallow a delimiter that a caller appends.
    """
    n = len(script)
    run_regex = _plain_run(delimiter)
    code_end = pos
    while True:
        run = run_regex.match(script, pos)
        start = run.end() if run else pos
        if start > pos and _NON_SPACE.search(script, pos, start) is not None:
            code_end = start
        if start >= n:
            return code_end, n
        if script.startswith(delimiter, start):
            return code_end, start + len(delimiter)
        ch = script[start]
        if ch == "\n":  # a DELIMITER directive starts on the next line
            return code_end, start
        if ch in "#-":  # a line comment; its newline goes back to the run (a directive may follow)
            newline = script.find("\n", start)
            if newline < 0:
                return code_end, n
            pos = newline
        elif ch == "/":
            close = script.find("*/", start + 2)
            if close < 0:
                raise SplitError.unterminated(script, start, "block comment")
            pos = close + 2
            if _is_executable_comment(script, start):
                code_end = pos
        else:
            raise SplitError.unterminated(script, start, _UNTERMINATED[ch])


def _scan_compound(script: str, pos: int, initial_prev: str) -> tuple[int, int]:
    """Scan a statement holding BEGIN ... END style blocks (default delimiter ";").

    Returns what _scan_plain returns. `initial_prev` stands for the token before the statement
    as far as block detection goes: ";" when the statement itself starts with a block (MariaDB),
    "" for CREATE PROCEDURE and friends.
    """
    n = len(script)
    floor = code_end = pos
    blocks: list[str] = []  # open BEGIN, CASE, IF, LOOP, WHILE, REPEAT, innermost last
    while True:
        run = _COMPOUND_RUN.match(script, pos)
        start = run.end() if run else pos
        if start > pos and _NON_SPACE.search(script, pos, start) is not None:
            code_end = start
        if start >= n:
            return code_end, n
        ch = script[start]
        if ch == ";":
            if not blocks:
                return code_end, start + 1
            pos = code_end = start + 1
        elif ch == "\n":  # a DELIMITER directive starts on the next line
            return code_end, start
        elif ch in "#-":
            newline = script.find("\n", start)
            if newline < 0:
                return code_end, n
            pos = newline
        elif ch == "/":
            close = script.find("*/", start + 2)
            if close < 0:
                raise SplitError.unterminated(script, start, "block comment")
            pos = close + 2
            if _is_executable_comment(script, start):
                code_end = pos
        elif ch in _UNTERMINATED:
            raise SplitError.unterminated(script, start, _UNTERMINATED[ch])
        else:
            word_match = _BLOCK_WORD_AT.match(script, start)
            assert word_match is not None  # the run stops at letters only before such a word
            pos = word_match.end()
            word = word_match.group().upper()
            prev = _prev_token(script, code_end, floor, initial_prev)
            if word == "END":
                pos = _close_block(script, pos, blocks, prev)
            elif word in ("BEGIN", "CASE", "LOOP", "WHILE"):
                blocks.append(word)
            elif word == "REPEAT":
                if _PAREN_AHEAD.match(script, pos) is None:  # not the REPEAT() function
                    blocks.append(word)
            elif _opens_if_block(script, pos, prev, blocks):
                blocks.append(word)
            code_end = pos


def _prev_token(script: str, end: int, floor: int, initial: str) -> str:
    """The code token ending at `end` (a word upper-cased, else its last character)."""
    while end > floor and script[end - 1].isspace():
        end -= 1
    if end <= floor:
        return initial
    word = _TRAILING_WORD.search(script, max(floor, end - 64), end)
    return word.group().upper() if word else script[end - 1]


def _opens_if_block(script: str, pos: int, prev: str, blocks: list[str]) -> bool:
    """Is the IF just read (ending at `pos`) an IF statement, closed by END IF?"""
    if prev in _STATEMENT_START:
        # CASE WHEN x THEN IF(a, b, c) ...: after THEN/ELSE inside a CASE, IF( is the function.
        return not (
            prev in ("THEN", "ELSE")
            and blocks
            and blocks[-1] == "CASE"
            and _PAREN_AHEAD.match(script, pos) is not None
        )
    return not blocks and prev in _HEADER_END


def _close_block(script: str, pos: int, blocks: list[str], prev: str) -> int:
    """Handle the END just read (ending at `pos`); return where scanning resumes."""
    closer = _CLOSER.match(script, pos)
    if closer is not None:  # END IF, END LOOP, END WHILE, END REPEAT, END CASE
        _pop_to(blocks, closer.group(1).upper())
        return closer.end()
    # A bare END closes a CASE expression, or a BEGIN block once its last statement ended with
    # ";" (or the block is empty); blocks still open inside that BEGIN were misread IF() calls.
    # Anything else is END used as a column name.
    if blocks and blocks[-1] == "CASE":
        blocks.pop()
    elif prev in (";", "BEGIN") and "BEGIN" in blocks:
        _pop_to(blocks, "BEGIN")
    return pos


def _pop_to(blocks: list[str], kind: str) -> None:
    """Close the innermost open block of `kind` and everything opened inside it."""
    for i in range(len(blocks) - 1, -1, -1):
        if blocks[i] == kind:
            del blocks[i:]
            return


def _directive_delimiter(script: str, start: int, rest: str) -> str:
    words = rest.split()
    problem = "names no delimiter" if not words else "cannot contain a backslash"
    if words and "\\" not in words[0]:
        return words[0]
    line = _line_of(script, start)
    raise SplitError(f"DELIMITER on line {line} {problem}", line)


def split(script: str) -> list[Statement]:
    """Cut a MySQL/MariaDB script into statements, honouring the client's DELIMITER directive."""
    if script.startswith("\ufeff"):
        script = script[1:]
    statements: list[Statement] = []
    n = len(script)
    delimiter = ";"
    pos = 0
    line = 1
    counted = 0  # `line` is the line number of index `counted`
    while pos < n:
        first = _skip_trivia(script, pos)
        if first >= n:
            break
        if script[first] in "dD" and _at_line_start(script, first):
            directive = _DIRECTIVE.match(script, first)
            if directive is not None:
                delimiter = _directive_delimiter(script, first, directive.group(1))
                pos = directive.end()
                continue
        if script.startswith(delimiter, first):  # an empty statement, e.g. ";;"
            pos = first + len(delimiter)
            continue
        if delimiter != ";":
            # Under a custom delimiter only the delimiter ends a statement, as in the client.
            end, pos_after = _scan_plain(script, first, delimiter)
        elif _ROUTINE_HEAD.match(script, first):
            end, pos_after = _scan_compound(script, first, "")
        elif _COMPOUND_START.match(script, first):
            end, pos_after = _scan_compound(script, first, ";")
        else:
            end, pos_after = _scan_plain(script, first, delimiter)
        line += script.count("\n", counted, first)
        counted = first
        statements.append(Statement(script[pos:end].strip(), line))
        pos = pos_after
    return statements
