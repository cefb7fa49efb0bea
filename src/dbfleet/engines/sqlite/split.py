"""SQLite script splitter: cuts a script where sqlite3_complete() would say a statement ends."""

from __future__ import annotations

import re

from dbfleet.engines.base import Statement, cut_statements
from dbfleet.errors import SplitError

# A run of text that cannot end a statement: anything but the characters that may start a quote or
# a comment, plus complete quoted tokens. SQLite has no escapes inside quotes: 'it''s' is two
# adjacent quoted runs as far as finding the end goes, which the repetition covers.
_PLAIN_RUN = re.compile(
    r"""(?:[^;'"`\[\-/]++|-(?!-)|/(?!\*)|'[^']*+'|"[^"]*+"|`[^`]*+`|\[[^\]]*+\])*+"""
)
_NON_SPACE = re.compile(r"\S")

# SQLite identifiers: letters, digits, "_", "$" and every non-ASCII character.
# Any non-ASCII character continues an identifier. Written as the negated ASCII class: the range
# \u0080-\U0010ffff takes milliseconds to compile (with IGNORECASE) on every start that splits.
_IDENT_END = r"(?![\w$]|[^\x00-\x7f])"
_GAP = r"(?:\s|--[^\n]*(?:\n|\Z)|/\*(?:[^*]|\*(?!/))*\*/)+"
# sqlite3_complete() treats exactly this prefix as the start of a trigger, whose body holds ";".
_TRIGGER_HEAD = re.compile(
    rf"(?:explain{_GAP})?create{_GAP}(?:temp{_GAP}|temporary{_GAP})?trigger{_IDENT_END}",
    re.IGNORECASE,
)
_END_WORD = re.compile(rf"end{_IDENT_END}", re.IGNORECASE)

_UNTERMINATED = {
    "'": "string",
    '"': "quoted identifier",
    "`": "quoted identifier",
    "[": "bracketed identifier",
}


def _skip_trivia(script: str, pos: int) -> int:
    """Return the index of the first character at or after `pos` that is not space or comment."""
    n = len(script)
    while True:
        m = _NON_SPACE.search(script, pos)
        if m is None:
            return n
        pos = m.start()
        if script.startswith("--", pos):
            newline = script.find("\n", pos)
            if newline < 0:
                return n
            pos = newline + 1
        elif script.startswith("/*", pos):
            close = script.find("*/", pos + 2)
            if close < 0:
                raise SplitError.unterminated(script, pos, "block comment")
            pos = close + 2
        else:
            return pos


def _scan_statement(script: str, pos: int, trigger: bool) -> tuple[int, int]:
    """Scan the statement starting at `pos`; return (end of its code, where the next one starts).

    The end of its code excludes the ";" and any comment after the last code token: a trailing
    "-- note" kept in the text would swallow a ";" that a caller appends.

    Inside CREATE TRIGGER, as in sqlite3_complete(), only a ";" that follows "; END" ends the
    statement. CASE ... END needs no tracking: the END closing a trigger body always directly
    follows the ";" of the body's last statement, and a CASE's END never does.
    """
    n = len(script)
    code_end = pos
    while True:
        run = _PLAIN_RUN.match(script, pos)
        start = run.end() if run else pos
        if start > pos and _NON_SPACE.search(script, pos, start) is not None:
            code_end = start
        if start >= n:
            return code_end, n
        ch = script[start]
        if ch == ";":
            if not trigger:
                return code_end, start + 1
            code_end = start + 1
            pos = _skip_trivia(script, code_end)
            end_word = _END_WORD.match(script, pos)
            if end_word is not None:
                closing = _skip_trivia(script, end_word.end())
                if closing >= n:
                    return end_word.end(), n
                if script[closing] == ";":
                    return end_word.end(), closing + 1
        elif ch == "-":  # the run stops at a dash only where "--" starts a comment
            newline = script.find("\n", start)
            if newline < 0:
                return code_end, n
            pos = newline + 1
        elif ch == "/":  # likewise "/*"
            close = script.find("*/", start + 2)
            if close < 0:
                raise SplitError.unterminated(script, start, "block comment")
            pos = close + 2
        else:  # the run stops at a quote only when it is never closed
            raise SplitError.unterminated(script, start, _UNTERMINATED[ch])


def split(script: str) -> list[Statement]:
    """Cut an SQLite script into statements."""

    def scan(text: str, start: int) -> tuple[int, int]:
        return _scan_statement(text, start, _TRIGGER_HEAD.match(text, start) is not None)

    return cut_statements(script, _skip_trivia, scan)
